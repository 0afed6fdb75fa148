"""The picking another ERP event of the same order applied already (flow `order_edits`, ERP -> Shopify).

An ERP may report one picking twice: the separation ('S') event emitted again under a new
seqEvento, or an ERP that reports only the invoice ("faturado com alteração", an 'F' event that
carries the picking) sending the carrier's tracking later as another 'F' event, a copy of the
first. Cuts and quantities are absolute targets and a weight adjustment is known by its
discount's description on the line, so those cost nothing twice; a weighed SUBSTITUTE of whole
kilograms needs no discount, and is added on lines of its own (allowDuplicates), so nothing on
Shopify's order tells it from a person's addition: only the ledger does. Each event's changes
are kept per ERP line (OrderLineChange, `change_key`): this module reads those of the order's
OTHER events of the same ERP (generation: after the connection moved, another ERP's event 7 is
another event, jobs.order_events) and says, per ERP line of this event:

- `applied`: the same weighed substitute (same SKU, same weight) another event added to Shopify
  (its row applied): it is not added again (`to_shopify` marks it `adjusted`, nothing sent);
- `tried`: another event recorded it but its commit's answer never came (row not applied): the
  order itself is read as a retry of this event reads it (`to_shopify._weighed_adds_found`);
- a DIFFERENT weighed substitute of the same ERP line another event added (another weight, another
  SKU): refused for a person (SUBSTITUTE_ALREADY_ADDED), as a second weighing of a line is
  (WEIGHT_ALREADY_ADJUSTED): adding it too would charge the customer for both.

And, per change of any kind, `applied_alike`: the same change of an ERP line (kind, SKU, quantities
before and after) as the last one another event of the order recorded for that line, applied — the
same picking reported again, also under another NF-e key (an NF-e cancelled and re-issued: its 'F'
event "faturado com alteração" carries the picking the first key's event applied). It is in
Shopify already and is not sent again: a target set again would undo what a person changed in
Shopify since (a unit refunded comes back on the order) or be refused (a line fulfilled at the
first NF-e). A line whose picking changed since (another cut, another weight) is another change,
and is applied. So is one Shopify no longer shows: a line holding MORE units than the target (a
person put units back since; the ERP served, and invoices, the target), a substitute's variant not
on the order at all. One holding fewer (a refund since) is in Shopify already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.records import OrderEvent
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, OrderLineChange, OrderLink

# "event:<seq>:item:<seqItem>" of the shop's first ERP, "event:<seq>:erp<n>:item:<seqItem>" of the n-th.
# Rows written before the keys named the generation hold the first form whatever ERP's event wrote
# them: one of an event the order has no first-ERP message of was the n-th ERP's (`legacy`).
_KEY = re.compile(r"^event:(\d+)(?::erp(\d+))?:item:(\d+)$")
_FIRST_ERP_EVENT = re.compile(r"^event:(\d+)$")


def event_prefix(seq_evento: int, generation: int = 0) -> str:
    """The change keys' prefix of one event (its unit key, jobs.order_events.unit_key, + ':item:')."""
    erp = f":erp{generation}" if generation else ""
    return f"event:{seq_evento}{erp}:item:"


def change_key(seq_evento: int, seq_item: int, generation: int = 0) -> str:
    return f"{event_prefix(seq_evento, generation)}{seq_item}"


@dataclass(frozen=True)
class Recorded:
    """One ledger row of another event of the order: what it did to one ERP line."""

    seq_evento: int
    seq_item: int
    kind: str
    sku: str | None
    qty_after: Decimal | None
    applied: bool
    qty_before: Decimal | None = None


@dataclass(frozen=True)
class Seen:
    """This event's weighed substitutes (by seqItem) another event of the order recorded."""

    applied: dict[int, int] = field(default_factory=dict)  # seqItem -> the event that added it
    tried: set[int] = field(default_factory=set)  # recorded, its commit never confirmed


def recorded(link_id: int, event: OrderEvent, generation: int) -> list[Recorded]:
    """The ledger rows of the order's other events of the same ERP (generation)."""
    with session_scope() as session:
        rows = session.execute(
            select(
                OrderLineChange.change_key, OrderLineChange.kind, OrderLineChange.sku,
                OrderLineChange.qty_after, OrderLineChange.applied, OrderLineChange.qty_before,
            ).where(OrderLineChange.order_link_id == link_id, OrderLineChange.change_key.startswith("event:"))
        ).all()  # fmt: skip
        first_erp = _first_erp_events(session, link_id) if generation else set()
    found = []
    for key, kind, sku, qty_after, applied, qty_before in rows:
        parts = _KEY.match(key)
        if parts is None or int(parts[1]) == event.seq_evento:
            continue
        written_by = int(parts[2]) if parts[2] else (0 if int(parts[1]) in first_erp else generation)
        if written_by != generation:
            continue
        found.append(Recorded(int(parts[1]), int(parts[3]), kind, sku, qty_after, bool(applied), qty_before))
    return found


def legacy(link_id: int, seq_evento: int, generation: int) -> dict[str, str]:
    """This event's rows recorded before the keys named the ERP generation ("event:<seq>:item:<i>",
    a generation >= 1 event's applied before the deploy): {its key now: the key it holds}. Only
    when the order has no message of the first ERP's event <seq> (else the rows are that one's)."""
    if not generation:
        return {}
    old = event_prefix(seq_evento)
    with session_scope() as session:
        keys = session.scalars(
            select(OrderLineChange.change_key).where(
                OrderLineChange.order_link_id == link_id,
                OrderLineChange.change_key.startswith(old, autoescape=True),
            )
        ).all()
        if not keys or seq_evento in _first_erp_events(session, link_id):
            return {}
    return {
        change_key(seq_evento, item, generation): key for key in keys if (item := item_of(key)) is not None
    }


def _first_erp_events(session: Session, link_id: int) -> set[int]:
    """The seqEventos of the order's messages of ERP events of the shop's first ERP (generation 0)."""
    link = session.get(OrderLink, link_id)
    if link is None:
        return set()
    keys = session.scalars(
        select(Message.unit_key).where(
            Message.shop_id == link.shop_id,
            Message.shopify_id == link.shopify_order_id,
            Message.direction == ERP_TO_SHOPIFY,
            Message.unit_key.like("event:%"),
        )
    )
    return {int(parts[1]) for key in keys if (parts := _FIRST_ERP_EVENT.match(key))}


def weighed_substitutes(event: OrderEvent, others: Iterable[Recorded]) -> Seen:
    """Pure: which of this event's weighed substitutes another event recorded (`Seen`).

    Raises Rejected (SUBSTITUTE_ALREADY_ADDED) for one whose ERP line another event applied with
    another substitute or weight."""
    by_item: dict[int, list[Recorded]] = {}
    for row in others:
        by_item.setdefault(row.seq_item, []).append(row)
    seen = Seen()
    for line in event.lines:
        if not (line.is_substitute and line.weighed and line.qty_served and line.qty_served > 0):
            continue
        rows = by_item.get(line.seq_item, [])
        kg = line.qty_served
        same = [r for r in rows if r.kind == "substitution" and r.sku == line.id_sku and r.qty_after == kg]
        added = next((r for r in same if r.applied), None)
        if added is not None:
            seen.applied[line.seq_item] = added.seq_evento
        elif same:
            seen.tried.add(line.seq_item)
        elif other := next((r for r in rows if r.applied and r.kind == "substitution"), None):
            raise Rejected(
                f"ERP event #{other.seq_evento} added substitute {other.sku} ({other.qty_after}) for "
                f"ERP line {line.seq_item} of order {event.nro_pedvenda}; event #{event.seq_evento} says "
                f"{line.id_sku} ({kg}): adding it too would charge both; a person must adjust the order "
                "by hand",
                system="app",
                code="SUBSTITUTE_ALREADY_ADDED",
                words=("picking_substitute_added_before", {
                    "other_seq": other.seq_evento, "other_sku": other.sku, "other_qty": other.qty_after,
                    "item": line.seq_item, "nro": event.nro_pedvenda, "seq": event.seq_evento,
                    "sku": line.id_sku, "qty": kg}),
            )  # fmt: skip
    return seen


def applied_alike(changes: Iterable[Any], others: Iterable[Recorded], lines: Sequence[Any]) -> dict[str, int]:
    """Pure: this event's changes (`to_shopify.LineChange`s) that are the same change of their ERP
    line as the LAST one another event of the order recorded for it, when that one was applied and
    Shopify still shows it (`_undone`): {change key: that event's seqEvento}. The same kind, SKU
    and quantities before and after (a line ordered or picked otherwise since is another change);
    the last by seqEvento (a line cut to 2, then to 1 by a later event, and reported at 2 again is
    changed back). `lines`: the Shopify order's lines (`OrderLine`s) as read now."""
    last: dict[int, Recorded] = {}
    for row in others:
        if row.seq_item not in last or row.seq_evento > last[row.seq_item].seq_evento:
            last[row.seq_item] = row
    found = {}
    for change in changes:
        row = last.get(item_of(change.change_key) or -1)
        if row is None or not row.applied or _undone(change, lines):
            continue
        if (row.kind, row.sku, row.qty_before, row.qty_after) == (
            change.kind, change.sku, change.qty_before, change.qty_after,
        ):  # fmt: skip
            found[change.change_key] = row.seq_evento
    return found


def _undone(change: Any, lines: Sequence[Any]) -> bool:
    """Whether Shopify no longer shows a quantity change applied before: its line holds MORE units
    than the target (a person put units back since: the ERP served, and invoices, the target), or
    the variant a substitute adds is not on the order at all. Fewer units (a person refunded some
    since), or none of a substitute's line left, is not undone: a target set again would put the
    refunded units back. A weight's discount (its description on the line, `to_shopify._weight`)
    and a weighed substitute's lines of their own (`weighed_substitutes`) are known otherwise."""
    if change.shopify_quantity is None or change.kind == "weight" or change.adds_weighed:
        return False
    if change.line_item_id is not None:
        line = next((s for s in lines if s.id == change.line_item_id), None)
    else:  # the substitute's line, as to_shopify._pending_edits finds it again
        line = substitute_line(change.variant_id, change.shopify_quantity, lines)
        if line is None:
            return not any(s.variant_id == change.variant_id for s in lines)
    return line is not None and line.current_quantity > change.shopify_quantity


def substitute_line(variant_id: str | None, units: int | None, lines: Sequence[Any]) -> Any | None:
    """Pure: the Shopify line a substitute by a product with no ERP line of its own was added on, as
    a change planned before finds it (`to_shopify._pending_edits`, `_undone`): among its variant's
    lines holding units, one holding the substitute's (the edit added them on a line of their own,
    beside a person's addition of the product), else the first; None when none holds any (a line a
    person removed before the ERP had the order is not the substitute's, and takes no edit)."""
    held = [s for s in lines if s.variant_id == variant_id and s.current_quantity > 0]
    return next((s for s in held if s.current_quantity == units), held[0] if held else None)


def left_by_picking(others: Iterable[Recorded]) -> dict[int, Decimal | None]:
    """Pure: per ERP line another event of the order picked as a cut or a quantity (a line sold by
    the unit), the quantity served its LAST applied row (by seqEvento) set the Shopify line to, None
    when none of them was applied (a cut held back: the line as placed). What the app's own picking
    left the line with (`to_shopify._picked_again`: fewer units on it now are a person's). An ERP line
    any event picked otherwise (a weighing, a substitution) is not here."""
    rows: dict[int, list[Recorded]] = {}
    for row in others:
        rows.setdefault(row.seq_item, []).append(row)
    found: dict[int, Decimal | None] = {}
    for item, picked in rows.items():
        if any(row.kind not in ("cut", "qty") for row in picked):
            continue
        applied = [row for row in picked if row.applied]
        found[item] = max(applied, key=lambda row: row.seq_evento).qty_after if applied else None
    return found


def item_of(key: str) -> int | None:
    """The ERP line (seqItem) a change key names."""
    parts = _KEY.match(key)
    return int(parts[3]) if parts else None


def tried_keys(event: OrderEvent, seen: Seen, generation: int) -> set[str]:
    """This event's change keys of the weighed substitutes another event tried (read as a retry)."""
    return {change_key(event.seq_evento, item, generation) for item in seen.tried}
