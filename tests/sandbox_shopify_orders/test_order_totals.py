"""Pure order arithmetic: a discount spread over lines never loses or invents a cent."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify.order_totals import allocate, bag, cents, current_shipping_of


def test_allocate_spreads_to_the_cent_by_weight() -> None:
    assert allocate(Decimal("10.00"), [Decimal(1)] * 3) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    weights = [Decimal("23.70"), Decimal("8.49"), Decimal("29.90")]
    shares = allocate(cents(sum(weights) * Decimal("0.15")), weights)
    assert sum(shares) == cents(sum(weights) * Decimal("0.15")) and shares[2] > shares[0] > shares[1]
    assert allocate(Decimal("5.00"), [Decimal(0), Decimal(0)]) == [Decimal(0), Decimal(0)]


def test_current_shipping_follows_refunds_and_removals() -> None:
    """currentDiscountedPriceSet is "the current shipping price after applying refunds, after
    applying discounts": a shipping refund lowers it (originalPriceSet stays), and a line an order
    edit removed (isRemoved) charges nothing."""
    sedex = {"originalPriceSet": bag(Decimal("32.50")), "currentDiscountedPriceSet": bag(Decimal("32.50"))}
    order = {"_shippingLines": [sedex]}
    assert current_shipping_of(order) == Decimal("32.50")
    sedex["currentDiscountedPriceSet"] = bag(Decimal("12.50"))  # R$ 20,00 of it refunded
    assert current_shipping_of(order) == Decimal("12.50")
    sedex["isRemoved"] = True
    assert current_shipping_of(order) == Decimal(0)
