"""Pure discount arithmetic of an order going to the ERP: each current line's discount, in cents,
summing to the order's discount total, none above its line's value. No I/O.

Why its own module: jobs.order_map maps the whole order; this is only the money of its lines.

Which figure decides each line's discount, best first:
- `priceAfterAllDiscountsBeforeTaxesSet`: Shopify's own value of the line after every discount,
  removed units left out (exact cents). The discount is the gross at the current quantity less
  it. Nothing is prorated here: Shopify has prorated each discount as it allocated it. A code
  from checkout is allocated over the ORDERED quantity, but a discount an order edit adds after
  a cut (orderEditAddLineItemDiscount; the app's own weight adjustment cuts n -> n-1 and adds a
  per-unit discount in one edit) is allocated on the current quantity only, so scaling the sum
  of `discountAllocations` by current / ordered under-counted it and the rest of the order's
  discount went onto the lines nobody touched.
- `discountAllocations` (every discount, order-level codes included), taken at current / ordered
  quantity: an answer without the current value (an older fixture); exact only while no edit
  discounted a line that had units removed before.
- the line's own `totalDiscountSet`, the unit price after all discounts, the line's value.

Taxes inside the prices (taxesIncluded, a store that charges a tax in Settings > Taxes): Shopify's
current value "doesn't include taxes", so gross less it is the line's discount PLUS its tax. Those
are not the order's discount (they add up to it plus the tax): `taxes_set_aside` drops them and the
discount goes by the unit prices after all discounts (tax included, like the gross). An undiscounted
line then keeps its whole value, whatever tax it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from shopify_app.admin_api.order_results import OrderLine

CENT = Decimal("0.01")
ZERO = Decimal("0")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def distribute_cents(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` (whole cents) over `weights` in proportion, summing exactly to `total`.

    Largest remainder: every share is floored to the cent, then the cents left go to the shares
    that lost most to the floor (ties to the earlier line). All-zero weights split evenly.
    """
    total_cents = int((cents(total) / CENT).to_integral_value())
    if not weights:
        if total_cents:
            raise ValueError("cannot distribute a non-zero total over no weights")
        return []
    clean = [max(w, ZERO) for w in weights]
    weight_sum = sum(clean, ZERO)
    if weight_sum == 0:
        clean, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    sign = -1 if total_cents < 0 else 1
    remaining = abs(total_cents)
    raw = [Decimal(remaining) * w / weight_sum for w in clean]
    floors = [int(r) for r in raw]
    left = remaining - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for index in order[:left]:
        floors[index] += 1
    return [Decimal(sign * f) * CENT for f in floors]


class LineMoney(NamedTuple):
    """A line's money at its current quantity (None: Shopify's answer did not carry it)."""

    gross: Decimal  # unit price x current quantity; Shopify's current value when above it
    own: Decimal | None  # totalDiscountSet: the line's own discounts (real Shopify leaves codes out)
    after_all: Decimal | None  # from the unit price after all discounts (approximate: a rounded unit)
    allocated: Decimal | None  # discountAllocations: every discount, order-level codes included
    current: Decimal | None = None  # gross - priceAfterAllDiscountsBeforeTaxesSet: Shopify's own


def line_money(line: OrderLine) -> LineMoney:
    """Shopify's figures for a line at its current quantity (its gross never below its value).

    `current` is Shopify's (exact cents, nothing prorated). `totalDiscountSet` and the sum of
    `discountAllocations` count removed units too: both are taken at current / ordered quantity,
    which is right only when every allocation covers the ordered quantity (see the module doc).
    """
    price = line.original_unit_price.amount if line.original_unit_price else ZERO
    gross = price * line.current_quantity
    if line.current_total is not None and line.current_total.amount > gross:
        # Valued above its unit price x quantity (each shop-money amount converted on its own from
        # another presentment currency, a bundle's price split over its components): the line is
        # worth its value, not refused; its ERP unit price goes up to it (order_map._erp_line).
        gross = line.current_total.amount
    own = allocated = current = None
    if line.total_discount is not None and line.quantity:
        own = line.total_discount.amount * line.current_quantity / line.quantity
    if line.allocated_discount is not None and line.quantity:
        allocated = line.allocated_discount * line.current_quantity / line.quantity
    if line.current_total is not None:
        current = gross - line.current_total.amount
    after_all = None
    if line.discounted_unit_price is not None:
        after_all = (price - line.discounted_unit_price.amount) * line.current_quantity
    return LineMoney(gross, own, after_all, allocated, current)


def taxes_set_aside(figures: Sequence[LineMoney], total: Decimal, taxes_in_prices: bool) -> list[LineMoney]:
    """`figures` without Shopify's current values when they leave out a tax the prices include
    (`taxes_in_prices`: taxesIncluded with a tax on the order) and so do not add up to the order's
    discount `total`: each would count the line's tax as a discount (see the module doc)."""
    current = [f.current for f in figures]
    if not taxes_in_prices or any(c is None for c in current):
        return list(figures)
    if cents(sum(current, ZERO)) == cents(total):  # type: ignore[arg-type]
        return list(figures)  # Shopify's values carry the tax (or no goods line is taxed)
    return [f._replace(current=None) for f in figures]


def discount_weights(figures: Sequence[LineMoney], total: Decimal) -> list[Decimal]:
    """How the order's discount `total` is spread over its lines: by Shopify's current value of
    each line (priceAfterAllDiscountsBeforeTaxesSet), else by its allocation of every discount to
    each line (discountAllocations, at the current quantity), else by the lines' own discounts
    when they account for all of it, else by the unit prices after all discounts (an order-level
    code is in no line's own total: spread evenly, R$ 2.00 + R$ 200.00 with 10 % off gave the
    R$ 2.00 line a discount above its value), else by the lines' value."""
    current = [f.current for f in figures]
    if figures and all(c is not None for c in current):
        return current  # type: ignore[return-value]
    allocated = [f.allocated for f in figures]
    if all(a is not None for a in allocated) and sum(allocated, ZERO) > 0:  # type: ignore[arg-type]
        return allocated  # type: ignore[return-value]
    own = [f.own for f in figures]
    if all(o is not None for o in own) and cents(sum(own, ZERO)) == cents(total):  # type: ignore[arg-type]
        return own  # type: ignore[return-value]
    after_all = [f.after_all if f.after_all is not None else (f.own or ZERO) for f in figures]
    if any(a > 0 for a in after_all):
        return after_all
    return [f.gross for f in figures]


def discount_shares(total: Decimal, figures: Sequence[LineMoney]) -> list[Decimal]:
    """Each line's discount, summing to `total` to the cent, none above the line's value.

    Shopify's own per-line figures rounded to the cent when they add up to `total` (what Shopify,
    the NF-e per item and a later cut of one line see), else `total` split in proportion to
    `discount_weights`. A share above its line's value (a free line, a weight off by rounding)
    is cut to it and the rest goes to the lines with value left, in proportion to what they have
    left: a line with a discount above its value is a negative ERP line (SEFAZ refuses vDesc > vProd).

    Raises:
        ValueError: `total` is above the value of all the lines (the caller rejects that first).
    """
    weights = discount_weights(figures, total)
    caps = [cents(f.gross) for f in figures]
    rounded = [cents(w) for w in weights]
    if sum(rounded, ZERO) == cents(total) and all(ZERO <= r <= c for r, c in zip(rounded, caps, strict=True)):
        return rounded
    shares = distribute_cents(total, weights)
    excess = sum((max(s - c, ZERO) for s, c in zip(shares, caps, strict=True)), ZERO)
    if not excess:
        return shares
    shares = [min(s, c) for s, c in zip(shares, caps, strict=True)]
    room = [c - s for s, c in zip(shares, caps, strict=True)]
    if sum(room, ZERO) < excess:
        raise ValueError(f"a discount of {total} is above the lines' value {sum(caps, ZERO)}")
    # In proportion to the room left, no line gets more than its room (largest remainder).
    return [s + extra for s, extra in zip(shares, distribute_cents(excess, room), strict=True)]
