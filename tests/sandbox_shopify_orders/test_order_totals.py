"""Pure order arithmetic: a discount spread over lines never loses or invents a cent."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify.order_totals import allocate, cents


def test_allocate_spreads_to_the_cent_by_weight() -> None:
    assert allocate(Decimal("10.00"), [Decimal(1)] * 3) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    weights = [Decimal("23.70"), Decimal("8.49"), Decimal("29.90")]
    shares = allocate(cents(sum(weights) * Decimal("0.15")), weights)
    assert sum(shares) == cents(sum(weights) * Decimal("0.15")) and shares[2] > shares[0] > shares[1]
    assert allocate(Decimal("5.00"), [Decimal(0), Decimal(0)]) == [Decimal(0), Decimal(0)]
