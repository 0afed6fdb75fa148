"""SKUs the store's (company, segment) has no price record for at all, found by a whole read.

Why: the prices flow reads only the records that changed, so a SKU with no TabelaPrecoItem row
for the store's pair is never read. Once the store link moved to another pair (or the ERP
connection to another ERP), a SKU priced before and not listed by the new pair kept the old
pair's price and `sale_active` true in its "price" binding: the variant stayed on sale at a price
the store does not have. A read from the beginning (the first pass of a pair, and every pass after
the link or the ERP moved: ledger.setup_moves) lists every price the pair has, so a SKU priced
before and missing from it has no price here: Consinco's "no price" (a normal price of 0), not
for sale, no price sent, a message saying so (jobs.price_unpriced), exactly as a price of 0.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs.price_map import PriceState
from ledger import bindings
from ledger.bindings import PRICE_KIND, VARIANT_KIND, BindingRow
from ledger.models import Binding


def unlisted(
    session: Any, shop_id: int, listed: Collection[str], unread: set[str | None]
) -> dict[str, PriceState]:
    """The "no price" state of each SKU priced before that a whole read (`listed`) did not return,
    for the prices flow to send; nothing when an unreadable record's SKU cannot be told (`unread`
    holds None: it may be any of them). A SKU with no product in Shopify yet has the state kept in
    its binding alone (priced by it when its variant appears), not sent."""
    if None in unread:
        return {}
    rows = [
        row
        for row in session.execute(
            select(Binding.erp_id, Binding.shopify_id, Binding.digest, Binding.data).where(
                Binding.shop_id == shop_id, Binding.kind == PRICE_KIND
            )
        )
        if row.erp_id not in listed and row.erp_id not in unread and row.data
    ]
    gone = {row.erp_id: (row, PriceState.from_data(row.data)) for row in rows}
    gone = {sku: (row, state) for sku, (row, state) in gone.items() if state.priced}
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, gone)
    found: dict[str, PriceState] = {}
    kept: list[BindingRow] = []
    for sku, (row, state) in gone.items():
        off = replace(state, normal=Decimal(0), promotional=None, promo_start=None, promo_end=None,
                      promotion_flag=False, sale_active=False)  # fmt: skip
        variant = variants.get(sku)
        if variant is not None and (variant.data or {}).get("product_id"):
            found[sku] = off
        else:
            kept.append(
                BindingRow(sku, row.shopify_id, row.digest, {**row.data, **off.to_data(), "recheck_on": None})
            )
    bindings.upsert_many(session, shop_id, PRICE_KIND, kept)
    return found
