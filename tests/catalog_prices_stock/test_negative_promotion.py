"""A negative promotional price (an ERP typing error: PRECOVALIDPROMOC -5.90) is no promotion the
ERP can mean; like a promotional price not below the normal one it is not sent. Sent, Shopify
refused it (NEGATIVE_PRICE_VALUE), so the variant kept whatever it showed before (a stale promotion
included) and its product's message failed on every pass."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jobs.price_map import PriceState, money, recheck_on, target_price


def test_a_negative_or_zero_promotional_price_is_no_promotion():
    today = date(2026, 11, 25)
    for promotional in (Decimal("-5.90"), Decimal("0")):
        state = PriceState(
            id_sku="P919E1", seq_produto=919, normal=Decimal("10.99"), promotional=promotional,
            promo_start=date(2026, 11, 20), promo_end=date(2026, 12, 5), promotion_flag=True,
            sale_active=True,
        )  # fmt: skip
        target = target_price(state, today)
        assert money(target.price) == "10.99" and target.compare_at is None, (promotional, target)
        assert recheck_on(state, today) is None  # nothing ends by its date: it never ran
