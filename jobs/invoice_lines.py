"""What an invoice fulfils (flow `invoices`): the units its NF-e carries, in Shopify's terms.

The ERP's lines say what was picked and invoiced (its served quantities), and the picking edit
(jobs.order_edits.to_shopify) set the Shopify order to them: an item sold by the unit at its
served units; a weighed item at the units it was sold in (a lighter or heavier weighing is a
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
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from erp.records import OrderLine as ErpLine
from shopify_app.admin_api.order_results import FulfillmentOrder, OrderLine

OPEN = {"OPEN", "IN_PROGRESS", "SCHEDULED"}  # SCHEDULED: opened first (fulfillmentOrderOpen)
ZERO = Decimal("0")


def invoiced_units(lines: Sequence[ErpLine]) -> dict[str, int]:
    """Pure: the Shopify units the NF-e carries per ERP SKU (idSku), every line of the SKU added."""
    units: dict[str, int] = {}
    for line in lines:
        if not line.id_sku:
            continue
        served = line.qty_served if line.qty_served is not None else line.qty_ordered
        if served <= 0:
            count = 0
        elif line.weighed and line.is_substitute:
            count = int(served.to_integral_value(rounding=ROUND_CEILING))
        elif line.weighed:
            count = int(line.qty_ordered.to_integral_value(rounding=ROUND_CEILING))
        else:
            count = int(served.to_integral_value(rounding=ROUND_FLOOR))
        units[line.id_sku] = units.get(line.id_sku, 0) + count
    return units


@dataclass
class FulfilmentPlan:
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # FO id -> [{id, quantity}]
    held: list[str] = field(default_factory=list)  # ON_HOLD fulfillment orders with invoiced units
    left: dict[str, int] = field(default_factory=dict)  # on no NF-e line: SKU (or name) -> units


def plan_fulfilment(
    fulfillment_orders: Sequence[FulfillmentOrder],
    order_lines: Sequence[OrderLine],
    invoiced: Mapping[str, int],
    sku_of_variant: Mapping[str, str],
) -> FulfilmentPlan:
    """Pure: per fulfillment order, the lines and quantities to fulfil so each SKU reaches at most
    the units invoiced (counting what is fulfilled already), and what is left for a person."""
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
            if item.remaining_quantity <= 0:
                continue
            quantity = max(0, min(item.remaining_quantity, allowance.get(key, 0)))
            if quantity:
                allowance[key] -= quantity
                taken.append({"id": item.id, "quantity": quantity})
            if quantity < item.remaining_quantity:
                plan.left[key] = plan.left.get(key, 0) + item.remaining_quantity - quantity
        if not taken:
            continue
        if fo.status == "ON_HOLD":
            plan.held.append(fo.id)
        else:
            plan.lines[fo.id] = taken
    return plan


def carries_all_served(served: Sequence[ErpLine], carried: Sequence[Sequence[ErpLine]]) -> bool:
    """Pure: whether the NF-e (each its event's lines, `carried`) carry every line the ERP order
    served (`served`, GET PedidoVenda: a line cut to nothing needs none), each to its served quantity,
    lines matched by seqItem (a line split over two NF-e adds up). False when the ERP order lists no
    served line: nothing then says the order is fully invoiced. One NF-e whose event lists no lines
    (the layout is [assumed]) adds nothing: it cannot be said to carry a line."""
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


def _quantity(line: ErpLine) -> Decimal:
    return line.qty_served if line.qty_served is not None else line.qty_ordered
