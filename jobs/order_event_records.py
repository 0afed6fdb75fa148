"""ERP order events (EventoPedido rows) the client cannot read: each fails alone, the poll goes on.

Why: one row missing a field the app needs (its nroPedVenda, a line's quantity, an NF-e's key) or
holding one it cannot read stopped the whole read, so no event of any order was applied (no
invoice, no picking cut, no cancellation) on every poll of the shop, until someone changed the row.
Now the poller (jobs.order_events) reads with `keep_malformed` (erp.paging.ChangeRead) and such a
row fails a message of its own, unit "record:event:<seqEvento>" (":erp<n>" after the ERP
connection moved, as an event's unit), rejected as RECORD_UNREADABLE, naming the event, its order
and the field, in the flow its kind belongs to (an unknown or unreadable kind: the order edits').
Every other event is applied.

Events are immutable and read by change time only (no by-id read), so the poller's cursor never
passes such a row (`hold`): every poll reads it again, and once it can be read (the row fixed in
Consinco, or a field renamed in CONSINCO_FIELD_MAP) it is taken like any other event and its
record's message is done. Meanwhile a later event of the same order that must wait for an earlier
one (an invoice for its picking) is held behind it (jobs.order_events.wait_for_earlier), and
resumes by itself once the record is read (jobs.order_catch_up). Retry of the message polls now.

A person who applied the event by hand in Shopify closes its message as handled: the poller then
stops holding its cursor for it (and its later events go on), the row left unread.

The poll reads every event of the ERP (a chain's stores share one ERP, and its EventoPedido has no
store filter): a row whose order number reads and that no link of this shop names, by that number
or by the channel id the row carries, is another store's order (or one typed in the ERP) and none
of this shop's business (`record`): no message asks this merchant to fix it, and the cursor is not
held for it (a sibling store on the same ERP holds its own). A row whose order cannot be read at all
may be this shop's: it fails and holds as above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp import fields as f
from erp.errors import SYSTEM, ErpUnexpectedShape
from erp.names import Names
from jobs.catalog_malformed import Hold
from ledger import handled, trace
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, MessageStatus, OrderLink

PREFIX = "record:event:"
CODE = "RECORD_UNREADABLE"  # as an unreadable catalog record's (jobs.catalog_malformed)
TEXT = (
    "The ERP order event (EventoPedido) {seq} of ERP order {nro} could not be read: field {field!r} "
    "{problem}. Every other event was applied; this one is read again by every poll until it can be "
    "read, and a later event of its order that must follow it waits: fix the row in Consinco (or the "
    "field name in CONSINCO_FIELD_MAP), then retry; or apply it by hand in Shopify and mark this as "
    "handled"
)
# A row of an order no link of this shop names, failed before `record` told them apart: closed as
# an event of an order not linked is (jobs.order_events.UNKNOWN_ORDER, its words).
NOT_OURS = (
    "ERP order {nro} is not linked to any Shopify order of this shop (typed in the ERP, or from "
    "another channel): nothing to change in Shopify"
)


@dataclass(frozen=True)
class Unread:
    """One EventoPedido row the read could not parse, and what is known of it."""

    unit_key: str
    flow: str
    seq: int | None
    nro: int | None
    changed_at: datetime | None
    error: Rejected
    channel: str | None = None  # idPedidoCanalVenda, as far as it reads (the Shopify order's gid)


def unit_key(ident: int | str, generation: int = 0) -> str:
    """An unreadable event's unit: its seqEvento (or a digest of the row when even that is
    unreadable), of the shop's `generation`-th ERP as an event's unit says it."""
    return f"{PREFIX}{ident}" + (f":erp{generation}" if generation else "")


def describe(
    raw: Any,
    error: ErpUnexpectedShape,
    names: Names,
    flows: dict[str, str],
    default_flow: str,
    generation: int,
) -> Unread:
    """The row's event, order, kind and change time as far as they can be read, and the merchant's
    text; `flows`: an event kind -> the flow it belongs to (jobs.order_events.FLOW_BY_KIND)."""
    n = names.fields["event"]
    row = raw if isinstance(raw, dict) else {}
    seq, nro = _int(row.get(n["seq_evento"])), _int(row.get(n["nro_pedvenda"]))
    kind, channel = row.get(n["kind"]), row.get(n["channel_order_id"])
    try:
        changed_at: datetime | None = f.when(row, n["occurred_at"], error.endpoint, names.zone)
    except ErpUnexpectedShape:
        changed_at = None
    ident: int | str = (
        seq if seq is not None else "row-" + hashlib.sha256(orjson.dumps(raw, default=str)).hexdigest()[:12]
    )
    said = {"seq": "?" if seq is None else seq, "nro": "?" if nro is None else nro, "field": error.field}
    rejected = Rejected(
        TEXT.format(problem=error.problem, **said),
        system=SYSTEM,
        code=CODE,
        field=error.field,
        detail={
            "endpoint": error.endpoint,
            "problem": error.problem,
            "kind": kind if isinstance(kind, str) else None,
        },
        words=("unreadable_event", said),
    )
    flow = flows.get(kind, default_flow) if isinstance(kind, str) else default_flow
    channel = channel.strip() if isinstance(channel, str) and channel.strip() else None
    return Unread(unit_key(ident, generation), flow, seq, nro, changed_at, rejected, channel)


def record(
    session: Session, shop_id: int, unread: Sequence[Unread], flows: Collection[str], generation: int
) -> list[Unread]:
    """One failed message per unreadable row, and the earlier ones (of the ERP the shop is on now)
    done when their row is not unreadable any more. Only after a read consumed whole: the cursor
    held every row that failed before, so this read had it again (read now, or gone). Returns the
    rows the cursor must still not pass: all but those a person closed as handled.

    A row failing as it failed before is left as it is: the poll runs every few minutes, and its
    message's attempts and time say when it first failed, not that it was read again. A row of an
    order not this shop's (`_of_shop`) is neither recorded nor held (one failed before is closed
    as skipped)."""
    failing = {u.unit_key: u for u in unread}
    held = []
    for flow in flows:
        for message in trace.open_units(session, shop_id, flow, PREFIX + "%"):
            if _generation(message.unit_key) != generation or handled.info(message) is not None:
                continue
            if message.unit_key not in failing or failing[message.unit_key].flow != flow:
                trace.succeed(session, message, response={"read": True})
    for u in unread:
        message = session.scalars(
            select(Message).where(
                Message.shop_id == shop_id, Message.flow == u.flow, Message.unit_key == u.unit_key
            )
        ).one_or_none()
        if message is not None and handled.info(message) is not None:
            continue  # applied by hand: the cursor moves on, the row left unread
        if not _of_shop(session, shop_id, u):  # another store's order: not this merchant's to fix
            if message is not None and message.status == MessageStatus.FAILED.value:
                said = {"nro": u.nro}
                trace.skip(session, message, NOT_OURS.format(**said), words=("event_unknown_order", said))
            continue
        held.append(u)
        if (
            message is not None
            and message.status == MessageStatus.FAILED.value
            and message.error_text == u.error.message
        ):
            continue
        link = _link(session, shop_id, u.nro)
        message = trace.begin(
            session, shop_id, u.flow, u.unit_key, ERP_TO_SHOPIFY,
            erp_id=None if u.nro is None else str(u.nro),
            search=[u.seq, u.nro, link.shopify_order_name if link else None],
            request={"seq_evento": u.seq, "nro_pedvenda": u.nro},
            job_id=None,
        )  # fmt: skip
        trace.fail(session, message, u.error)
    return held


def hold(unread: Sequence[Unread]) -> Hold:
    """How far the cursor may move (jobs.catalog_malformed.Hold, as a catalog read's): not past the
    earliest unreadable row (the read is inclusive: it is read again), and not at all while a row's
    change time is unknown."""
    if not unread:
        return Hold()
    if any(u.changed_at is None for u in unread):
        return Hold(True, None)
    return Hold(True, min(u.changed_at for u in unread if u.changed_at is not None))


def earlier(session: Session, shop_id: int, nro: int, seq: int, generation: int) -> list[Message]:
    """The unreadable rows of ERP order `nro` (of the `generation`-th ERP) older than event `seq`
    whose messages are still failed, oldest first."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.erp_id == str(nro),
            Message.direction == ERP_TO_SHOPIFY,
            Message.unit_key.like(PREFIX + "%"),
            Message.status == MessageStatus.FAILED.value,
        )
    ).all()
    found = [
        (s, m)
        for m in rows
        if _generation(m.unit_key) == generation and (s := seq_of(m.unit_key)) is not None and s < seq
    ]
    return [m for _, m in sorted(found, key=lambda pair: pair[0])]


def seq_of(key: str) -> int | None:
    """The seqEvento a record's unit names (None: a row whose seqEvento could not be read)."""
    ident = key.removeprefix(PREFIX).split(":", 1)[0]
    return int(ident) if ident.isdigit() else None


def _generation(key: str) -> int:
    parts = key.removeprefix(PREFIX).split(":erp", 1)
    return int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 0


def _of_shop(session: Session, shop_id: int, u: Unread) -> bool:
    """Whether the unreadable row may be of this shop's order: its order number unreadable (it may
    be), or a link of the shop naming it, by that number or by the row's channel id (a link whose
    number the post's lost answer has not told yet)."""
    if u.nro is None or _link(session, shop_id, u.nro) is not None:
        return True
    if u.channel is None:
        return False
    found = session.scalar(
        select(OrderLink.id)
        .where(OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == u.channel)
        .limit(1)
    )
    return found is not None


def _link(session: Session, shop_id: int, nro: int | None) -> OrderLink | None:
    """The shop's newest link of ERP order `nro` (its name makes the message findable and named)."""
    if nro is None:
        return None
    return session.scalars(
        select(OrderLink)
        .where(OrderLink.shop_id == shop_id, OrderLink.nro_pedvenda == nro)
        .order_by(OrderLink.id.desc())
        .limit(1)
    ).one_or_none()


def _int(value: Any) -> int | None:
    """An id as an integer (a number, or digits as text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
