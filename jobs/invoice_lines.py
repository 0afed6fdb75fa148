"""What an invoice fulfils (flow `invoices`): the units its NF-e carries, in Shopify's terms.

The ERP's lines say what was picked and invoiced (its served quantities), and the picking edit
(jobs.order_edits.to_shopify) set the Shopify order to them: an item sold by the unit at its
served units (a part of a unit served, 1,5 boxes, rounded up: the part not served is a discount);
a weighed item at the units it was sold in (a lighter or heavier weighing is a
discount or a record, never a quantity; cut to zero it is a cut); a weighed substitute at its
kilograms rounded up. So per SKU, the invoice fulfils at most those units, less what is already
fulfilled (a replay, a person's partial shipment): a unit a person added in Shopify after the
picking is on no ERP line, was not picked, invoiced nor charged, and stays unfulfilled, named
for a person. What is fulfilled is Shopify's own count per line (currentQuantity less
unfulfilledQuantity): a fulfillment cancelled leaves a CLOSED fulfillment order whose figures
still look shipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from erp.records import OrderLine as ErpLine
from shopify_app.admin_api.order_results import FulfillmentOrder, OrderLine

OPEN = {"OPEN", "IN_PROGRESS", "SCHEDULED"}  # SCHEDULED: opened first (fulfillmentOrderOpen)
ZERO = Decimal("0")
CENT = Decimal("0.01")


def invoiced_units(lines: Sequence[ErpLine]) -> dict[str, int]:
    """Pure: the Shopify units the NF-e carries per ERP SKU (idSku), every line of the SKU added."""
    units: dict[str, int] = {}
    for line in lines:
        if line.id_sku:
            units[line.id_sku] = units.get(line.id_sku, 0) + _units(line)
    return units


def _units(line: ErpLine) -> int:
    """The Shopify units an ERP line was served in (see the module)."""
    served = _quantity(line)
    if served <= 0:
        return 0
    if line.weighed and line.is_substitute:
        return int(served.to_integral_value(rounding=ROUND_CEILING))
    if line.weighed:
        return int(line.qty_ordered.to_integral_value(rounding=ROUND_CEILING))
    return int(served.to_integral_value(rounding=ROUND_CEILING))  # 1,5 boxes: 2 in Shopify, half off


@dataclass
class FulfilmentPlan:
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # FO id -> [{id, quantity}]
    held: list[str] = field(default_factory=list)  # ON_HOLD fulfillment orders with invoiced units
    left: dict[str, int] = field(default_factory=dict)  # on no NF-e line: SKU (or name) -> units
    taken: dict[str, int] = field(default_factory=dict)  # planned (held ones too): SKU (or name) -> units
    # fulfillment orders a fulfillment service (a 3PL) holds, with invoiced units: id -> the service's name
    by_service: dict[str, str] = field(default_factory=dict)
    # fulfillment orders with invoiced units at a location mapped to another ERP company: id -> that company
    elsewhere: dict[str, int] = field(default_factory=dict)


# The requestStatus of a fulfillment order a fulfillment service holds (jobs.cancellations.service_hold's
# HOLDING): the service fulfils it. The app's fulfillment over it would ship the goods twice (and
# fulfillmentCreate of a service's fulfillment order needs a write scope the app does not ask for).
SERVICE_HOLDS = frozenset({"SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"})


def plan_fulfilment(
    fulfillment_orders: Sequence[FulfillmentOrder],
    order_lines: Sequence[OrderLine],
    invoiced: Mapping[str, int],
    sku_of_variant: Mapping[str, str],
    other_companies: Mapping[str, int] | None = None,
) -> FulfilmentPlan:
    """Pure: per fulfillment order, the lines and quantities to fulfil so each SKU reaches at most
    the units invoiced (counting what is fulfilled already), and what is left for a person.

    Gift cards are neither: no NF-e lists them (they are no goods), the capture charges them with
    the goods (invoice_capture: owed beside the goods), and Shopify fulfils a digital one itself;
    named as goods "not on the NF-e" they asked the merchant to charge them apart, a second time.

    A fulfillment order a fulfillment service holds (SERVICE_HOLDS) is the service's to fulfil: its
    units count as planned, its lines are not the app's (`by_service`). So is one at a location of
    `other_companies` (location id -> the ERP company mapped to it, other than the invoicing one's):
    moved in Shopify to another store after the import, its goods left the invoicing store, and
    fulfilling it there would take them off the other store's stock (`elsewhere`)."""
    cards = {line.id for line in order_lines if line.gift_card}
    sku_of_line = {line.id: sku_of_variant.get(line.variant_id or "") or line.sku or line.name
                   for line in order_lines}  # fmt: skip
    allowance = dict(invoiced)
    for line in order_lines:  # what is fulfilled already (a replay, a person's shipment) counts
        key = sku_of_line[line.id]
        if key in allowance and line.unfulfilled_quantity is not None:
            allowance[key] -= max(0, line.current_quantity - line.unfulfilled_quantity)
    plan = FulfilmentPlan()
    for fo in fulfillment_orders:
        if fo.status not in OPEN and fo.status != "ON_HOLD":
            continue
        taken = []
        for item in fo.lines:
            key = sku_of_line.get(item.line_item_id or "", f"line {item.line_item_id}")
            if item.remaining_quantity <= 0 or item.line_item_id in cards:
                continue
            quantity = max(0, min(item.remaining_quantity, allowance.get(key, 0)))
            if quantity:
                allowance[key] -= quantity
                taken.append({"id": item.id, "quantity": quantity})
                plan.taken[key] = plan.taken.get(key, 0) + quantity
            if quantity < item.remaining_quantity:
                plan.left[key] = plan.left.get(key, 0) + item.remaining_quantity - quantity
        if not taken:
            continue
        other = (other_companies or {}).get(fo.location_id or "")
        if other is not None:
            plan.elsewhere[fo.id] = other
        elif fo.request_status in SERVICE_HOLDS:
            plan.by_service[fo.id] = fo.location_name or "a fulfillment service"
        elif fo.status == "ON_HOLD":
            plan.held.append(fo.id)
        else:
            plan.lines[fo.id] = taken
    return plan


def paid_for(
    lines: Sequence[ErpLine], units: Mapping[str, int], total: Decimal, freight: Decimal | None
) -> bool:
    """Pure: whether an NF-e of `total` can pay for `units` (Shopify units per SKU about to be
    fulfilled) at the ERP's served value of each (`lines`: a SKU's served value over its units, as
    `issued_for_every_unit` counts them), the ERP order's `freight` (vlrTotFrete, None: not known)
    taken out of it as if this NF-e billed it, a cent kept for rounding. An event lists the ERP
    order's lines as they stand, not the NF-e's share of them: an NF-e that is not the order's last
    fulfils them only when its money covers them all; else which of them it carries cannot be told.
    True when nothing is to be fulfilled; False when a SKU to fulfil has no known served value on
    `lines`."""
    if not any(wanted > 0 for wanted in units.values()):
        return True
    values: dict[str, Decimal] = {}
    counts: dict[str, Decimal] = {}
    for line in lines:
        if not line.id_sku or (served := _units(line)) <= 0:
            continue
        if (value := _served_value(line)) is None:
            return False
        values[line.id_sku] = values.get(line.id_sku, ZERO) + value
        counts[line.id_sku] = counts.get(line.id_sku, ZERO) + served
    needed = ZERO
    for sku, wanted in units.items():
        if wanted <= 0:
            continue
        if sku not in counts:
            return False
        needed += values[sku] / counts[sku] * wanted
    return needed <= total - (freight or ZERO) + CENT


def carries_all_served(served: Sequence[ErpLine], carried: Sequence[Sequence[ErpLine]]) -> bool:
    """Pure: whether the NF-e's events (each its lines, `carried`) list every line the ERP order
    served (`served`, GET PedidoVenda: a line cut to nothing needs none), each to its served quantity,
    lines matched by seqItem (a line listed by two events adds up). False when the ERP order lists no
    served line: nothing then says the order is fully invoiced. One NF-e whose event lists no lines
    (the layout is [assumed]) adds nothing: it cannot be said to carry a line. An event lists the
    ERP order's lines as they stand, not what its NF-e carries of them: alone this does not say the
    NF-e carry all that was served (`issued_for_every_unit` says when it does)."""
    needed: dict[int, Decimal] = {}
    for line in served:
        if (quantity := _quantity(line)) > 0:
            needed[line.seq_item] = needed.get(line.seq_item, ZERO) + quantity
    if not needed:
        return False
    have: dict[int, Decimal] = {}
    for lines in carried:
        for line in lines:
            have[line.seq_item] = have.get(line.seq_item, ZERO) + _quantity(line)
    return all(have.get(seq, ZERO) >= quantity for seq, quantity in needed.items())


def issued_for_every_unit(
    served: Sequence[ErpLine],
    issued: Decimal,
    served_total: Decimal | None,
    count: int,
    freight: Decimal | None = None,
) -> bool:
    """Pure: whether `count` NF-e totalling `issued` (as issued) leave no room for a served unit none
    of them carries, so that the lines their events list can be taken as what they carry
    (`carries_all_served`). An F event lists the ERP order's lines as they stand (EventoPedido is the
    order's state: qtdAtendida is the line's, not the NF-e's), so the first NF-e of a line split
    over two looks as if it carried all of it. Only money tells: an NF-e never charges a unit above
    what the ERP served it for, so one unit left out leaves the NF-e at least that unit's value below
    the ERP order's served total (`served_total`, freight included). True when they fall short of it
    by less than the cheapest unit served (a line's served value over its units: a weighed line's
    are the packs it was sold in), a cent per NF-e kept for rounding: a discount given at invoicing,
    freight billed apart below a unit's value. A unit worth nothing (a gift, a line discounted
    100%) sets no bound: leaving it out costs no money; when every served line is free, true once
    the totals reach the served total (a cent per NF-e). Also true when the ERP order's `freight`
    (vlrTotFrete; None or 0: not known) is known and the shortfall equals it, a cent per NF-e:
    every unit invoiced, the freight billed on a document of its own (it may be above the
    cheapest unit: R$ 9,90 of freight, a banana at R$ 1,99). False when the total or a served
    line's value is unknown, or nothing was served."""
    if served_total is None:
        return False
    prices = []
    anything = False
    for line in served:
        units = Decimal(_units(line)) if line.weighed else _quantity(line)
        if units > 0:
            if (value := _served_value(line)) is None:
                return False
            anything = True
            if value > 0:
                prices.append(value / units)
    if not anything:
        return False
    short, rounding = served_total - issued, CENT * count
    if freight is not None and freight > 0 and abs(short - freight) <= rounding:
        # Unless served units could make up that shortfall too (goods worth exactly the freight
        # still to be invoiced): then which it is cannot be told, and a final capture would release
        # what their NF-e is to charge.
        return not _goods_could_make(served, short, rounding)
    return short + rounding < min(prices) if prices else short <= rounding


GOODS_SUMS_MAX = 20_000  # sums (in cents) `_goods_could_make` keeps before it gives up: "could"


def _goods_could_make(served: Sequence[ErpLine], amount: Decimal, rounding: Decimal) -> bool:
    """Pure: whether some of the served units (a line's units at its served value each, any number
    of them up to its units) add up to `amount`, within `rounding`. Past GOODS_SUMS_MAX sums (an order
    too large to tell) it answers True: the cautious answer."""
    target, slack = int(amount * 100), int(rounding * 100)
    reachable = {0}
    for line in served:
        units = _units(line)
        value = _served_value(line)
        if units <= 0 or value is None or value <= 0:
            continue
        each = value / units  # a unit's served value: no more of them than fit in the amount
        most = min(units, int((Decimal(target + slack) / 100) / each) + 1)
        steps = {int((value * k / units).quantize(CENT) * 100) for k in range(1, most + 1)}
        reachable |= {r + step for r in reachable for step in steps if r + step <= target + slack}
        if len(reachable) > GOODS_SUMS_MAX:
            return True
    return any(abs(r - target) <= slack for r in reachable if r)


def _served_value(line: ErpLine) -> Decimal | None:
    """A line's served value: vlrTotalAtendido, else its served share of its price less discount."""
    if line.total_served is not None:
        return line.total_served
    if not line.qty_ordered:
        return None
    served = _quantity(line)
    return served * line.unit_price - line.discount * served / line.qty_ordered


def _quantity(line: ErpLine) -> Decimal:
    return line.qty_served if line.qty_served is not None else line.qty_ordered
