"""The EventoPedido poller (schedule "order_events"): ERP order events -> one job per event.

Source: Consinco `GET PedidoVenda/EventoPedido`, cursor DtaHorEvento (watermark flow
"order_events", boundary kept in Watermark.boundary). Unit of work: one immutable event
(seqEvento), traced as a message `event:<seqEvento>` of the flow its kind belongs to (after the
ERP connection moved to another ERP, `event:<seqEvento>:erp<generation>`: each ERP numbers its
events, and its orders, on its own, so another ERP's event 7 is not the one already seen):

    S (separated at picking) -> order_edits   -> jobs.order_edits.to_shopify.apply_event
    F (invoiced)             -> invoices      -> jobs.invoices.apply_event
    C (cancelled)            -> cancellations -> jobs.cancellations.to_shopify.apply_event

The poller writes the message (with the event as request_payload: events are immutable, so a
replay re-reads Shopify's state but never needs the ERP's history) and enqueues the job by
dotted name with the deterministic id `order-event-<shop>-<seq>`. An event seen again (the
read overlaps its boundary) finds its message and is not enqueued twice. A read with no cursor (the
shop's first, or the first after an ERP move) starts a day before the first order the shop linked
(`first_read_since`), not at the ERP's first event: what came before is no order of the app's.

Order of one order's events (S before F before C) is kept by the appliers, not by the queue:
each holds the order's record lock and first asks `wait_for_earlier`: an earlier event still
pending makes it retry later (Transient), an invoice whose picking edit failed is held with
the reason (an F is never applied on top of a Shopify order that does not match the picking).

`execute` is the shared driver of the three appliers: lock, attempt count, classified failure. A
message a person closed as handled (`ledger.handled`) is final: a job still queued for it (its
Retry, the poller's) ends without touching it, as the orders flow's `_handled_outside` does. An
event whose link, found by its channel id, tracks another ERP order (a duplicate the ERP holds for
the same Shopify order) fails there, naming both, and nothing is applied (`other_order`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rq import get_current_job
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import erp
from erp import ChangeRead
from erp.records import OrderEvent
from jobs import old_orders, order_event_records, order_posted
from jobs.catalog_malformed import Hold
from jobs.invoice_capture import ASKED
from jobs.invoice_record import FULFILLED_FOR, FULFILLMENTS, KEY, WRITTEN
from jobs.locks import LockBusy, flow_lock, record_lock
from jobs.order_edits import held as held_edits
from jobs.order_event_codec import event_from_payload, event_payload
from jobs.order_generation import current as erp_generation
from jobs.order_generation import ever_moved, of_link
from jobs.shop_served import served_only, skipped_dict
from ledger import (
    fence,
    handled,
    install_periods,
    order_link_by_hand,
    order_notes,
    queues,
    shop_settings,
    trace,
    watermarks,
)
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected, Transient, as_transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import (
    LocationMapping,
    Message,
    MessageStatus,
    OrderLink,
    Shop,
    StoreLink,
    Watermark,
    utcnow,
)
from ledger.words import Words

log = logging.getLogger(__name__)

FLOW = "order_events"  # the watermark's name and the schedule's
FIRST_READ_MARGIN = timedelta(days=1)  # a read with no cursor starts this far before it may matter
CANCELLATIONS = "cancellations"
FLOW_BY_KIND = {"S": "order_edits", "F": "invoices", "C": CANCELLATIONS}
PICKED = frozenset({"S", "F"})  # the ERP order no longer takes an edit (jobs.order_edits.to_erp.NOT_EDITABLE)
JOB_BY_FLOW = {
    "order_edits": "jobs.order_edits.to_shopify.apply_event",
    "invoices": "jobs.invoices.apply_event",
    "cancellations": "jobs.cancellations.to_shopify.apply_event",
}
FINAL = {
    MessageStatus.DONE.value,
    MessageStatus.SKIPPED.value,
    MessageStatus.FAILED.value,
    MessageStatus.PARKED.value,
}
WAITING = {MessageStatus.PENDING.value, MessageStatus.RETRYING.value}
EVENT_FLOWS = tuple(dict.fromkeys(FLOW_BY_KIND.values()))
# An event of a kind the app does not know (Consinco's S, F and C are the ones it applies): traced
# skipped among the order's changes, so it is seen on the Messages list and the order's page.
UNKNOWN_KIND_FLOW = "order_edits"
UNKNOWN_KIND = (
    "ERP event {seq} of ERP order {nro} is of a kind the app does not know ({kind}): nothing was applied "
    "in Shopify; check whether the order in Shopify needs a change"
)
SHOPIFY_ORDER = "gid://shopify/Order/"  # an order's channel id, as the app posts it (idPedidoCanalVenda)
UNKNOWN_ORDER = (
    "ERP order {nro} is not linked to any Shopify order of this shop (typed in the ERP, or from "
    "another channel): nothing to change in Shopify"
)
# One the app sent from this store before the store's data was erased (shop/redact, which Shopify
# sends 48 hours after an uninstall: the law has it go, the order links with it): `unknown_order`.
UNKNOWN_ORDER_ERASED = (
    "ERP order {nro} is not linked to any Shopify order of this shop: the app sent it from this store "
    "(Shopify order {order}) before the app was uninstalled ({uninstalled} UTC), and the store's data, "
    "its link to the order with it, was erased as Shopify asks after an uninstall; nothing was changed "
    "in Shopify: make this change there by hand if the order still needs it"
)

# One of another store of the chain on the same ERP and sales channel (its Shopify order that store's):
# not this store's order at all, nor one typed in the ERP (`sibling_order`). The reconciliation does not
# count it among this store's ERP orders no Shopify order matches.
SIBLING_ORDER = (
    "ERP order {nro} is not linked to any Shopify order of this shop: it is Shopify order {order} of "
    "{store}, another store on this ERP; nothing to change here"
)
SIBLING_KEY = "event_sibling_order"  # its words' key (written literally where said: the catalogue's scan)

# An event of a second ERP order that names a linked Shopify order as its channel id (the ERP holds two
# orders for one Shopify order: docs/consinco-api.md, a re-post the ERP inserted again): `other_order`.
DUPLICATE_ORDER = "DUPLICATE_ERP_ORDER"
DUPLICATE_ORDER_TEXT = (
    "event #{seq} is of ERP order {nro}, which names Shopify order {order} as its channel id, but that "
    "Shopify order is ERP order {linked}: the ERP holds two orders for it (a duplicate); nothing was "
    "applied to the Shopify order. Check both orders in the ERP (settle the duplicate there), then mark "
    "this message as handled"
)

# An event of the ERP the shop was connected to before its connection moved (a catch-up or a
# person's Retry of its message): that ERP's order numbers are its own, so applying it against
# the ERP the shop uses now could change another order.
HALF_DONE_OTHER_ERP = (
    "ERP event {seq} of order {nro} belongs to the ERP the shop was connected to before, and was half "
    "done when the connection moved: {begun}. Nothing more is done automatically: check the order's "
    "payment in Shopify (captured, or refused: then charge the customer again or absorb it), and its "
    "fulfillment and tag"
)
OTHER_ERP = (
    "ERP event {seq} belongs to the ERP the shop was connected to before (the ERP connection moved "
    "since): its order {nro} is that ERP's, and the same number may be another order in the ERP the "
    "shop uses now; nothing applied"
)


def unit_key(seq_evento: int, generation: int = 0) -> str:
    """An event's unit: "event:<seq>" of the shop's first ERP, "event:<seq>:erp<n>" of the n-th
    one the ERP connection moved to (ErpConnection.generation)."""
    return f"event:{seq_evento}" if generation == 0 else f"event:{seq_evento}:erp{generation}"


def seq_of(key: str) -> int:
    """The seqEvento of an event unit key."""
    return int(key.split(":")[1])


def order_messages(session: Session, unit: EventUnit, *where: Any) -> list[Message]:
    """The messages of `unit`'s order in its flow that are ERP events of the same ERP
    (`unit.generation`: after the connection moved, the old ERP's order of this number is another
    order), in id order; `where`: further conditions (a status, not this message)."""
    rows = session.scalars(
        select(Message)
        .where(
            Message.shop_id == unit.shop_id,
            Message.flow == unit.flow,
            Message.erp_id == str(unit.event.nro_pedvenda),
            Message.unit_key.like("event:%"),
            *where,
        )
        .order_by(Message.id)
    ).all()
    return [message for message in rows if order_notes.generation_of(message.unit_key) == unit.generation]


def job_id(shop_id: int, seq_evento: int, generation: int = 0) -> str:
    if generation == 0:
        return queues.job_key("order-event", shop_id, seq_evento)
    return queues.job_key("order-event", shop_id, f"erp{generation}", seq_evento)


def order_lock_key(shop_id: int, order_id: str) -> str:
    """The per-order lock every order job of this shop shares (the same key as jobs.orders.order_lock)."""
    return f"shop:{shop_id}:order:{order_id.rsplit('/', 1)[-1]}"


# ---------------------------------------------------------------------------- the poller


@served_only(FLOW, skipped_dict, needs_erp=True)
def run(shop_id: int) -> dict[str, int]:
    """One poll: enqueue every new event, then advance the watermark to the read's snapshot.

    Returns counts {"read", "enqueued", "seen", "unknown", "ignored", "unreadable"}, with "late" (events
    the late sweep found) or "late_failed" (its read failed: tried at the next poll); {"busy": 1}
    when another worker is polling this shop right now.
    """
    started = utcnow()
    try:
        with flow_lock(shop_id, FLOW):
            return _poll(shop_id, started)
    except LockBusy:
        log.info("order_events: shop %s already polling", shop_id, extra={"shop_id": shop_id})
        return {"busy": 1}


def _poll(shop_id: int, started: datetime) -> dict[str, int]:
    client = erp.for_shop(shop_id)
    with session_scope() as session:
        cursor = since = watermarks.read(session, shop_id, FLOW).last_changed_at
        if since is None:
            since = first_read_since(session, shop_id, started)
        skip = _boundary(session, shop_id)
    counts = {"read": 0, "enqueued": 0, "seen": 0, "unknown": 0, "ignored": 0, "unreadable": 0}
    read = client.order_events(since, skip=skip)
    read.keep_malformed = True  # one unreadable row fails alone (jobs.order_event_records)
    for event in sorted(read, key=lambda e: (e.seq_evento,)):
        counts["read"] += 1
        counts[_take(shop_id, event)] += 1
    if read.complete and read.snapshot is not None:
        counts["unreadable"] = len(read.malformed)
        with session_scope() as session:
            generation = erp_generation(session, shop_id)
            unread = [
                order_event_records.describe(
                    raw, exc, client.names, FLOW_BY_KIND, UNKNOWN_KIND_FLOW, generation
                )
                for raw, exc in read.malformed
            ]
            held = order_event_records.record(session, shop_id, unread, EVENT_FLOWS, generation)
        advance(shop_id, read, started, order_event_records.hold(held))
    if read.complete:
        # after the cursor moved: a failing sweep (the poll's biggest read, a day of every store's
        # events) neither throws away the poll's whole read nor holds its cursor, poll after poll
        try:
            late = _late_sweep(shop_id, client, started, cursor)
        except Transient as exc:
            counts["late_failed"] = 1  # not swept: due again at the next poll
            log.warning("order_events: shop %s: the late sweep could not read the ERP (%s); the next poll"
                        " tries again", shop_id, exc, extra={"shop_id": shop_id, "flow": FLOW})  # fmt: skip
        else:
            if late:
                counts["late"] = late
    log.info("order_events: shop %s %s", shop_id, counts, extra={"shop_id": shop_id, "flow": FLOW})
    return counts


# The late sweep: every LATE_SWEEP_EVERY, the last LATE_SWEEP_BACK of events read again whole (no
# boundary skip). An event the ERP committed more than ERP_READ_OVERLAP after its DtaHorEvento (a
# long invoicing transaction, an ERP clock behind) is behind the cursor once it is visible, and no
# poll read it: its NF-e was never written, its goods never fulfilled, its payment never captured
# (the prices and stock flows have their daily whole reads for the same reason). Events seen
# already cost a message lookup each; the new ones are taken as the poll takes them.
LATE_SWEEP_EVERY = timedelta(hours=1)
LATE_SWEEP_BACK = timedelta(hours=24)
LATE_SCOPE = "late-sweep"  # its own watermark row: when it last read whole (forgotten at an ERP move)


def _late_sweep(shop_id: int, client: Any, started: datetime, cursor: datetime | None) -> int:
    """The late sweep when due, reading back from the poll's cursor before it read (`cursor`); how
    many events it found that no poll had taken."""
    with session_scope() as session:
        last = watermarks.read(session, shop_id, FLOW, LATE_SCOPE).last_changed_at
    if cursor is None or (last is not None and started - last < LATE_SWEEP_EVERY):
        return 0  # a first read (it reads back a day already), or swept within the hour
    read = client.order_events(min(cursor, started) - LATE_SWEEP_BACK)
    read.keep_malformed = True  # an unreadable row is the poll's to hold and tell
    found = 0
    for event in _not_final(shop_id, sorted(read, key=lambda e: (e.seq_evento,))):
        if _take(shop_id, event) == "enqueued":
            found += 1
    if found:
        log.warning("order_events: shop %s: the late sweep found %s event(s) no poll had read",
                    shop_id, found, extra={"shop_id": shop_id, "flow": FLOW})  # fmt: skip
    if read.complete:
        swept(shop_id, started)
    return found


def _not_final(shop_id: int, events: list[OrderEvent]) -> list[OrderEvent]:
    """`events` but those whose message is final already, asked 500 at a time: a sweep reads a day
    of every store's events (all but the late few seen), a lookup each would cost 24 a day per event."""
    flows = (*EVENT_FLOWS, UNKNOWN_KIND_FLOW)
    with session_scope() as session:
        generation = erp_generation(session, shop_id)
        keyed = [(unit_key(event.seq_evento, generation), event) for event in events]
        final: set[tuple[str, str]] = set()
        for start in range(0, len(keyed), 500):
            keys = [key for key, _ in keyed[start : start + 500]]
            rows = session.execute(
                select(Message.flow, Message.unit_key).where(
                    Message.shop_id == shop_id,
                    Message.flow.in_(flows),
                    Message.unit_key.in_(keys),
                    Message.status.in_(FINAL),
                )
            )
            final.update((flow, key) for flow, key in rows)
    return [e for key, e in keyed if (FLOW_BY_KIND.get(e.kind) or UNKNOWN_KIND_FLOW, key) not in final]


def swept(shop_id: int, at: datetime) -> None:
    """The late sweep's last whole read at `at` (the next is due LATE_SWEEP_EVERY after it)."""
    with session_scope() as session:
        watermarks.advance(session, shop_id, FLOW, LATE_SCOPE, at, 0, at)


def first_read_since(session: Session, shop_id: int, now: datetime) -> datetime:
    """Where a read with no cursor starts (a shop's first poll; after an ERP move, which forgets the
    cursor): FIRST_READ_MARGIN before the first order the shop ever linked, or before `now` when it
    linked none yet.

    Nothing the app applies is older: an event is applied only to an order linked to a Shopify order,
    and a link is written when the order comes in, before its ERP order exists (posted by the app, or
    typed by hand after the import refused it and linked to it later). An ERP with years of
    EventoPedido history, all of it about orders the app never saw (other channels, orders from
    before the install), is then not read whole at the first poll, each event traced as an unknown
    order. The margin covers the ERP's clock and zone against this one's."""
    first_link = session.scalar(select(func.min(OrderLink.created_at)).where(OrderLink.shop_id == shop_id))
    return min(now, first_link or now) - FIRST_READ_MARGIN


def _take(shop_id: int, event: OrderEvent) -> str:
    """Trace and enqueue one event; which count it adds to. An event of a kind the app does not know
    is traced skipped under UNKNOWN_KIND_FLOW, saying its kind and order, and not enqueued: nothing
    applies it, a later event of its order does not wait for it, and a read that sees it again finds
    its message (the watermark moves past it as past any other)."""
    known = FLOW_BY_KIND.get(event.kind)
    flow = known or UNKNOWN_KIND_FLOW
    with session_scope() as session:
        # the event is of the ERP the run's client reads: the connection moved since, it is no longer
        # the one `generation` names (ledger.fence: transient, the next poll reads the new ERP whole)
        fence.check_erp(session, shop_id)
        generation = erp_generation(session, shop_id)
        key, jid = unit_key(event.seq_evento, generation), job_id(shop_id, event.seq_evento, generation)
        existing = message_for(session, shop_id, flow, event.seq_evento, generation)
        if existing is not None and existing.status in FINAL:
            return "seen"
        if existing is None:
            link = find_link(session, shop_id, event)
            message = trace.begin(
                session,
                shop_id,
                flow,
                key,
                ERP_TO_SHOPIFY,
                shopify_id=link.shopify_order_id if link else event.channel_order_id,
                erp_id=str(event.nro_pedvenda),
                search=[
                    re.sub(r"[\s.-]", "", event.invoice.key) if event.invoice else None,  # as printed: spaced
                    link.shopify_order_name if link else None,
                ],
                request=event_payload(event),
                job_id=jid if known else None,
            )
            if known is None:
                log.warning("order_events: event %s has unknown kind %r", event.seq_evento, event.kind)
                said = {"seq": event.seq_evento, "nro": event.nro_pedvenda, "kind": event.kind}
                trace.skip(session, message, UNKNOWN_KIND.format(**said), words=("event_unknown_kind", said))
                return "ignored"
            # An ERP order linked by hand may have been typed under another sales channel.
            if link is None or (
                link.hand_linked_erp is None and not _same_channel(session, shop_id, event, link)
            ):
                why, words = unknown_order(session, shop_id, event, link)
                trace.skip(session, message, why, words=words)
                return "unknown"
        if known is None:
            return "ignored"  # never left pending: skipped as it was traced
        held_edits = _held_edits(session, shop_id, event)
    # Enqueued after the commit so the job finds its message; a Redis error propagates and the
    # watermark stays put, so the next poll takes the event again (its message is pending). The held
    # edits' replays first: with the event's job enqueued and run before that poll, its message
    # final, the poll would take the event as seen and never work the held edits out again.
    _replay_held_edits(shop_id, held_edits)
    args = (shop_id, event.seq_evento) + ((generation,) if generation else ())
    queues.enqueue(JOB_BY_FLOW[flow], *args, queue=queues.ORDERS, job_id=jid)
    return "enqueued"


def _held_edits(session: Session, shop_id: int, event: OrderEvent) -> list[tuple[int, int]]:
    """(message id, attempts) of the order's Shopify edits held back while it was editable
    (jobs.order_edits.held), when this event says the ERP started picking it (S) or invoiced it
    (F): no edit reaches it now, so each must end flagged as too late, not wait for one."""
    if event.kind not in PICKED:
        return []
    link = find_link(session, shop_id, event)
    if link is None or other_order(event, link) is not None:  # a duplicate's picking is not the order's
        return []
    return held_edits.to_replay(session, link)


def _replay_held_edits(shop_id: int, found: list[tuple[int, int]]) -> None:
    """Enqueue the replay of each held edit (before the event's job: run first, its picking not in
    Shopify yet, it waits for it: jobs.order_edits.picking_state)."""
    held_edits.enqueue_replays(shop_id, found, "the ERP is picking its order")


def unknown_order(
    session: Session, shop_id: int, event: OrderEvent, link: OrderLink | None
) -> tuple[str, Words]:
    """Why an event of an ERP order no link of this shop names is skipped, with its words. An order
    of this store's sales channel (its channel id a Shopify order's) whose store had its earlier data
    erased (ledger.install_periods.erased_before: shop/redact after an uninstall, its order links with
    it, as the law has it) is one the app sent before then, and said so: not "typed in the ERP, or
    from another channel". The English keeps UNKNOWN_ORDER's start, which a hand link and the
    reconciliation match (ledger.order_link_by_hand.UNKNOWN_ORDER_LIKE).

    A chain's stores share the ERP and may share its sales channel: the order is said to be this
    store's only when it is of a company the store sells as or stocks from (its store link, a
    location mapping: `_store_company`) and no other shop links its Shopify order (a sibling store's
    live order, which this store's merchant cannot find in their Shopify)."""
    nro, channel, shop = event.nro_pedvenda, event.channel_order_id or "", session.get(Shop, shop_id)
    if link is None and shop is not None and channel.startswith(SHOPIFY_ORDER):
        store = _store_linking(session, shop_id, channel)
        if store is not None:
            order = channel.removeprefix(SHOPIFY_ORDER)
            text = SIBLING_ORDER.format(nro=nro, order=order, store=store)
            return text, ("event_sibling_order", {"nro": nro, "order": order, "store": store})
        ours = (
            _same_channel(session, shop_id, event)
            and _store_company(session, shop_id, event.nro_empresa)
            and not _linked_elsewhere(session, shop_id, channel)
        )
        erased = install_periods.erased_before(session, shop) if ours else None
        if erased is not None:
            order, when = channel.removeprefix(SHOPIFY_ORDER), f"{erased:%Y-%m-%d %H:%M}"
            text = UNKNOWN_ORDER_ERASED.format(nro=nro, order=order, uninstalled=when)
            return text, ("event_order_erased", {"nro": nro, "order": order, "uninstalled": when})
    return UNKNOWN_ORDER.format(nro=nro), ("event_unknown_order", {"nro": nro})


def _store_company(session: Session, shop_id: int, nro_empresa: int) -> bool:
    """Whether ERP company `nro_empresa` is one the shop sells as (its store link) or stocks from
    (a location mapping)."""
    linked = session.scalar(
        select(StoreLink.id).where(StoreLink.shop_id == shop_id, StoreLink.nro_empresa == nro_empresa)
    )
    if linked is not None:
        return True
    mapped = session.scalar(
        select(LocationMapping.id).where(
            LocationMapping.shop_id == shop_id, LocationMapping.nro_empresa == nro_empresa
        )
    )
    return mapped is not None


def _store_linking(session: Session, shop_id: int, order_id: str) -> str | None:
    """The domain of the other shop on this shop's ERP that links Shopify order `order_id` (ids are
    unique across shops: it is that shop's order), or None. A shop on another ERP is never named:
    two chains on one installation, a Shopify order id typed as an order's channel id in one's ERP
    named the other's store and order on its Messages page (the hand link's rule: shops_on_same_erp)."""
    siblings = [s for s in order_link_by_hand.shops_on_same_erp(session, shop_id) if s != shop_id]
    if not siblings:
        return None
    return session.scalar(
        select(Shop.domain)
        .join(OrderLink, OrderLink.shop_id == Shop.id)
        .where(OrderLink.shopify_order_id == order_id, OrderLink.shop_id.in_(siblings))
        .limit(1)
    )


def _linked_elsewhere(session: Session, shop_id: int, order_id: str) -> bool:
    """Whether another shop links Shopify order `order_id` (ids are unique across shops: it is that
    shop's order)."""
    other = session.scalar(
        select(OrderLink.id)
        .where(OrderLink.shopify_order_id == order_id, OrderLink.shop_id != shop_id)
        .limit(1)
    )
    return other is not None


def other_order(event: OrderEvent, link: OrderLink) -> Rejected | None:
    """The refusal of an event found its link by channel id (`find_link`) while the link tracks
    another ERP order: a second ERP order naming the same Shopify order (a duplicate the ERP holds,
    for the same person). Its C would cancel and refund the live order, its F write its NF-e on it,
    its S cut the order's lines, while the linked ERP order is still picked and invoiced: never
    applied, and never skipped silently either (the event fails, a note on the order names both). A
    link with no number yet (the post's answer not in) still takes the event; None: it may."""
    if link.nro_pedvenda is None or link.nro_pedvenda == event.nro_pedvenda:
        return None
    order = link.shopify_order_name or link.shopify_order_id.rsplit("/", 1)[-1]
    said = {"seq": event.seq_evento, "nro": event.nro_pedvenda, "order": order, "linked": link.nro_pedvenda}
    return Rejected(
        DUPLICATE_ORDER_TEXT.format(**said),
        system="app",
        code=DUPLICATE_ORDER,
        detail={"nro_pedvenda": event.nro_pedvenda, "linked_nro_pedvenda": link.nro_pedvenda},
        words=("event_duplicate_erp_order", said),
    )


def _names_link(event: OrderEvent, link: OrderLink) -> bool:
    """Whether the event's channel id names the link's Shopify order (its gid, or its number alone):
    Shopify order ids are unique across shops, so no other channel's order carries it."""
    named = (event.channel_order_id or "").rsplit("/", 1)[-1]
    return bool(named) and link.shopify_order_id.rsplit("/", 1)[-1] == named


def _same_channel(session: Session, shop_id: int, event: OrderEvent, link: OrderLink | None = None) -> bool:
    """False when the ERP says the order came from another sales channel than the one the linked
    order was posted under (its orders message's kept input, jobs.order_posted), else than the
    shop's setting: the setting changed while orders were in flight skipped their events (NF-e,
    picking, cancellation) as not linked, for good."""
    if event.seq_canal_venda is None:
        return True
    message = order_link_by_hand.orders_message(session, link) if link is not None else None
    posted = (order_posted.stored(message.request_payload) or {}) if message is not None else {}
    channel = posted.get("seq_canal_venda")
    if channel is None:
        shop = session.get(Shop, shop_id)
        channel = shop_settings.get(shop, "seq_canal_venda") if shop else None
    return channel is None or int(channel) == event.seq_canal_venda


def _watermark_row(session: Session, shop_id: int) -> Watermark | None:
    stmt = select(Watermark).where(
        Watermark.shop_id == shop_id, Watermark.flow == FLOW, Watermark.scope == ""
    )
    return session.scalars(stmt).one_or_none()


def _boundary(session: Session, shop_id: int) -> set[tuple[Any, datetime | None]]:
    """The (seqEvento, change time) pairs the last read saw at its end: the next read skips them."""
    row = _watermark_row(session, shop_id)
    if row is None:
        return set()
    return {(seq, datetime.fromisoformat(when) if when else None) for seq, when in row.boundary or []}


def advance(
    shop_id: int,
    read: ChangeRead[OrderEvent],
    started: datetime,
    held: Hold = Hold(),
) -> None:
    """The cursor to a whole read's snapshot, its boundary kept beside it (the next read skips those
    events): the poll's, and the test shops' cursor set at the ERP's present (bench._order_stack).
    `held` (jobs.order_event_records.hold): an unreadable row keeps it at the row's change time, the
    read being inclusive (not moved at all when a row's time is unknown); the events read past it
    are read again and found seen."""
    assert read.complete and read.snapshot is not None
    at = held.cap(read.snapshot)
    if at is None:
        return
    with session_scope() as session:
        watermarks.advance(session, shop_id, FLOW, "", at, 0, started)
        _store_boundary(session, shop_id, read.boundary)


def _store_boundary(
    session: Session, shop_id: int, boundary: Collection[tuple[Any, datetime | None]]
) -> None:
    row = _watermark_row(session, shop_id)
    assert row is not None  # advance() created it
    row.boundary = sorted([seq, when.isoformat() if when else None] for seq, when in boundary)


# ---------------------------------------------------------------------------- shared by the appliers


def message_for(
    session: Session, shop_id: int, flow: str, seq_evento: int, generation: int | None = None
) -> Message | None:
    """The event's message (of the ERP the shop is connected to now when `generation` is None)."""
    if generation is None:
        generation = erp_generation(session, shop_id)
    return session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == flow,
            Message.unit_key == unit_key(seq_evento, generation),
        )
    ).one_or_none()


def find_link(session: Session, shop_id: int, event: OrderEvent) -> OrderLink | None:
    """The shop's OrderLink of the event's ERP order: by the channel id (the Shopify order the ERP
    order came from) when the event carries one, else by NROPEDVENDA. A link of the same NROPEDVENDA
    whose Shopify order is another than the event names is never taken: that number is another
    ERP's order (the ERP connection moved) or another order's. A link a person made by hand to an
    ERP order typed there (`OrderLink.hand_linked_erp`, ledger.order_link_by_hand) is taken by
    NROPEDVENDA whatever channel id the event carries (none, another channel's, the order's name
    typed in NROPEDCLIENTE), but only while the shop is on the ERP it was made in. Nor is a link
    taken by its number alone (the event carries no channel id: an order typed by hand in the ERP)
    when that number was learned from the ERP the shop was connected to before
    (jobs.order_generation.of_link): the same number in the ERP it uses now is another customer's
    order. A link found by channel id may track another ERP order than the event's (a duplicate in
    the ERP): `other_order` refuses it, the caller's to check."""
    if event.channel_order_id:
        link = session.scalars(
            select(OrderLink).where(
                OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == event.channel_order_id
            )
        ).one_or_none()
        if link is not None:
            return link
    named = (event.channel_order_id or "").rsplit("/", 1)[-1]  # the gid, or its number alone
    links = session.scalars(
        select(OrderLink)
        .where(OrderLink.shop_id == shop_id, OrderLink.nro_pedvenda == event.nro_pedvenda)
        .order_by(OrderLink.id.desc())
    )
    current: int | None = None
    moved = False
    for candidate in links:
        if current is None:
            current, moved = erp_generation(session, shop_id), ever_moved(session, shop_id)
        if candidate.hand_linked_erp is not None:
            if candidate.hand_linked_erp == current:
                return candidate
        elif named:
            if _names_link(event, candidate):
                return candidate  # the Shopify order the ERP order says it came from
        # A shop never moved has every link of its one ERP: no query a candidate.
        elif not moved or of_link(session, candidate) == current:
            return candidate
    return None


def later_done(
    session: Session, shop_id: int, event: OrderEvent, generation: int = 0, *, kinds: Collection[str] = ()
) -> int | None:
    """The seqEvento of an event of the same order (of the same ERP) after `event`, of a kind the app
    applies (`kinds`: of these only), whose message is through (done, or skipped: a picking that
    changed nothing states the order too), None: none."""
    through = Message.status.in_((MessageStatus.DONE.value, MessageStatus.SKIPPED.value))
    wanted = set(kinds) or set(FLOW_BY_KIND)  # not of a kind the app does not know
    later = [
        seq_of(row.unit_key)
        for row in _event_rows(session, shop_id, event, generation, through)
        if seq_of(row.unit_key) > event.seq_evento and (row.request_payload or {}).get("kind") in wanted
    ]
    return min(later) if later else None


def _event_rows(
    session: Session, shop_id: int, event: OrderEvent, generation: int, *where: Any
) -> list[Message]:
    """The event messages of `event`'s order, of the ERP `generation` names, in every event flow;
    `where`: further conditions."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.erp_id == str(event.nro_pedvenda),
            Message.direction == ERP_TO_SHOPIFY,
            Message.flow.in_(tuple(FLOW_BY_KIND.values())),
            Message.unit_key.like("event:%"),
            *where,
        )
    ).all()
    return [row for row in rows if order_notes.generation_of(row.unit_key) == generation]


def wait_for_earlier(
    session: Session, shop_id: int, event: OrderEvent, *, must_apply: Collection[str], generation: int = 0
) -> None:
    """Refuse to run before the earlier events of the same order (of the same ERP: `generation`,
    EventUnit.generation) are through.

    Raises:
        Transient: an earlier event is still pending or retrying (RQ tries again later).
        Rejected: an earlier event of a flow in `must_apply` failed or is parked (held with why).

    One left pending with its job lost (ledger.trace.is_stale) is still waited for: the orders
    catch-up (jobs.order_catch_up) replays every pending or retrying event message untouched for
    STALE_AFTER_SECONDS, so it applies by itself and this one's own retries then go through. Failing
    this one instead would leave it failed for ever once the earlier one applied, and a person
    cannot close a pending message as handled (ledger.handled.can_mark).
    """
    rows = _event_rows(session, shop_id, event, generation)
    for unread in order_event_records.earlier(
        session, shop_id, event.nro_pedvenda, event.seq_evento, generation
    ):
        if unread.flow in must_apply:  # an earlier event of the order whose ERP row cannot be read
            seq = order_event_records.seq_of(unread.unit_key)
            raise Rejected(
                f"held: event #{seq} ({unread.flow}) of ERP order {event.nro_pedvenda} could not be read "
                "from the ERP; once it can be read it is applied and this event resumes by itself",
                system="app",
                code="EARLIER_EVENT_NOT_APPLIED",
                detail={"waiting_for": unread.id},
                words=(
                    "event_held_behind_unreadable",
                    {"seq": seq, "flow": unread.flow, "nro": event.nro_pedvenda},
                ),
            )
    for row in sorted(rows, key=lambda m: seq_of(m.unit_key)):
        seq = seq_of(row.unit_key)
        if seq >= event.seq_evento:
            continue
        if row.status in WAITING:  # a stale one too: the orders catch-up redoes it
            raise Transient(
                f"waiting for event #{seq} ({row.flow}) of ERP order {event.nro_pedvenda} to apply first",
                waiting_for=row.id,
            )
        if row.flow in must_apply and row.status not in (
            MessageStatus.DONE.value,
            MessageStatus.SKIPPED.value,
        ):
            if (row.error_detail or {}).get("code") == old_orders.TOO_OLD:
                # Only a person settles it (by hand in Shopify, then "Mark as handled"), and this
                # one resumes by itself then (jobs.order_catch_up: `waiting_for`): nothing to fix.
                raise Rejected(
                    f"held: event #{seq} ({row.flow}) of ERP order {event.nro_pedvenda} failed: Shopify no "
                    "longer lets the app read this order (older than 60 days, no read_all_orders access); "
                    f"once event #{seq} is applied by hand in the Shopify admin and marked as handled, this "
                    "event resumes by itself",
                    system="app",
                    code="EARLIER_EVENT_NOT_APPLIED",
                    detail={"waiting_for": row.id},
                    words=(
                        "event_held_behind_too_old",
                        {"seq": seq, "flow": row.flow, "nro": event.nro_pedvenda},
                    ),
                )
            raise Rejected(
                f"held: event #{seq} ({row.flow}) of ERP order {event.nro_pedvenda} is {row.status} "
                f"({row.error_text}); fix and replay it, then replay this event",
                system="app",
                code="EARLIER_EVENT_NOT_APPLIED",
                detail={"waiting_for": row.id},
                words=_held_words(session, shop_id, event, row, generation),
            )


HELD_STATUS = {MessageStatus.FAILED.value: "status_failed", MessageStatus.PARKED.value: "status_parked"}


def _held_words(
    session: Session, shop_id: int, event: OrderEvent, row: Message, generation: int
) -> trace.Words | None:
    """The words of an event held behind `row` (an earlier event that failed or is parked): its
    failure's said as the note it left on the order link says it (None: that note has no words of
    one part, or its status has none; the note reads as its text)."""
    link = find_link(session, shop_id, event)
    seq, status = seq_of(row.unit_key), HELD_STATUS.get(row.status)
    why = order_notes.words_of_note(link, row.flow, event=seq, generation=generation) if link else None
    if status is None or not why or len(why) != 1:
        return None
    said = {"seq": seq, "flow": row.flow, "nro": event.nro_pedvenda, "status": (status, {}), "why": why[0]}
    return "event_held_behind", said


@dataclass(frozen=True)
class EventUnit:
    """What an applier works on: the event, its message, and the order link (ids, not rows)."""

    shop_id: int
    shop_domain: str
    message_id: int
    flow: str
    event: OrderEvent
    link_id: int
    order_id: str  # Shopify order gid
    generation: int = 0  # of the ERP the event came from (unit_key)


class Skipped(Exception):
    """Raised by an applier: nothing to do (already applied, order cancelled...), with why (and its
    words for the pages: trace.skip)."""

    def __init__(
        self, reason: str, response: dict[str, Any] | None = None, *, words: trace.Words | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.words = words


def execute(
    message_id: int,
    work: Callable[[EventUnit], dict[str, Any]],
    before_rerun: Callable[[Message], None] | None = None,
) -> str:
    """Run `work` for the event message under the order's lock; record the outcome; its status.
    `before_rerun`: given the message as it stands before a retry or replay resets it (trace.begin
    clears its finished_at), to keep on it what the flow reads from that (jobs.invoices: when its
    NF-e was charged).

    Transient failures (Redis or the database failing under the work: ledger.errors.outage) are
    recorded as retrying and re-raise (RQ retries with backoff); rejected / mapping-missing ones are
    recorded (failed / parked, the order link given this event's note: `ledger.order_notes`, beside
    the notes of other flows, cleared once the event is applied or skipped) and the job ends; a bug
    is recorded with its traceback and re-raised without further retries.
    """
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        if handled.info(message) is not None:  # a person settled it outside the app: final
            log.info("order_events: message %s was closed as handled; not run", message_id)
            return MessageStatus.SKIPPED.value
        shop_id = message.shop_id
        unreadable = message.unit_key.startswith(order_event_records.PREFIX)
    if unreadable:
        return _read_again(shop_id, message_id)
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        if message.status != MessageStatus.PENDING.value:  # a retry or replay counts an attempt
            if before_rerun is not None:
                before_rerun(message)
                session.flush()
            trace.begin(session, message.shop_id, message.flow, message.unit_key, ERP_TO_SHOPIFY)
        event = event_from_payload(message.request_payload or {})
        generation = order_notes.generation_of(message.unit_key)
        current = erp_generation(session, message.shop_id)
        if generation != current:
            done = message.response_payload or {}
            if begun := half_done(done):  # Shopify-side work begun: a person
                trace.fail(session, message, Rejected(
                    HALF_DONE_OTHER_ERP.format(seq=event.seq_evento, nro=event.nro_pedvenda, begun=begun),
                    system="app", code="OTHER_ERP_HALF_DONE", detail={"done": done},
                ))  # fmt: skip
                return MessageStatus.FAILED.value
            params = {"seq": event.seq_evento, "nro": event.nro_pedvenda}
            trace.skip(session, message, OTHER_ERP.format(**params), words=("event_other_erp", params))
            return MessageStatus.SKIPPED.value
        link = find_link(session, message.shop_id, event)
        shop = session.get(Shop, message.shop_id)
        if link is None or shop is None:
            why, words = unknown_order(session, message.shop_id, event, link)
            trace.skip(session, message, why, words=words)
            return MessageStatus.SKIPPED.value
        duplicate = other_order(event, link)
        unit = EventUnit(
            message.shop_id,
            shop.domain,
            message.id,
            message.flow,
            event,
            link.id,
            link.shopify_order_id,
            generation,
        )
    extra = {"shop_id": unit.shop_id, "flow": unit.flow, "seq_evento": event.seq_evento}
    if duplicate is not None:
        return _failed(unit, duplicate, extra)
    try:
        with record_lock(order_lock_key(unit.shop_id, unit.order_id), ttl=60, wait=10):
            response = work(unit)
    except Skipped as skipped:
        with session_scope() as session:
            message = session.get(Message, message_id)
            assert message is not None
            if skipped.response is not None:
                message.response_payload = skipped.response
            trace.skip(session, message, skipped.reason, words=skipped.words)
            _settled(session, unit)
        return MessageStatus.SKIPPED.value
    except LockBusy as busy:
        num = str(unit.order_id).rsplit("/", 1)[-1]  # its numeric id, as jobs.orders.order_lock says it
        busy_now = Transient(f"order {num} is being handled by another worker ({busy})").worded(
            "order_busy", order=num
        )
        return _failed(unit, busy_now, extra)
    except Exception as exc:  # classified below: only Transient is retried
        # Redis or the database failing under the work or its lock (ledger.errors.outage) is
        # retried, never a bug: the work's sessions rolled back as they closed, _failed records it
        # in a fresh one.
        transient = as_transient(exc, f"{unit.flow} event {event.seq_evento} waits for it")
        if transient is None:
            return _failed(unit, exc, extra)
        transient.__cause__ = exc
        return _failed(unit, transient, extra)
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        trace.succeed(session, message, response=response)
        _settled(session, unit)
    return MessageStatus.DONE.value


def _read_again(shop_id: int, message_id: int) -> str:
    """Retry of an unreadable row's message (jobs.order_event_records): there is no by-id read,
    but the cursor held the row, so a poll now reads it again (and closes the message once it can
    be read, the event then taken like any other); the message's status after it."""
    if run(shop_id).get("busy"):
        raise Transient(
            f"the ERP events of shop {shop_id} are being read; message {message_id} is retried later"
        )
    with session_scope() as session:
        return trace.get_message(session, message_id).status


def _settled(session: Session, unit: EventUnit) -> None:
    """The event is applied (or had nothing to apply): the note its failure left on the order link
    goes; the flow's own notes, and another event's failure (earlier, later, or the same number
    from another ERP), are not this one's to clear."""
    link = session.get(OrderLink, unit.link_id)
    if link is not None:
        order_notes.clear(link, unit.flow, event=unit.event.seq_evento, generation=unit.generation)


def half_done(done: dict[str, Any]) -> str | None:
    """Pure: what Shopify-side work an invoices message's response (`done`, jobs.invoice_record) says
    an earlier run did — the NF-e written on the order (from the moment its metafields are), its
    capture asked, its fulfillments made (an order paid at checkout asks no capture) — in words;
    None: nothing (the message may be skipped without a person)."""
    key = done.get(KEY) or done.get(FULFILLED_FOR) or done.get(WRITTEN)
    fulfillments = [str(f) for f in done.get(FULFILLMENTS) or []]
    if not (key or done.get(ASKED) or fulfillments):
        return None
    begun = [f"NF-e {key or '-'} is on the Shopify order"]
    if done.get(ASKED):
        begun.append("its capture was asked (it may still be pending at the gateway)")
    if fulfillments:
        begun.append(f"its goods were fulfilled ({', '.join(fulfillments)})")
    return ", ".join(begun)


def _failed(unit: EventUnit, exc: Exception, extra: dict[str, Any]) -> str:
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        assert message is not None
        status = trace.fail(session, message, exc)
        if isinstance(exc, (Rejected, MappingMissing)):
            link = session.get(OrderLink, unit.link_id)
            if link is not None:  # a note of its own: it hides no other note (another event's
                # of its flow neither), none hides it
                order_notes.put(link, unit.flow, message.error_text or str(exc), event=unit.event.seq_evento,
                                generation=unit.generation, words=getattr(exc, "words", None))  # fmt: skip
    if isinstance(exc, Transient):
        raise exc
    if isinstance(exc, (Rejected, MappingMissing)):
        log.warning("order_events: %s event %s %s: %s", unit.flow, unit.event.seq_evento, status.value,
                    getattr(exc, "message", exc), extra=extra)  # fmt: skip
        return status.value
    job = get_current_job()
    if job is not None:
        job.retries_left = 0
    log.error(
        "order_events: %s event %s failed (bug)", unit.flow, unit.event.seq_evento, exc_info=exc, extra=extra
    )
    raise exc


def poll_now(shop_id: int) -> None:
    """'Run now' of the event-driven flows (edits, invoices, cancellations from the ERP): the
    poller is what reads the ERP, so it is enqueued (never called). Under one id per shop, so
    clicks while it waits enqueue it once; an ended one (RQ keeps a failed job for a year) does
    not refuse the id."""
    queues.enqueue(
        "jobs.order_events.run",
        shop_id,
        queue=queues.ORDERS,
        job_id=f"order-events-now-{shop_id}",
        replace_ended=True,
        schedule=FLOW,  # its outcome is shown on the schedule's row, as a due poll's
    )


def apply_by_seq(
    shop_id: int, seq_evento: int, flow: str, replay: Callable[[int], Any], generation: int = 0
) -> Any:
    """The enqueued entry point of an applier: find the event's message, then replay it."""
    with session_scope() as session:
        message = message_for(session, shop_id, flow, seq_evento, generation)
        if message is None:
            raise LookupError(f"no {flow} message for ERP event {seq_evento} of shop {shop_id}")
        message_id = message.id
    return replay(message_id)
