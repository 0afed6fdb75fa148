"""A variant on promotion (price 8.99, compareAtPrice 10.99 in Shopify) whose ERP price becomes 0
("no price"): its compareAtPrice is cleared with the inventoryPolicy DENY. Sent alone, DENY left
Shopify showing the promotion's strike-through (8.99 instead of 10.99) on a product the ERP no
longer prices, past the promotion's end date, since nothing is sent for it until the ERP prices it
again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jobs.price_map import PriceState, target_price, variant_input


def test_no_price_during_a_promotion_clears_the_compare_at_price():
    state = PriceState(
        id_sku="P919E1", seq_produto=919, normal=Decimal("0"), promotional=Decimal("8.99"),
        promo_start=date(2026, 11, 20), promo_end=date(2026, 12, 5), promotion_flag=True,
        sale_active=False,
    )  # fmt: skip
    sent = variant_input("gid://shopify/ProductVariant/1", target_price(state, date(2026, 11, 25)))
    assert "compareAtPrice" in sent and sent["compareAtPrice"] is None, sent
