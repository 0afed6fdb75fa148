"""The reconciliation's price list check: the fixed price a market's list holds for a bound variant
against the one the prices flow set there (jobs.price_lists). The flow sends a list price only when
the ERP's changes, so one edited or removed by hand in the admin, or a write lost, stays wrong for
ever otherwise; and a list deleted in Shopify shows only when a call for it is refused, which an
ERP with no price change never makes: the market sells at the base prices, unseen.

Compared, per list of a pair still mapped (its "price_list" binding; a list whose pair is no longer
mapped is the prices flow's to empty): the day's sample of the prices the flow sent there (the stock
sample's size and turn: jobs.reconcile._window, given as `window`), each "list_price" binding's ERP
record made the list's price by the flow's own rule (jobs.price_map.target_price, the variant's
unit), read back 50 a call (PriceList.prices filtered by variant_id). Not compared: a price not sent
yet or refused (no digest), none in the ERP (NO_PRICE), one a person settled by hand, one due again
today (a promotion starting or ending: the pass is about to send it), one sent to another variant
than the one bound now. Amounts are equal to the cent.

Found: a fixed price missing (the market shows the base price) or not the ERP's; the row names the
market, its list and both sides, and the price is made due again (no digest, recheck today), so the
next prices pass sends it whatever it remembers: the ERP owns the prices of the pairs a merchant
maps to markets. A list deleted in Shopify is forgotten (jobs.price_list_gone.forget: the next pass
makes it again and sends every price of its pair); its row says so. A prices pass running meanwhile
is not undone: the check makes due what the binding holds when it writes (its rows locked), never the
copy it read before asking Shopify, and leaves a price the pass sent since (its digest changed) as
the pass left it: the ERP's newer price, never the one the check had read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from jobs import price_list_gone
from jobs.price_list_setup import LIST_KIND
from jobs.price_lists import NO_PRICE, ListTarget, targets
from jobs.price_map import SETTLED_BY_HAND, PriceState, cents, target_price, unit_factor
from jobs.reconcile_prices import Expected, price_differs
from ledger.bindings import LIST_PRICE_KIND
from ledger.db import session_scope
from ledger.errors import IntegrationError
from ledger.models import Binding
from ledger.words import beside
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.price_list_prices import PriceListGone, fixed_prices

SENT_AGAIN = (
    "the ERP's price is sent again to the list by the next prices pass",
    ("recon_list_price_sent_again", {}),
)
MISSING = (
    "no fixed price on the market's list: the market shows the base price",
    ("recon_list_price_missing", {}),
)
GONE = ("price list deleted in Shopify: the market shows the base prices", ("recon_price_list_deleted", {}))
MADE_AGAIN = (
    "made again by the next prices pass, with every price of its pair",
    ("recon_price_list_made_again", {}),
)


@dataclass(frozen=True)
class _Sent:
    """A list price the flow sent: its binding, its variant and what the list should hold."""

    erp_id: str
    variant_id: str
    expected: Expected
    digest: str


def check(
    shop_id: int,
    client: AdminClient,
    variants: dict[str, tuple[str, dict[str, Any]]],
    window: Callable[[list[str]], list[str]],
    today: date,
    listed: int,
) -> dict[str, Any]:
    """The catalog section's list price part (module docstring): how many prices were compared, the
    rows found (the first `listed`) and their count. `variants`: {idSku: (variant id, its binding
    data)}. Raises IntegrationError (Shopify unreadable: the section says so)."""
    mapped = {t.key: t for t in targets(shop_id)}
    with session_scope() as session:
        lists = sorted(
            (b.erp_id, str(b.shopify_id))
            for b in session.scalars(
                select(Binding).where(Binding.shop_id == shop_id, Binding.kind == LIST_KIND)
            )
            if b.erp_id in mapped and b.shopify_id
        )
    if not lists:
        return {}
    names = _names(client)
    rows: list[dict[str, Any]] = []
    due: list[_Sent] = []
    checked = 0
    for key, list_id in lists:
        target = mapped[key]
        market = names.get(target.market_id, target.market_id)
        sent = _sent(shop_id, list_id, variants, today)
        chosen = window(sorted(sent))
        try:
            held = fixed_prices(client, list_id, [sent[s].variant_id for s in chosen]) if chosen else {}
        except PriceListGone:
            price_list_gone.forget(shop_id, client, key, target.scope, list_id)
            rows.append(_gone_row(target, market, list_id))
            continue
        checked += len(chosen)
        for sku in chosen:
            row = _differs(sku, sent[sku], held.get(sent[sku].variant_id), market, list_id)
            if row is not None:
                rows.append(row)
                due.append(sent[sku])
    _send_again(shop_id, due, today)
    return {
        "list_prices_checked": checked,
        "list_prices_differ": rows[:listed],
        "list_prices_differ_count": len(rows),
    }


def _sent(
    shop_id: int, list_id: str, variants: dict[str, tuple[str, dict[str, Any]]], today: date
) -> dict[str, _Sent]:
    """{idSku: what the list should hold} for the list's prices the check compares."""
    prefix = f"{list_id.rsplit('/', 1)[-1]}:"
    found: dict[str, _Sent] = {}
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(
                Binding.shop_id == shop_id,
                Binding.kind == LIST_PRICE_KIND,
                Binding.erp_id.like(f"{prefix}%"),
                Binding.digest.is_not(None),
            )
        )
        for b in rows:
            sku, data = b.erp_id.removeprefix(prefix), dict(b.data or {})
            variant_id, variant_data = variants.get(sku, (None, {}))
            if b.digest == NO_PRICE or not variant_id or b.shopify_id != variant_id or "normal" not in data:
                continue
            due = data.get("recheck_on")
            if SETTLED_BY_HAND in data or (due and due <= today.isoformat()):
                continue
            state = PriceState.from_data({"id_sku": sku, "seq_produto": 0, **data})
            target = target_price(state, today, unit_factor(variant_data))
            if target.price is None:
                continue
            compare_at = None if target.compare_at is None else cents(target.compare_at)
            expected = Expected(cents(target.price), compare_at, "")
            found[sku] = _Sent(b.erp_id, variant_id, expected, b.digest)
    return found


def _differs(sku: str, sent: _Sent, held: Any, market: str, list_id: str) -> dict[str, Any] | None:
    """The row when the list does not hold the ERP's price (None: in step)."""
    where = {"market": market, "price_list": list_id}
    fix = beside("fix", *SENT_AGAIN)
    if held is None:
        erp_compare = "none" if sent.expected.compare_at is None else str(sent.expected.compare_at)
        return {"sku": sku, "variant": sent.variant_id, **where, "shopify": "none",
                "erp": str(sent.expected.price), "shopify_compare_at": "none", "erp_compare_at": erp_compare,
                **beside("why", *MISSING), **fix}  # fmt: skip
    row = price_differs(sku, sent.variant_id, sent.expected, held.price, held.compare_at, fix=SENT_AGAIN)
    return None if row is None else {"sku": row.pop("sku"), "variant": row.pop("variant"), **where, **row}


def _gone_row(target: ListTarget, market: str, list_id: str) -> dict[str, Any]:
    return {
        "market": market,
        "price_list": list_id,
        "pair": f"{target.company}:{target.segment}",
        **beside("why", *GONE),
        **beside("fix", *MADE_AGAIN),
    }


def _send_again(shop_id: int, rows: list[_Sent], today: date) -> None:
    """The prices found made due again: no digest (whatever the flow remembers, it sends), the
    recheck today (the next pass takes them though their ERP rows are behind its watermark). Each
    binding as it stands now, its row locked (a prices pass writing it waits): one a pass sent again
    since the check read it (another digest, another variant) holds the ERP's newer price, sent:
    left alone; the others keep what a pass stored meanwhile, only made due."""
    if not rows:
        return
    read = {r.erp_id: r for r in rows}
    with session_scope() as session:
        current = session.scalars(
            select(Binding)
            .where(
                Binding.shop_id == shop_id,
                Binding.kind == LIST_PRICE_KIND,
                Binding.erp_id.in_(sorted(read)),
            )
            .order_by(Binding.erp_id)
            .with_for_update()
        )
        for binding in current:
            sent = read[binding.erp_id]
            if binding.digest != sent.digest or binding.shopify_id != sent.variant_id:
                continue
            binding.digest = None
            binding.data = {**(binding.data or {}), "recheck_on": today.isoformat()}


def _names(client: AdminClient) -> dict[str, str]:
    """Each market's name (its id where Shopify cannot say it now)."""
    try:
        return {m.id: m.name or m.handle for m in client.markets()}
    except IntegrationError:
        return {}
