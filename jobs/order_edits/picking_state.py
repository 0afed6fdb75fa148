"""Whether the ERP's picking of an order is in its Shopify order yet (for jobs.order_edits.to_erp).

Once the ERP separated an order (SITUACAOPED S, then F), a change made in Shopify is counted
against what the ERP served (`to_erp.diff(..., served=True)`): the ERP -> Shopify side applies the
picking to the Shopify order (jobs.order_edits.to_shopify on the EventoPedido S; jobs.invoices on
a "faturado com alteração" F with no S before it), so a cut is the ERP's own change, not the
merchant's. Between the separation and that edit (the poller has not read the event yet, or its job
is queued or retrying), Shopify still shows the order as placed: counted against what was served,
the ERP's cut of an item from 3 to 1 would read as the merchant raising it from 1 to 3, and be
flagged and recorded as such. So the change waits for the picking (Transient: RQ retries, then the
orders catch-up replays it; nothing waits forever once the event is applied) and is counted then.

A picking that changed nothing (every line served as ordered) has nothing to bring to Shopify: no
wait. A picking edit that failed or is parked (a final state a person resolves) left Shopify as
placed: the change is counted against what was ordered. Only the ERP's events count (direction
erp_to_shopify, unit `event:<seq>`) of the ERP the order belongs to (jobs.order_generation: the
caller refused an order of another ERP before).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.records import Order as ErpOrder
from jobs import order_generation
from ledger import order_notes
from ledger.errors import Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, MessageStatus

PICKING_FLOW = "order_edits"  # the S event's applier (jobs.order_edits.to_shopify)
INVOICES_FLOW = "invoices"  # an altered F's applier edits the order itself (jobs.invoices)
APPLIED = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)
WAITING = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)


def changed(current: ErpOrder) -> bool:
    """Whether the ERP's picking differs from the order as placed: a line cut or weighed
    otherwise than ordered, or a substitute added."""
    return any(
        line.is_substitute or (line.qty_served is not None and line.qty_served != line.qty_ordered)
        for line in current.lines
    )


def counts_served(session: Session, shop_id: int, nro: int, current: ErpOrder) -> bool:
    """Whether a change of the separated order is counted against what the ERP served (True: the
    picking is in Shopify, or changed nothing) or against what was ordered (False: its edit failed
    or is parked, Shopify still shows the order as placed).

    Raises:
        Transient: the picking is not in Shopify yet (its event not read yet, or its job queued,
            running or retrying).
    """
    if not changed(current):
        return True
    generation = order_generation.current(session, shop_id)
    rows = [
        row
        for row in session.execute(
            select(Message.unit_key, Message.flow, Message.status)
            .add_columns(Message.request_payload, Message.response_payload)
            .where(
                Message.shop_id == shop_id,
                Message.flow.in_((PICKING_FLOW, INVOICES_FLOW)),
                Message.direction == ERP_TO_SHOPIFY,
                Message.unit_key.like("event:%"),
                Message.erp_id == str(nro),
            )
        )
        if order_notes.generation_of(row.unit_key) == generation
    ]
    applied = [row for row in rows if _applied(row.flow, row.status, row.response_payload)]
    if applied:
        # the latest picking must be the one in Shopify: the store picking the order again (a 3 -> 2
        # cut applied, then 2 -> 1) with that event not applied yet, or not read yet (the ERP now
        # serves other quantities than the last one applied), was counted as the merchant raising
        # the item back, and flagged so
        last = max(applied, key=lambda row: seq_of(row.unit_key))
        later = [
            row.unit_key
            for row in rows
            if row.status in WAITING and seq_of(row.unit_key) > seq_of(last.unit_key)
        ]
        served = _served(last.request_payload)
        if not later and (served is None or served == _served_now(current)):
            return True
        seen = f" (event {', '.join(later)} not applied yet)" if later else " (its event not read yet)"
        raise Transient(
            f"ERP order {nro} was separated again with changes that are not in the Shopify order yet{seen}: "
            "the change made in Shopify is counted once the picking is there",
            nro_pedvenda=nro,
        )
    pending = [row.unit_key for row in rows if row.status in WAITING]
    if pending or not rows:  # events are read in order: an F seen means its S was too (or none was)
        seen = f" (event {', '.join(pending)} not applied yet)" if pending else " (its event not read yet)"
        raise Transient(
            f"ERP order {nro} was separated with changes that are not in the Shopify order yet{seen}: "
            "the change made in Shopify is counted once the picking is there",
            nro_pedvenda=nro,
        )
    return False


def _served(payload: dict[str, Any] | None) -> dict[int, Decimal | None] | None:
    """{seqItem: quantity served} of an applied event's lines as its message holds them (None: it
    holds none to compare, an older row)."""
    lines = (payload or {}).get("lines")
    if not isinstance(lines, list) or not lines:
        return None
    try:
        return {
            int(line["seq_item"]): None
            if line.get("qty_served") is None
            else Decimal(str(line["qty_served"]))
            for line in lines
        }
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


def seq_of(unit_key: str) -> int:
    """The seqEvento an event's unit names (0: none)."""
    event = order_notes.event_of(unit_key)
    return event[0] if event else 0


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _served_now(current: ErpOrder) -> dict[int, Decimal | None]:
    return {line.seq_item: line.qty_served for line in current.lines}


def _applied(flow: str, status: str, response: dict[str, Any] | None) -> bool:
    """A picking edit applied (or with nothing to send), or an invoice that edited the order with
    its own lines (its response's `picking`, jobs.invoices)."""
    if flow == PICKING_FLOW:
        return status in APPLIED
    return isinstance((response or {}).get("picking"), dict)
