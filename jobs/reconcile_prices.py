"""The reconciliation's price check: the price Shopify shows on a bound variant against the one the
prices flow set there (a price edited by hand in Shopify, or a write lost, stays wrong for ever
otherwise: the prices flow sends only what changed in the ERP).

Expected: the ERP's price item as the prices flow last read it (the SKU's "price" binding) made
the variant's price by the flow's own rule (jobs.price_map.target_price: the promotion running
today at the ERP, a weighed variant's `unit_kg`), so an ERP change the flow has not read yet is
not drift. Not compared: a SKU with no price binding, one awaiting its first price or priced on
another variant (replaced since), one a person settled by hand in Shopify (`settled_by_hand`), one
with no price in the ERP (none is sent), and one whose promotion starts or ends today and the
flow has not been past yet (`recheck_on` due).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from jobs.price_map import SETTLED_BY_HAND, PriceState, erp_today, money, target_price, unit_factor
from ledger.bindings import PRICE_KIND
from ledger.models import Binding
from settings import get_settings


def expected_prices(
    session: Any, shop_id: int, variants: dict[str, tuple[str, dict[str, Any]]], today: date | None = None
) -> dict[str, Decimal]:
    """{SKU: the price its variant should show} for the bound SKUs the check compares."""
    today = today or erp_today(get_settings().erp_timezone)
    rows = session.scalars(select(Binding).where(Binding.shop_id == shop_id, Binding.kind == PRICE_KIND))
    expected: dict[str, Decimal] = {}
    for binding in rows:
        data = binding.data or {}
        variant_id, variant_data = variants.get(binding.erp_id, (None, {}))
        if "normal" not in data or not variant_id or binding.shopify_id != variant_id:
            continue  # no price item remembered (a SKU only marked off sale), or another variant's
        if data.get("awaiting_price") or SETTLED_BY_HAND in data:
            continue
        due = data.get("recheck_on")
        if due and due <= today.isoformat():
            continue
        state = PriceState.from_data({"id_sku": binding.erp_id, "seq_produto": 0, **data})
        target = target_price(state, today, unit_factor(variant_data))
        if target.price is not None:
            expected[binding.erp_id] = Decimal(money(target.price) or "0")
    return expected


def price_differs(
    id_sku: str, variant_id: str, expected: Decimal | None, shopify: str
) -> dict[str, Any] | None:
    """The report's row when Shopify's price is not the expected one (None: in step, or not compared)."""
    if expected is None:
        return None
    try:
        seen = Decimal(shopify)
    except (InvalidOperation, ValueError):
        seen = None
    if seen is not None and seen == expected:
        return None
    shown = shopify or "none"
    return {"sku": id_sku, "variant": variant_id, "shopify": shown, "erp": str(expected),
            "why": f"price in Shopify {shown}, ERP {expected}"}  # fmt: skip
