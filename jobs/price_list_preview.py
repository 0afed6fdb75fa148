"""The markets' price lists previewed (the catalog dry run's `price_lists` part): for each further
(company, segment) pair mapped to a market (jobs.price_lists), what the prices flow would send to
its list on a whole read of the pair, and the fixed price the market shows now where it would
change one; then the lists a sync empties, their pair no longer mapped. Each named by its market
(`market_name`: Shopify's name, else the mapping's label). Nothing is written.

Why: a chain prices its stores apart, and a market mapped to the wrong pair (or a pair whose prices
are not what the e-commerce team expects) shows the wrong prices to a whole region. Before the
mapping's first sync, and after a change, the merchant sees what each market would get.

How, per pair, by the flow's own rules: the list the first sync takes (jobs.price_list_setup.planned:
the pair's own, `bound`; the market's own list, `adopted`; none yet, `created`; a market Shopify
does not have, or one selling in another currency, is the pair's `error`: nothing would be sent).
The pair's price records read whole; each SKU's target price (a running promotion's price with the
normal one struck through; statusVenda has no meaning in a list) compared with what the flow last
sent there (its "list_price" binding's digest): `first` (never sent to the list: no variant yet,
a list not made yet, or its variant replaced), `change`, `kept_by_hand` (a price a person settled in
Shopify after Shopify refused the ERP's: jobs.price_lists.settled_by_hand, read only), `no_price`
(the ERP has no price: none sent, the market shows the base price; `removes_fixed` when a fixed
price sent before is taken off the list) and `unchanged` (counted only). A changed row, and a first
one on a list the pair adopts, carries the list's fixed price now (`before`: None, the market shows
the base price; 50 variants a call, shopify_app.admin_api.price_list_prices); Shopify unable to say,
the rows stand without it and `before_unread` says why.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from erp.client import ErpClient
from jobs import price_list_retire, price_list_setup
from jobs.price_lists import CURRENCY, NO_PRICE, ListTarget, settled_by_hand, targets
from jobs.price_map import PriceState, money, promotion_running, target_price, unit_factor
from ledger import bindings
from ledger.bindings import LIST_PRICE_KIND, VARIANT_KIND
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import IntegrationError
from ledger.mappings import MappingKind, list_mappings
from ledger.models import Binding
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.price_list_prices import PriceListGone, fixed_prices

LISTED = ("first", "change", "kept_by_hand", "no_price")


def preview(
    shop_id: int, erp_client: ErpClient, client: AdminClient, today: date, limit: int
) -> dict[str, Any]:
    """The price lists part of the dry run (module docstring): {"lists": [one per mapped pair],
    "retiring": [lists a sync empties]}; {} when the shop maps no market and fills no list. Lists
    cut to `limit` rows, counts whole. One pair failing (Shopify or the ERP) is said on it alone."""
    mapped = targets(shop_id)
    retiring = _retiring(shop_id, {t.key for t in mapped})
    if not mapped and not retiring:
        return {}
    names = _names(shop_id, client)
    lists = [_pair(shop_id, erp_client, client, t, today, limit) for t in mapped]
    for part in (*lists, *retiring):
        part["market_name"] = names.get(part["market_id"])
    return {"lists": lists, "retiring": retiring}


def _names(shop_id: int, client: AdminClient) -> dict[str, str]:
    """Each market's name as the merchant knows it: Shopify's, else the mapping's label (Shopify
    unable to say, or a market it no longer has)."""
    with session_scope() as session:
        rows = list_mappings(session, shop_id, MappingKind.SEGMENT_MARKET.value)
        names = {row.shopify_code: row.label for row in rows if row.label}
    with contextlib.suppress(IntegrationError):  # the labels stand; the pairs say what failed
        names.update({market.id: market.name for market in client.markets() if market.name})
    return names


def _pair(
    shop_id: int, erp_client: ErpClient, client: AdminClient, target: ListTarget, today: date, limit: int
) -> dict[str, Any]:
    part: dict[str, Any] = {
        "market_id": target.market_id,
        "nro_empresa": target.company,
        "nro_segmento": target.segment,
    }
    try:
        list_id, how = price_list_setup.planned(shop_id, client, target)
        read = erp_client.price_items(None, target.company, target.segment)
        read.keep_malformed = True  # a record the client cannot read is counted, as the flow sets it aside
        states = {item.id_sku: PriceState.from_item(item) for item in read}
    except IntegrationError as exc:  # the market missing or in another currency, Shopify or the ERP down
        return {**part, "error": str(exc)}
    part.update(price_list_id=list_id, list=how)
    prefix = f"{list_id.rsplit('/', 1)[-1]}:" if list_id else None
    market = target.market_id.rsplit("/", 1)[-1]
    with session_scope() as session:
        variants = {k: (b.shopify_id, dict(b.data or {})) for k, b in
                    bindings.get_many(session, shop_id, VARIANT_KIND, states).items()}  # fmt: skip
        keys = [prefix + s for s in states] if prefix else []
        known = bindings.get_many(session, shop_id, LIST_PRICE_KIND, keys) if prefix else {}
        settled = (
            settled_by_hand(session, shop_id, market, prefix, states, known, today, record=False)
            if prefix
            else set()
        )
        sent = {k.removeprefix(prefix or ""): (b.shopify_id, b.digest) for k, b in known.items()}
    counts = {verdict: 0 for verdict in (*LISTED, "unchanged")}
    counts["unreadable"] = len(read.malformed)
    lists: dict[str, list[dict[str, Any]]] = {verdict: [] for verdict in LISTED}
    for sku in sorted(states):
        state = states[sku]
        variant_id, data = variants.get(sku, (None, {}))
        price = target_price(state, today, unit_factor(data))
        verdict, row = _verdict(sku, state, variant_id, price, sent.get(sku), sku in settled)
        counts[verdict] += 1
        if verdict == "unchanged" or len(lists[verdict]) >= limit:
            continue
        running = price.compare_at is not None and state.promo_end is not None
        lists[verdict].append(
            {
                "sku": sku,
                "seq_produto": state.seq_produto,
                "price": money(price.price),
                "compare_at": money(price.compare_at),
                "promotion_until": (
                    state.promo_end.isoformat()
                    if running and promotion_running(state, today, unit_factor(data))
                    else None
                ),
                **row,
            }
        )
    part.update(counts=counts, **lists)
    shown = lists["change"] + (lists["first"] if how == price_list_setup.ADOPTED else [])
    if list_id is not None and any(r.get("variant_id") for r in shown):
        part.update(_before(client, list_id, shown))
    return part


def _verdict(
    sku: str,
    state: PriceState,
    variant_id: str | None,
    price: Any,
    sent: tuple[str | None, str | None] | None,
    settled: bool,
) -> tuple[str, dict[str, Any]]:
    """The SKU's verdict (module docstring) and what its row adds: the variant, and for a price the
    ERP has none for, whether a fixed price sent before is removed (built with dict(): a
    ("verdict", {...}) pair would read as words to tests/api/test_api_skip_words.py)."""
    if settled:
        return "kept_by_hand", dict(variant_id=variant_id)
    if variant_id is None:
        return "first", dict()
    fixed_before = sent is not None and sent[0] is not None and sent[1] != NO_PRICE
    if price.price is None:
        return "no_price", dict(variant_id=variant_id, removes_fixed=fixed_before)
    entry = {
        "variantId": variant_id,
        "price": {"amount": money(price.price), "currencyCode": CURRENCY},
        "compareAtPrice": None
        if price.compare_at is None
        else {"amount": money(price.compare_at), "currencyCode": CURRENCY},
    }  # as jobs.price_lists sends it: the same digest
    if sent is None or sent[0] != variant_id:
        return "first", dict(variant_id=variant_id)
    return ("unchanged" if sent[1] == digest(entry) else "change"), dict(variant_id=variant_id)


def _before(client: AdminClient, list_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The list's fixed price now on each row (`before`; None: none, the market shows the base
    price); when Shopify cannot say, {"before_unread": why} and the rows as they are."""
    try:
        found = fixed_prices(client, list_id, [r["variant_id"] for r in rows if r.get("variant_id")])
    except PriceListGone:
        return {"before_unread": f"price list {list_id} is no longer in Shopify: a sync makes it again"}
    except IntegrationError as exc:
        return {"before_unread": str(exc)}
    for row in rows:
        fixed = found.get(row.get("variant_id") or "")
        row["before"] = (
            None if fixed is None else {"price": _cents(fixed.price), "compare_at": _cents(fixed.compare_at)}
        )
    return {}


def _cents(amount: str) -> str | None:
    """Shopify's Decimal ("2.5") as the rows' prices are ("2.50"); "" (none) is None."""
    try:
        return money(Decimal(amount)) if amount else None
    except ArithmeticError:
        return amount


def _retiring(shop_id: int, mapped: set[str]) -> list[dict[str, Any]]:
    """The lists the prices flow filled for a pair no mapping gives any more: a sync empties them
    (jobs.price_list_retire), so their markets fall back to the base price. `fixed_prices`: the
    prices it sent there."""
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == price_list_setup.LIST_KIND)
        ).all()
        shared = price_list_retire.still_filled(rows, mapped)  # (left to the market still mapped)
        stale = [
            (b.erp_id, str(b.shopify_id)) for b in rows if b.erp_id not in mapped | shared and b.shopify_id
        ]
        found = []
        for key, list_id in sorted(stale):
            pair, _, market_id = key.partition("@")
            company, _, segment = pair.partition(":")
            count = session.scalar(
                select(func.count())
                .select_from(Binding)
                .where(
                    Binding.shop_id == shop_id,
                    Binding.kind == LIST_PRICE_KIND,
                    Binding.erp_id.like(f"{list_id.rsplit('/', 1)[-1]}:%"),
                    Binding.shopify_id.is_not(None),
                    Binding.digest.is_distinct_from(NO_PRICE),
                )
            )
            found.append(
                {
                    "market_id": market_id,
                    "nro_empresa": int(company) if company.isdigit() else company,
                    "nro_segmento": int(segment) if segment.isdigit() else segment,
                    "price_list_id": list_id,
                    "fixed_prices": int(count or 0),
                }
            )
    return found
