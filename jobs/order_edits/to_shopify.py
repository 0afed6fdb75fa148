"""Order edits ERP -> Shopify ("faturado com alteração"), flow `order_edits`.

Source: EventoPedido 'S' (jobs.order_events enqueues `apply_event(shop_id, seq_evento)`).
Unit of work: one event; its lines are compared with the Shopify order and the differences
become one order edit (orderEditBegin -> orderEditSetQuantity / orderEditAddVariant ->
orderEditCommit) before the invoice is confirmed (the F event waits for this one).

Per-line ledger: one OrderLineChange per (event, ERP line) — kind cut / substitution / weight /
qty, quantities before and after, the reason — written before the edit (applied=False) and
marked applied after the commit. Quantities are absolute targets, so a replay after a partial
failure converges and an edit already in Shopify costs no mutation.

Weighed items: the catalog flows sell a weighed SKU in units of 1 kg (jobs.catalog_map
WEIGHED_SALE_UNIT_KG), and Shopify quantities are integers, so a different weight cannot be a
quantity. A line picked LIGHTER gets, in the same order edit, a fixed-amount line discount
(orderEditAddLineItemDiscount, "Ajuste de peso: 1,000 kg → 0,985 kg") equal to what the ERP
charges less: its ordered line total minus its served line total (= (ordered kg − weighed kg) ×
price per kg, with the ERP's own rounding and pro-rata discount), so Shopify's current total
follows the NF-e and the invoice's capture settles the order (PAID, not PARTIALLY_PAID).
Shopify applies a fixed value per unit: on a line of n units the per-unit amount is rounded UP
to the cent, so Shopify's line is never above the NF-e line; when n does not divide the
difference Shopify ends up to n−1 cents below the invoice and the NF-e wins (jobs.invoices
captures the invoiced total, never above the authorisation) — the reason records the cents.
A line picked HEAVIER is recorded only (applied False): the customer is not charged above
what was authorised, so the line keeps its price and the capture stays within the
authorisation. A weighed line cut to zero is an ordinary cut. Idempotent like the quantities:
a discount whose description Shopify's line already carries is not sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select

from erp.records import OrderEvent
from jobs import order_events
from ledger import bindings, mappings
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import OrderLineChange, OrderLink
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine

log = logging.getLogger(__name__)

FLOW = "order_edits"
CENT = Decimal("0.01")
WEIGHT_ADJUSTMENT = "Ajuste de peso"


@dataclass(frozen=True)
class LineChange:
    """One ERP line's difference and what it means for the Shopify order."""

    change_key: str  # "event:<seq>:item:<seqItem>" (OrderLineChange idempotency)
    kind: str  # cut | substitution | weight | qty
    sku: str | None
    qty_before: Decimal
    qty_after: Decimal
    reason: str
    line_item_id: str | None = None  # the Shopify line whose quantity is set
    variant_id: str | None = None  # the variant added (substitute) / of the line
    shopify_quantity: int | None = None  # target quantity in Shopify (None: no Shopify change)
    substitute_sku: str | None = None
    discount_per_unit: Decimal | None = None  # weight adjustment: fixed discount per Shopify unit
    discount_description: str | None = None  # "Ajuste de peso: 1,000 kg → 0,985 kg" (its identity)

    @property
    def sends(self) -> bool:
        """Whether this change is applied to Shopify (a quantity or a discount)."""
        return self.shopify_quantity is not None or self.discount_per_unit is not None


def plan_changes(
    event: OrderEvent, lines: Sequence[ShopifyLine], variant_of: Mapping[str, str]
) -> list[LineChange]:
    """Pure: the picking differences of an 'S' event against the Shopify order's lines.

    `variant_of` maps ERP idSku -> ProductVariant gid (the "variant" bindings).
    Raises MappingMissing("variant", idSku) for a substitute whose SKU is not in Shopify.
    """
    substitutes = {line.replaces_seq_item: line for line in event.lines if line.is_substitute}
    changes: list[LineChange] = []
    for line in event.lines:
        if line.qty_served is None:
            continue
        key = f"event:{event.seq_evento}:item:{line.seq_item}"
        if line.is_substitute:
            changes.append(_substitute(key, line, event, variant_of))
            continue
        shopify_line = _match(lines, line.id_sku, variant_of)
        target = _units(line.qty_served)
        line_id = shopify_line.id if shopify_line else None
        variant = shopify_line.variant_id if shopify_line else variant_of.get(line.id_sku or "")
        base = {"sku": line.id_sku, "qty_before": line.qty_ordered, "qty_after": line.qty_served,
                "line_item_id": line_id, "variant_id": variant}  # fmt: skip
        replaced_by = substitutes.get(line.seq_item)
        if replaced_by is not None:
            reason = f"replaced at picking by {replaced_by.id_sku} (ERP line {replaced_by.seq_item})"
            changes.append(LineChange(key, "substitution", shopify_quantity=target,
                                      substitute_sku=replaced_by.id_sku, reason=reason, **base))  # fmt: skip
        elif line.weighed and line.qty_served > 0:
            if line.qty_served != line.qty_ordered:
                changes.append(_weight(key, line, shopify_line, base))
        elif line.qty_served < line.qty_ordered:
            reason = f"cut at picking: {line.qty_served} of {line.qty_ordered} served"
            changes.append(LineChange(key, "cut", shopify_quantity=target, reason=reason, **base))
        elif line.qty_served > line.qty_ordered:
            reason = f"more served than ordered: {line.qty_served} of {line.qty_ordered}"
            changes.append(LineChange(key, "qty", shopify_quantity=target, reason=reason, **base))
    return changes


def _substitute(key: str, line: Any, event: OrderEvent, variant_of: Mapping[str, str]) -> LineChange:
    variant = variant_of.get(line.id_sku or "")
    if variant is None:
        raise MappingMissing(
            "variant",
            line.id_sku or str(line.seq_produto),
            f"substitute {line.id_sku} of ERP order {event.nro_pedvenda} is not in Shopify (no variant "
            "binding): publish the SKU, then the edit resumes",
        )
    quantity = 1 if line.weighed else _units(line.qty_served)
    return LineChange(
        key,
        "substitution",
        sku=line.id_sku,
        qty_before=Decimal("0"),
        qty_after=line.qty_served,
        reason=f"substitute for ERP line {line.replaces_seq_item}",
        variant_id=variant,
        shopify_quantity=quantity,
        substitute_sku=line.id_sku,
    )


def _weight(key: str, line: Any, shopify_line: ShopifyLine | None, base: dict[str, Any]) -> LineChange:
    """A weighed line picked at another weight: a per-unit discount when lighter, a record when heavier."""
    ordered, served = line.qty_ordered, line.qty_served
    weighed = f"weighed {served} kg instead of {ordered} kg"
    if served > ordered:
        reason = (f"{weighed} (heavier): not charged above what was authorised, so the Shopify line keeps "
                  "its price and the capture stays within the authorisation")  # fmt: skip
        return LineChange(key, "weight", reason=reason, **base)
    units = shopify_line.current_quantity if shopify_line else 0
    if units <= 0:
        reason = f"{weighed}: no Shopify line to adjust, the capture follows the NF-e total"
        return LineChange(key, "weight", reason=reason, **base)
    difference = weight_difference(line)
    per_unit = (difference / units).quantize(CENT, rounding=ROUND_CEILING)
    description = f"{WEIGHT_ADJUSTMENT}: {_kg(ordered)} kg → {_kg(served)} kg"
    reason = f"{weighed}: line discount {difference} ({per_unit} per unit x {units}) '{description}'"
    residual = per_unit * units - difference
    if residual:
        reason += (f"; Shopify discounts per unit, so its line is {residual} below the NF-e line, "
                   "and the capture follows the NF-e total")  # fmt: skip
    return LineChange(key, "weight", reason=reason, discount_per_unit=per_unit,
                      discount_description=description, **base)  # fmt: skip


def weight_difference(line: Any) -> Decimal:
    """What the ERP charges less for a lighter pick: its ordered minus its served line total
    (its rounding, its pro-rata discount), else (ordered kg − weighed kg) × price per kg."""
    if line.total_ordered is not None and line.total_served is not None:
        return (line.total_ordered - line.total_served).quantize(CENT)
    return ((line.qty_ordered - line.qty_served) * line.unit_price).quantize(CENT)


def _kg(quantity: Decimal) -> str:
    """Kilograms the Brazilian way: 0,985."""
    return f"{quantity:.3f}".replace(".", ",")


def _match(
    lines: Sequence[ShopifyLine], sku: str | None, variant_of: Mapping[str, str]
) -> ShopifyLine | None:
    variant = variant_of.get(sku or "")
    return next((s for s in lines if variant and s.variant_id == variant), None) or next(
        (s for s in lines if sku and s.sku == sku), None
    )


def _units(quantity: Decimal) -> int:
    return int(quantity.to_integral_value(rounding=ROUND_FLOOR))


# ---------------------------------------------------------------------------- jobs


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: enqueue the EventoPedido poller."""
    order_events.poll_now(shop_id)


def apply_event(shop_id: int, seq_evento: int) -> str:
    """The job the poller enqueues for an 'S' event; the message's final status."""
    return order_events.apply_by_seq(shop_id, seq_evento, FLOW, replay)


def replay(message_id: int) -> str:
    """Redo one 'S' event, re-reading the Shopify order (retry, replay, resume)."""
    return order_events.execute(message_id, _apply)


def _apply(unit: order_events.EventUnit) -> dict[str, Any]:
    event = unit.event
    with session_scope() as session:
        order_events.wait_for_earlier(session, unit.shop_id, event, must_apply=())
        skus = [line.id_sku for line in event.lines if line.id_sku]
        found = bindings.get_many(session, unit.shop_id, "variant", skus)
        variant_of = {k: b.shopify_id for k, b in found.items() if b.shopify_id}
        try:
            location = mappings.location_for_company(session, unit.shop_id, event.nro_empresa)
        except MappingMissing:
            location = None  # Shopify assigns the added line to the order's location
    client = for_shop(unit.shop_domain)
    order = client.order(unit.order_id)
    if order is None:
        raise Rejected(f"Shopify order {unit.order_id} does not exist", system="shopify", code="NOT_FOUND")
    if order.cancelled_at:
        raise order_events.Skipped(f"Shopify order {order.name} is cancelled: picking changes not applied")
    changes = plan_changes(event, order.lines, variant_of)
    if not changes:
        raise order_events.Skipped("picking changed nothing on this order")
    _record(unit.link_id, changes, applied=False)
    edits = _pending_edits(changes, order.lines)
    discounts = _pending_discounts(client, unit.order_id, changes)
    calculated = None
    if edits or discounts:
        edit = client.order_edit_begin(unit.order_id)
        for change in edits:
            if change.line_item_id is not None:
                calc_line = _calculated_line(edit, change)
                client.order_edit_set_quantity(
                    edit.calculated_order_id, calc_line, change.shopify_quantity or 0
                )
            else:
                client.order_edit_add_variant(
                    edit.calculated_order_id, change.variant_id or "", change.shopify_quantity or 0,
                    location_id=location,
                )  # fmt: skip
        for change in discounts:
            order_edit_discounts.add_line_item_discount(
                client.executor, edit.calculated_order_id, _calculated_line(edit, change),
                change.discount_per_unit or Decimal("0"), order.currency or "BRL",
                description=change.discount_description,
            )  # fmt: skip
        note = f"Consinco: separação do pedido {event.nro_pedvenda} (evento {event.seq_evento})"
        client.order_edit_commit(edit.calculated_order_id, staff_note=note)
        calculated = edit.calculated_order_id
    _record(unit.link_id, changes, applied=True)
    with session_scope() as session:
        link = session.get(OrderLink, unit.link_id)
        if link is not None:
            link.erp_status = event.situacao or "S"
    log.info("order_edits: order %s event %s: %d change(s), %d edited, %d discounted", unit.order_id,
             event.seq_evento, len(changes), len(edits), len(discounts),
             extra={"shop_id": unit.shop_id, "flow": FLOW})  # fmt: skip
    return {
        "edited": bool(edits or discounts),
        "discounted": [change.change_key for change in discounts],
        "calculated_order_id": calculated,
        "changes": [_jsonable(change) for change in changes],
    }


def _pending_edits(changes: Sequence[LineChange], lines: Sequence[ShopifyLine]) -> list[LineChange]:
    """The changes Shopify does not show yet (absolute targets: a replay sends nothing twice)."""
    pending = []
    for change in changes:
        if change.shopify_quantity is None:
            continue
        if change.line_item_id is not None:
            current = next((s.current_quantity for s in lines if s.id == change.line_item_id), None)
            if current != change.shopify_quantity:
                pending.append(change)
            continue
        existing = next((s for s in lines if s.variant_id == change.variant_id), None)
        if existing is None:
            pending.append(change)
        elif existing.current_quantity != change.shopify_quantity:
            pending.append(LineChange(**{**asdict(change), "line_item_id": existing.id}))
    return pending


def _pending_discounts(client: Any, order_id: str, changes: Sequence[LineChange]) -> list[LineChange]:
    """The weight discounts Shopify's lines do not carry yet (matched by description: a replay
    after a commit sends nothing). A line already adjusted for another weighing is refused:
    a second discount would charge the customer less twice."""
    wanted = [c for c in changes if c.discount_per_unit is not None and c.line_item_id is not None]
    if not wanted:
        return []
    carried = order_edit_discounts.line_discounts(client.executor, order_id)
    pending = []
    for change in wanted:
        descriptions = [d.description or "" for d in carried.get(change.line_item_id or "", [])]
        if change.discount_description in descriptions:
            continue
        other = next((d for d in descriptions if d.startswith(WEIGHT_ADJUSTMENT)), None)
        if other is not None:
            raise Rejected(
                f"line {change.sku} already carries '{other}'; this picking says "
                f"'{change.discount_description}': a person must adjust the order by hand",
                system="shopify",
                code="WEIGHT_ALREADY_ADJUSTED",
            )
        pending.append(change)
    return pending


def _calculated_line(edit: Any, change: LineChange) -> str:
    line = edit.line_for_variant(change.variant_id) if change.variant_id else None
    line = line or next((c for c in edit.lines if change.sku and c.sku == change.sku), None)
    if line is None:
        raise Rejected(
            f"order edit has no line for {change.sku or change.variant_id}",
            system="shopify",
            code="LINE_NOT_EDITABLE",
        )
    return line.id


def _record(link_id: int, changes: Sequence[LineChange], *, applied: bool) -> None:
    """Upsert the per-line ledger rows (one per (event, ERP line))."""
    with session_scope() as session:
        existing = {
            row.change_key: row
            for row in session.scalars(
                select(OrderLineChange).where(
                    OrderLineChange.order_link_id == link_id,
                    OrderLineChange.change_key.in_([c.change_key for c in changes]),
                )
            )
        }
        for change in changes:
            row = existing.get(change.change_key)
            if row is None:
                row = OrderLineChange(
                    order_link_id=link_id, change_key=change.change_key, direction=ERP_TO_SHOPIFY
                )
                session.add(row)
            row.kind, row.sku, row.substitute_sku = change.kind, change.sku, change.substitute_sku
            row.qty_before, row.qty_after, row.reason = change.qty_before, change.qty_after, change.reason
            row.applied = applied and change.sends


def _jsonable(change: LineChange) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(change).items()}
