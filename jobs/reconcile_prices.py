"""The reconciliation's price check: the price and compare-at (strike-through) price Shopify shows
on a bound variant against those the prices flow set there (a price or compare-at edited by hand
in Shopify, or a write lost, stays wrong for ever otherwise: the prices flow sends only what
changed in the ERP). A row names the SKU, both sides' price and compare-at, and the product's
prices message whose Replay sends the ERP's again (jobs.prices.replay: whatever its digest).

Expected: the ERP's price item as the prices flow last read it (the SKU's "price" binding) made
the variant's price by the flow's own rule (jobs.price_map.target_price: the promotion running
today at the ERP shows price = promotional and compare-at = normal, no promotion no compare-at;
a weighed variant's `unit_kg`; the amounts rounded to the cent decide, as they did for what was
sent), so an ERP change the flow has not read yet is not drift. Amounts are equal to the cent; a
compare-at Shopify has and the ERP does not (or the other way) differs.
Not compared: a SKU with no price binding, one awaiting its first price or priced on another
variant (replaced since), one a person settled by hand in Shopify (`settled_by_hand`), one with
no price in the ERP (none is sent; R$ 0.00 once rounded is none), one whose promotion starts
or ends today and the flow has not been past yet (`recheck_on` due), and one whose last write's
outcome is unknown (price_send.UNKNOWN: a bulk operation still running or its results unread, an
answer lost): its binding holds the state before that write, and the next pass sends it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from jobs.price_map import SETTLED_BY_HAND, PriceState, erp_today, money, target_price, unit_factor
from jobs.price_send import UNKNOWN
from ledger.bindings import PRICE_KIND
from ledger.models import Binding
from ledger.words import Words, beside, stored
from settings import get_settings


@dataclass(frozen=True)
class Expected:
    """What a variant should show: its price, its compare-at (None: no strike-through), and its
    product's prices message ("price:<seqProduto>"), whose Replay sends them again."""

    price: Decimal
    compare_at: Decimal | None
    unit_key: str


def expected_prices(
    session: Any, shop_id: int, variants: dict[str, tuple[str, dict[str, Any]]], today: date | None = None
) -> dict[str, Expected]:
    """{SKU: what its variant should show} for the bound SKUs the check compares."""
    today = today or erp_today(get_settings().erp_timezone)
    rows = session.scalars(select(Binding).where(Binding.shop_id == shop_id, Binding.kind == PRICE_KIND))
    expected: dict[str, Expected] = {}
    for binding in rows:
        data = binding.data or {}
        variant_id, variant_data = variants.get(binding.erp_id, (None, {}))
        if "normal" not in data or not variant_id or binding.shopify_id != variant_id:
            continue  # no price item remembered (a SKU only marked off sale), or another variant's
        if data.get("awaiting_price") or SETTLED_BY_HAND in data or binding.digest == UNKNOWN:
            continue
        due = data.get("recheck_on")
        if due and due <= today.isoformat():
            continue
        seq = data.get("seq_produto") or variant_data.get("seq_produto") or 0
        state = PriceState.from_data({"id_sku": binding.erp_id, **data, "seq_produto": seq})
        target = target_price(state, today, unit_factor(variant_data))
        if target.price is not None:
            compare_at = None if target.compare_at is None else _cents(target.compare_at)
            expected[binding.erp_id] = Expected(_cents(target.price), compare_at, f"price:{seq}")
    return expected


def price_differs(
    id_sku: str,
    variant_id: str,
    expected: Expected | None,
    shopify: str,
    shopify_compare_at: str | None = None,
    *,
    fix: tuple[str, Words] | None = None,
) -> dict[str, Any] | None:
    """The report's row when Shopify's price or compare-at is not the expected one (None: in step,
    or not compared). `shopify_compare_at` None or "": Shopify shows no compare-at. `fix`: what
    sets it right (English, words); by default the Replay of the expected's prices message."""
    if expected is None:
        return None
    seen, seen_compare = _amount(shopify), _amount(shopify_compare_at)
    price_ok = seen is not None and seen == expected.price
    compare_ok = seen_compare == expected.compare_at and (seen_compare is not None or not shopify_compare_at)
    if price_ok and compare_ok:
        return None
    shown, shown_compare = shopify or "none", shopify_compare_at or "none"
    erp_compare = "none" if expected.compare_at is None else str(expected.compare_at)
    why = [] if price_ok else [f"price in Shopify {shown}, ERP {expected.price}"]
    words: list[Words] = []
    if not price_ok:
        words.append(("recon_price_differs", {"shopify": _said(shopify), "erp": _said(expected.price)}))
    if not compare_ok:
        meaning, meaning_words = _meaning(expected, seen_compare)
        why.append(f"compare-at price in Shopify {shown_compare}, ERP {erp_compare}" + meaning)
        words.append(("recon_compare_at_differs", {"shopify": _said(shopify_compare_at),
                                                    "erp": _said(expected.compare_at),
                                                    "meaning": meaning_words}))  # fmt: skip
    message = {} if fix is not None else {"message": expected.unit_key}
    if fix is None:
        fix = (f"Replay the prices message {expected.unit_key} to send the ERP's price and compare-at "
               "price again", ("recon_price_fix", {"message": expected.unit_key}))  # fmt: skip
    return {"sku": id_sku, "variant": variant_id, "shopify": shown, "erp": str(expected.price),
            "shopify_compare_at": shown_compare, "erp_compare_at": erp_compare,
            **beside("why", "; ".join(why), *words), **message, **beside("fix", *fix)}  # fmt: skip


def _said(amount: Decimal | str | None) -> Any:
    """An amount as a param (money), or the words "none" where a side shows none."""
    return {"money": str(amount)} if amount not in (None, "") else stored(("recon_price_none", {}))


def _meaning(expected: Expected, seen_compare: Decimal | None) -> tuple[str, Any]:
    """What a compare-at shown on one side only means (a strike-through with no promotion, or a
    promotion shown without its normal price), and its words ("" : nothing to say)."""
    if expected.compare_at is None:
        return " (no promotion running in the ERP)", stored(("recon_no_promotion", {}))
    if seen_compare is None:
        return " (a promotion is running in the ERP)", stored(("recon_promotion_running", {}))
    return "", ""


def _cents(value: Decimal) -> Decimal:
    return Decimal(money(value) or "0")


def _amount(text: str | None) -> Decimal | None:
    """Shopify's decimal string as an amount (None: none, or not a number)."""
    if not text:
        return None
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None
