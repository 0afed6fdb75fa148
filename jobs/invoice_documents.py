"""What an order's invoices add up to (flow `invoices`): its valid NF-e known so far.

The ERP may invoice one order in more than one NF-e (partial invoicing: what was picked first,
then the rest), and may cancel an NF-e and issue another for the same goods (a re-issue). So
what the customer owes is not the current NF-e's total but the sum of the order's valid NF-e:
the ones the app applied (its own record: the `done` invoices messages of the ERP order, each
holding its event and the key and total it applied; and a message that asked its NF-e's capture
and then failed, whose key its response keeps: `_charged_not_done`) and the current one, less
those the ERP now lists cancelled (the ERP order's documents, GET PedidoVenda, which
jobs.invoices reads for every event: it skips an event whose own NF-e the ERP lists cancelled).
An NF-e the app has not applied yet (its event still to come) is not counted: its money is taken
with its goods.
An NF-e applied already (a done invoices message of its key, or this message's earlier run: a
replay) is charged nothing more (`applied_by`): its money was taken when it was applied, and a
refund made since is the merchant's decision, not money still due. For the same reason the next
NF-e does not take such a refund back: the money kept counts only the refunds made before the
order's first NF-e was charged (`charged_since`, Settlement.kept_before: the time its message
keeps, jobs.invoice_record.CHARGED_AT — when its capture began, else when its run ran — which a
Replay carries forward, never the Replay's finish) — a cancelled one included: the money taken for it was
taken then, so an NF-e re-issued in its place after a refund does not capture the refund back
either; and whatever its message's status now (`_charged_by_others`: a Replay of it skipped since
the ERP cancelled it, a replay that failed, still keep that time on the response). (An NF-e
counts as applied by its done message, not by the key's presence in `nfe.chaves`: the metafields
are written before the capture, so a retry after a capture that failed finds the key there and
must still capture.) An NF-e whose earlier event a person closed as handled (they settled its money
outside the app: `handled_before`; only one whose failure was about the money, `about_money`:
a capture Shopify refused, or one asked) is applied by a later event of it without a capture; that
message keeps the amount it left to the person (jobs.invoice_record.SETTLED), and the NF-e counts
only the rest of its total in what the order's next NF-e captures. When no later event of it
comes, the message closed as handled is the NF-e's only record: once its run wrote the key on the
order (WRITTEN, or CAPTURING) it counts among the order's NF-e (`_closed_as_handled`), and what of
it was settled outside Shopify is taken out by the same rule once the order's Shopify money is
read (`settle`): else the next NF-e would take a capture made by hand for it as money paid ahead
(the customer under-charged), or, paid outside, charge it again. Likewise an NF-e whose capture
another message began and was cut short before keeping a capture record, that message left failed
(`_begun_not_done`): it counts among the order's NF-e, for what of it Shopify's transactions show
landed (`settle`; the order's first charge counts from when that capture began) — the rest is left
authorised to that message's Retry, and the next NF-e's capture is not final meanwhile.

Nothing more is expected — the capture is final, releasing what is left of the authorisation —
once the NF-e carry every line the ERP order served (`covered`: GET PedidoVenda's lines, each to
its served quantity, matched by seqItem with the lines each NF-e's event lists; a line cut to
nothing needs none) and their totals as issued fall short of the served total by less than the
cheapest unit served (invoice_lines.issued_for_every_unit): an event lists the ERP order's lines
as they stand, not its NF-e's share of them (a line of 4 invoiced 2 and 2 is listed served 4 by
the first NF-e's event), so only the money says no unit is left for a further NF-e. An NF-e below
the served total by less than a unit (a discount given at invoicing, freight billed apart), or by
just the ERP order's freight (vlrTotFrete: the freight on a document of its own), is then the
last, and the rest of the authorisation is released rather than left to lapse on the card.
(The ERP order's status is no sign: it says F, invoiced, from its first NF-e.) Or
once those NF-e totals, as issued (`face`: an NF-e settled outside the app counts in full here),
reach the ERP order's served total (vlrTotalAtendido, freight included,
given by the event) less a cent per NF-e: an NF-e is issued only for served goods, so below that
total part of what was served is still to be invoiced; but an NF-e apportions the discount per
item and rounds each share while the order total rounds once, so an order's last NF-e may fall a
cent short of it (kept authorised, that cent would wait for ever for an NF-e that never comes, and
no final capture would ever name what no NF-e carries). An event that gives no served total is
taken as the whole order (one NF-e), as before partial invoicing was known.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from erp.records import Invoice, OrderEvent, OrderLine
from jobs import old_orders, order_events
from jobs.invoice_capture import ASKED, Asked, not_asked
from jobs.invoice_keys import same_document
from jobs.invoice_lines import carries_all_served, issued_for_every_unit
from jobs.invoice_record import CAPTURING, CAPTURING_AT, CHARGED_AT, KEY, SETTLED, WRITTEN
from jobs.nfe import normalise
from jobs.order_event_codec import event_from_payload
from ledger import handled
from ledger.db import read_scope, session_scope
from ledger.errors import Rejected
from ledger.models import Message, MessageStatus, as_utc
from shopify_app.admin_api.order_settlement import IN_FLIGHT, Settlement

log = logging.getLogger(__name__)

ZERO = Decimal("0")
CAPTURE_OPERATION = "ordercapture"  # the mutation (named OrderCapture by the executor), any case
CENT = Decimal("0.01")  # the rounding an NF-e may differ from the served total by (see the module)


@dataclass(frozen=True)
class Documents:
    """The order's valid NF-e known so far, the current one included, in the order applied."""

    keys: list[str]
    total: Decimal  # their totals added
    served: Decimal | None  # the ERP order's served total (None: the event does not say)
    applied_by: int | None = None  # the message that applied the current NF-e already (None: never)
    # When the order was first charged for an NF-e (None: never), one the ERP cancelled since
    # included: a refund made since is the merchant's, not money the next NF-e — nor a re-issue of
    # a cancelled one — takes back (Settlement.kept_before).
    charged_since: datetime | None = None
    face: Decimal | None = None  # the NF-e totals as issued, none less money settled outside (None: `total`)
    # Every line the ERP served is carried by these NF-e: their events list it and their totals leave
    # no served unit out (see the module).
    covered: bool = False
    own: Decimal = ZERO  # the current NF-e's total
    # The totals of the NF-e known only by a message a person closed as handled (`_closed_as_handled`),
    # in `total` in full until `settle` takes out the part of them paid outside Shopify.
    by_hand: Decimal = ZERO
    outside: Decimal = ZERO  # what `settle` took out of `total`: settled outside Shopify
    # The totals of the NF-e whose capture another message began and was cut short asking, its
    # message then left failed (`_begun_not_done`), in `total` in full until `settle` takes out
    # what of them Shopify does not hold (`unlanded`): left to that message's Retry.
    begun: Decimal = ZERO
    unlanded: Decimal = ZERO
    # An NF-e counted from a message that is not done (`_charged_not_done`, `_begun_not_done`): its
    # goods and its carrier's tracking are that message's Retry's to fulfil, not this NF-e's.
    others_open: bool = False

    @property
    def final(self) -> bool:
        """Nothing more is expected: the NF-e carry every line the ERP served, or their totals (as
        issued) cover all that was served, to a cent's rounding per NF-e (see the module). Never
        while an NF-e's capture cut short left part of its money untaken (`unlanded`): the
        authorisation keeps it for that NF-e's Retry."""
        if self.unlanded > ZERO:
            return False
        face = self.total if self.face is None else self.face
        return self.served is None or self.covered or face + CENT * len(self.keys) >= self.served


class Applied(NamedTuple):
    """An NF-e another message of the order applied."""

    at: int  # the message's id
    key: str
    total: Decimal  # what it counts for in the order's money (less what was settled outside the app)
    finished: datetime | None  # when it was charged (`_charged_at`; None: never by the app)
    face: Decimal  # its total as issued
    lines: tuple[OrderLine, ...]  # what its event lists (empty: the event lists none)


def not_of_order(invoice: Invoice | None, documents: Sequence[Invoice]) -> str | None:
    """The key of an event's document the ERP order does not list (another order's), None when it
    lists it (by key, or as the same document under another key: jobs.invoice_keys.same_document),
    the event carries none, or the order lists no document at all (a layout without them)."""
    if invoice is None or not documents:
        return None
    if normalise(invoice.key) in {normalise(d.key) for d in documents}:
        return None
    return None if same_document(invoice, documents) is not None else normalise(invoice.key)


def document_of(unit: order_events.EventUnit, documents: Sequence[Invoice]) -> Invoice | None:
    """The valid NF-e an event that names no fiscal document applies, from the ERP order's
    `documents` (None: none valid): the one this message applied before (a replay), else the
    earliest valid one no done invoices message has applied yet — each event of a partial invoicing
    takes its own, not all the latest — else the latest (all applied: a replay changes nothing).

    Not when every valid NF-e was applied, there are several, and the event gives tracking: which
    NF-e's goods the carrier's code is for cannot be told, and the latest's fulfillments would get
    another NF-e's code (the customer told a wrong one). Rejected (TRACKING_NFE_UNKNOWN) naming the
    tracking and the keys, for a person to add it in Shopify to the right fulfillment."""
    valid = sorted((d for d in documents if d.valid), key=lambda d: (d.issued_at, d.number))
    if not valid:
        return None
    before = _applied_before(unit)
    applied = {found.key for found in _applied(unit)}
    found = next((d for d in valid if normalise(d.key) == before), None) or next(
        (d for d in valid if normalise(d.key) not in applied), None
    )
    if found is not None:
        return found
    tracking = unit.event.tracking
    if len(valid) > 1 and tracking is not None:
        keys = ", ".join(normalise(d.key) for d in valid)
        carrier = f" ({tracking.carrier})" if tracking.carrier else ""
        raise Rejected(
            f"ERP event {unit.event.seq_evento} gives tracking {tracking.code}{carrier} but names no "
            f"fiscal document, and ERP order {unit.event.nro_pedvenda} has {len(valid)} NF-e applied "
            f"({keys}): which one's goods it is for cannot be told. Add the tracking in Shopify to that "
            "NF-e's fulfillment",
            system="app", code="TRACKING_NFE_UNKNOWN",
            detail={"keys": [normalise(d.key) for d in valid], "tracking": tracking.code},
            words=("tracking_nfe_unknown", {"seq": unit.event.seq_evento, "code": tracking.code,
                                            "carrier": carrier, "nro": unit.event.nro_pedvenda,
                                            "count": len(valid), "keys": keys}),
        )  # fmt: skip
    return valid[-1]


def unapplied_before(unit: order_events.EventUnit, key: str) -> tuple[int, str, str | None, bool] | None:
    """(seqEvento, status, error, whether its failure is about the money: `about_money`) of the
    first earlier invoices event of NF-e `key` (of the same ERP) that failed or is parked, None:
    none. Its key is what its run recorded writing, else its event's document (an event that names
    none and failed before choosing one is not counted). One
    closed as handled (skipped) is not: see `handled_before`. One still pending — its job lost
    (ledger.trace.is_stale) included — is not either: jobs.order_events.wait_for_earlier made this
    event wait for it (Transient), and the orders catch-up (jobs.order_catch_up) redoes a stale one."""
    for seq, message in _earlier_of(unit, key, (MessageStatus.FAILED.value, MessageStatus.PARKED.value)):
        return seq, message.status, message.error_text, about_money(message)
    return None


@dataclass(frozen=True)
class Settled:
    """An earlier event of the NF-e a person closed as handled (ledger.handled): they settled its
    money outside the app (a Pix at the counter, a capture made by hand in Shopify)."""

    seq: int
    by: str
    at: str
    note: str


def handled_before(unit: order_events.EventUnit, key: str) -> Settled | None:
    """The first earlier invoices event of NF-e `key` (of the same ERP) closed as handled, None:
    none. Closing it is the decision the hold EARLIER_EVENT_NOT_APPLIED waited for: the NF-e's money
    is the person's, and a later event of it (its carrier's tracking) must not capture it. Only one
    whose failure was about the money counts (`about_money`): one closed for another reason (parked
    on a substitute SKU a person then fixed by hand in Shopify) settled nothing, and the later event
    captures the NF-e as its first event would have (else the authorisation would lapse uncaptured)."""
    for seq, message in _earlier_of(unit, key, (MessageStatus.SKIPPED.value,)):
        if (closed := handled.info(message)) is not None and about_money(message):
            return Settled(seq, str(closed.get("by") or "?"), str(closed.get("at") or ""),
                           str(closed.get("note") or ""))  # fmt: skip
    return None


def about_money(message: Message) -> bool:
    """Whether a message closed as handled was about its NF-e's money: its run was asking Shopify for
    the capture when it failed (CAPTURING, written before the orderCapture call: a userError, an
    HTTP 4xx or anything else from there on), it asked a capture already (ASKED, whatever the
    answer: then the message failed or was closed), or, for a message failed before CAPTURING was written,
    its error came from the capture (the executor's operation OrderCapture in the detail), or it
    failed as ORDER_TOO_OLD_TO_READ (jobs.old_orders: its words ask a person to apply the NF-e by
    hand, its payment captured). Anything else (an unbound substitute SKU, an invalid NF-e key, a
    tracking Shopify refused) left the money to the app."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    if (
        str(detail.get("operation") or "").lower() == CAPTURE_OPERATION
        or detail.get("code") == old_orders.TOO_OLD
    ):
        return True
    response = message.response_payload or {}
    return bool(response.get(CAPTURING)) or isinstance(response.get(ASKED), dict)


def _earlier_of(unit: order_events.EventUnit, key: str, statuses: Sequence[str]) -> list[tuple[int, Message]]:
    """(seqEvento, message) of this order's earlier invoices events of NF-e `key` (of the same ERP)
    in one of `statuses`, in message order. A message's NF-e is what its run recorded writing or
    applying, else its event's document."""
    with session_scope() as session:
        rows = order_events.order_messages(
            session, unit, Message.status.in_(tuple(statuses)), Message.id != unit.message_id
        )
        found = []
        for message in rows:
            seq = order_events.seq_of(message.unit_key)
            if seq >= unit.event.seq_evento:
                continue
            response = message.response_payload or {}
            document = event_from_payload(message.request_payload or {}).invoice
            named = (
                response.get(WRITTEN) or response.get(KEY) or (normalise(document.key) if document else None)
            )
            if named == key:
                session.expunge(message)
                found.append((seq, message))
        return found


def known(
    unit: order_events.EventUnit,
    event: OrderEvent,
    documents: Sequence[Invoice],
    served: Sequence[OrderLine] = (),
    freight: Decimal | None = None,
) -> Documents:
    """The order's valid NF-e: those applied before this event's (less any the ERP order's
    `documents` list cancelled now) and this event's own, whose key is already the validated 44
    characters; in the order first applied: a key's place is the smallest id among the messages
    that applied it, this one included when it applied the key before (a later event of an NF-e
    applied already, e.g. its tracking given after invoicing, and a replay of its first event after
    that, keep that NF-e's place: the latest stays the latest). `applied_by` is that first message.
    An NF-e no done message applied whose message a person closed as handled after its key was
    written (`_closed_as_handled`) counts too, in full until `settle`. `served`: the ERP order's
    lines, for whether the NF-e carry all of them (`covered`); `freight`: its freight (vlrTotFrete,
    None: not known), which an NF-e short of the served total by just that leaves no unit out of."""
    invoice = event.invoice
    assert invoice is not None
    # Each key's place and first charge: its FIRST message's, whichever message runs now. A later
    # event of the key (its tracking) is another done message of it: taken as the key's place, a
    # replay of the key's first event would sort it after the NF-e applied in between and show it
    # again; taken as its charge, a refund made in between would count as money kept.
    places: dict[str, int] = {}
    totals: dict[str, tuple[Decimal, Decimal]] = {}  # key -> (counted, as issued)
    finished: dict[str, datetime] = {}
    carried: dict[str, tuple[OrderLine, ...]] = {}
    for found in _applied(unit):  # in id order
        places.setdefault(found.key, found.at)
        totals.setdefault(found.key, (found.total, found.face))
        if found.finished is not None and found.key not in finished:
            finished[found.key] = found.finished
        if found.lines and found.key not in carried:
            carried[found.key] = found.lines
    others = _not_done(unit)  # one read for the four below
    not_done: set[str] = set()
    for found in _charged_not_done(others):  # its money asked for, its message then failed: counted
        if found.key != invoice.key and found.key not in places:  # the NF-e's own later event is held
            places[found.key], totals[found.key] = found.at, (found.total, found.face)
            carried.setdefault(found.key, found.lines)
            not_done.add(found.key)
    begun: set[str] = set()
    for found in _begun_not_done(others, documents):  # its capture cut short: in full until `settle`
        if found.key != invoice.key and found.key not in places:
            places[found.key], totals[found.key] = found.at, (found.total, found.face)
            carried.setdefault(found.key, found.lines)
            begun.add(found.key)
            not_done.add(found.key)
    for key, at in _charged_by_others(others):  # messages no longer done keep their charge: the earliest
        finished[key] = min(finished.get(key, at), at)
    by_hand: set[str] = set()
    for found in _closed_as_handled(others, documents):  # a done message of the key is its record
        if found.key == invoice.key or found.key in places:
            continue
        places[found.key], totals[found.key] = found.at, (found.total, found.face)
        carried.setdefault(found.key, found.lines)
        by_hand.add(found.key)
    applied_by = places.get(invoice.key)
    if _applied_before(unit) == invoice.key:  # this message ran to the end before: a replay
        applied_by = min(applied_by or unit.message_id, unit.message_id)
    applied = {key: (at, *totals[key]) for key, at in places.items() if key != invoice.key}
    # When the order was first charged: by any NF-e another message charged, one the ERP cancelled
    # since included — money taken for it was taken then, and a refund made after it is the
    # merchant's (a re-issue of a cancelled NF-e must not capture it back).
    earlier = [at for key, at in finished.items() if key != invoice.key]
    if applied:
        cancelled = {normalise(d.key) for d in documents if d.cancelled}
        for key in applied.keys() & cancelled:
            log.info("invoices: order %s: NF-e %s is cancelled in the ERP, no longer counted",
                     unit.order_id, key)  # fmt: skip
            del applied[key]
    # Ordered where it was first applied: a later event of an earlier NF-e (the carrier's tracking
    # given after it) does not make it the order's latest NF-e again.
    applied[invoice.key] = (applied_by or unit.message_id, invoice.total, invoice.total)
    carried[invoice.key] = event.lines or carried.get(invoice.key, ())
    ordered = sorted(applied.items(), key=lambda item: item[1][0])
    keys = [key for key, _ in ordered]
    issued = sum((face for _, (_, _, face) in ordered), ZERO)
    # The events list the ERP order's lines as they stand: they say the NF-e carry them only when
    # the NF-e's money leaves no served unit out (a line split over two NF-e looks carried by the first).
    covered = carries_all_served(served, [carried.get(key, ()) for key in keys]) and issued_for_every_unit(
        served, issued, event.total_served, len(keys), freight
    )
    return Documents(
        keys, sum((total for _, (_, total, _) in ordered), ZERO), event.total_served, applied_by,
        min(earlier) if earlier else None, face=issued, covered=covered, own=invoice.total,
        by_hand=sum((applied[key][1] for key in by_hand if key in applied), ZERO),
        begun=sum((applied[key][1] for key in begun if key in applied), ZERO),
        others_open=any(key in applied for key in not_done),
    )  # fmt: skip


def settle(
    documents: Documents,
    state: Settlement,
    *,
    own_charged: bool = False,
    held_before: Collection[str] | None = None,
) -> Documents:
    """The order's NF-e with what Shopify does not hold of some taken out of `total`.

    First, of those whose capture another message began and was cut short (`begun`: the run crashed,
    or lost orderCapture's answer, before keeping a capture record, and its message was left failed):
    what landed is in Shopify's transactions, and what a capture of the other NF-e would ask now
    (`not_asked`, up to their totals) did not land (`unlanded`) — the rule that message's own Retry
    follows (jobs.invoices: the captures that landed are read from Shopify's transactions). So the
    next NF-e captures its own money: not nothing, taking what landed for them as paid ahead; nor
    theirs too, when it did not land (their Retry asks it, from the authorisation kept for it:
    `final` is False meanwhile). When this message charged its own NF-e before, or began to
    (`own_charged`: its own capture may have landed too), what of Shopify's money its own runs'
    captures hold (`own_landed`) is its own, not theirs: what it captures never exceeds what its own
    NF-e still lacks, nor does a rerun whose first run took nothing take their capture for its own
    and charge nothing. `held_before`: the capture transactions Shopify held when this message's
    charge began (jobs.invoice_record.CAPTURES_BEFORE; None: not kept).

    Then, of those known only by a message closed as handled (`by_hand`), the money settled outside
    Shopify, by the rule of a later event of such an NF-e (jobs.invoices, SETTLED: `not_asked`): what
    a capture of the other NF-e would ask now, up to their totals — nothing when Shopify holds their
    money already (a person captured it by hand in Shopify), all of it when the customer paid outside
    (a Pix at the counter). So the next NF-e is charged its own money, neither theirs again nor less
    for money Shopify never held. Not on a replay of an NF-e applied already (`applied_by`): it
    captures nothing, and Shopify's money then includes its own capture."""
    if documents.begun > ZERO:
        owed = documents.total - documents.own + own_landed(documents, state, own_charged, held_before)
        unlanded = not_asked(owed, documents.begun, state, documents.charged_since)
        documents = replace(documents, total=documents.total - unlanded, unlanded=unlanded)
    if documents.by_hand <= ZERO or documents.applied_by is not None:
        return documents
    others = documents.total - documents.own
    outside = not_asked(others, documents.by_hand, state, documents.charged_since)
    return replace(documents, total=documents.total - outside, outside=outside)


def own_landed(
    documents: Documents, state: Settlement, own_charged: bool, held_before: Collection[str] | None
) -> Decimal:
    """Pure: what of Shopify's money (captures taken, or pending at the gateway: asked) is the
    current NF-e's own, up to its total. Nothing when this message never began charging it; all of it
    when it applied the NF-e already (`applied_by`: its capture was taken then). When an earlier run
    began the charge (`own_charged`), the captures Shopify holds beyond those it held then
    (`held_before`, kept by that run before its first orderCapture): that run's and its reruns', one
    whose answer was lost included (no record of ours names it) — never another NF-e's capture taken
    before (else a rerun whose first run took nothing, refused or never sent, would count that
    capture as its own and charge nothing). Not by times: a capture pending at the gateway is given
    its processedAt when the gateway answers, and Shopify's whole seconds cannot order two messages
    run within one. A charge begun before `held_before` was kept (None): all of it, as before — what
    Shopify holds counts as its own first."""
    if documents.applied_by is not None or (own_charged and held_before is None):
        return documents.own
    if not own_charged:
        return ZERO
    held = set(held_before or ())
    asked = ("SUCCESS", *IN_FLIGHT)
    since = sum((c.amount for c in state.captures if c.id not in held and c.status in asked), ZERO)
    return min(documents.own, since)


def held_by_others(
    held_before: Collection[str] | None, run: object, held_now: Collection[str], named: Collection[str]
) -> list[str] | None:
    """Pure: the captures a rerun of a message takes as not its NF-e's own (`held_before`, what it
    passes to `own_landed`; jobs.invoice_record.CAPTURES_BEFORE), from those its charge's first run
    found (`held_before`), the message's last run that began asking (`run`: CAPTURE_RUN, the ids
    Shopify held when it began and whether every orderCapture it sent was answered), the ids Shopify
    holds now (`held_now`) and those the message's capture records name (`named`). Runs of an
    order's messages are serialised, so a capture is the run's that began just before it landed.
    That run answered (a transaction, or a userError: nothing created), its own captures are the
    ones its records name: every other capture that landed since it began is another NF-e's — the
    other's Retry, a person capturing by hand in Shopify — and is added (else taken for its own, the
    rerun charges nothing for its NF-e, or the other's Retry nothing for its). That run cut short
    without an answer (or none kept: a run begun before CAPTURE_RUN was), what landed since may be
    its capture, whose id no record names: counted its own, `held_before` is kept (else captured
    twice); a capture of another NF-e landing in that window is then taken for its own."""
    if held_before is None:
        return None
    before = [str(c) for c in held_before]
    seen = run.get("held") if isinstance(run, dict) and run.get("answered") is True else None
    if not isinstance(seen, list):
        return before
    known = {*before, *(str(c) for c in seen), *named}
    return [*before, *(c for c in held_now if c not in known)]


def _applied_before(unit: order_events.EventUnit) -> str | None:
    """The key this message applied when it last ran to the end (its response stays through a replay)."""
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        return (message.response_payload or {}).get("key") if message is not None else None


def _applied(unit: order_events.EventUnit) -> list[Applied]:
    """The NF-e applied by this order's other done invoices messages — of the same ERP
    (`unit.generation`): after the ERP connection moved, the old ERP's order of the same number is
    another order, whose NF-e this one owes nothing of."""
    with session_scope() as session:
        rows = order_events.order_messages(
            session, unit, Message.status == MessageStatus.DONE.value, Message.id != unit.message_id
        )
        return _applied_of(rows)


def _not_done(unit: order_events.EventUnit) -> list[Message]:
    """This order's other invoices messages that are not done (of the same ERP, in id order), read
    once for `_charged_not_done`, `_begun_not_done`, `_charged_by_others` and `_closed_as_handled`,
    each of which takes its own of them: one SELECT, outside a transaction (ledger.db.read_scope),
    rather than a session and a SELECT each on every invoice event. Detached, their columns loaded:
    only read."""
    with read_scope() as session:
        return order_events.order_messages(
            session, unit, Message.status != MessageStatus.DONE.value, Message.id != unit.message_id
        )


def _charged_not_done(others: Sequence[Message]) -> list[Applied]:
    """The NF-e this order's other invoices messages charged though they are not done now (failed,
    parked; one pending or retrying made this event wait: jobs.order_events.wait_for_earlier): a run
    that asked the capture keeps the key on its response at once (jobs.invoice_record.KEY, beside its
    capture record) and then failed (a fulfillment Shopify refused, a crash), or a done message's
    replay failed. Its money was asked for (taken, pending at the gateway or refused, as for a done
    message), and its Retry only follows that capture (jobs.invoice_capture.recheck): left out, the
    order's next NF-e would take that money as paid ahead for itself and charge nothing (nor close
    the authorisation as the last). Not one closed as handled (skipped): `_closed_as_handled`.
    `others`: the order's other messages not done (`_not_done`)."""
    return _applied_of([m for m in others if m.status != MessageStatus.SKIPPED.value])


def _begun_not_done(others: Sequence[Message], documents: Sequence[Invoice]) -> list[Applied]:
    """The NF-e whose capture this order's other invoices messages began (CAPTURING) and were cut
    short asking, before keeping a capture record (no KEY: a crash, orderCapture's answer lost or
    refused), the message then left failed or parked: whether and how much of its money landed only
    Shopify's transactions tell (`settle`). Its total is its event's document's, else the ERP order's
    `documents` (`_document_of_message`). Not one closed as handled: `_closed_as_handled`.
    `others`: the order's other messages not done (`_not_done`)."""
    found = []
    for message in others:
        if message.status == MessageStatus.SKIPPED.value:
            continue
        response = message.response_payload or {}
        key = response.get(CAPTURING)
        if not key or response.get(KEY):
            continue
        document, lines = _document_of_message(message, key, documents)
        if document is not None:
            found.append(Applied(message.id, key, document.total, None, document.total, lines))
    return found


def _document_of_message(
    message: Message, key: str, documents: Sequence[Invoice]
) -> tuple[Invoice | None, tuple[OrderLine, ...]]:
    """NF-e `key` of a message that recorded no total for it: its event's document when it names
    that key, else the ERP order's valid one of that key (None: neither: logged), and the lines its
    event lists."""
    try:
        event: OrderEvent | None = event_from_payload(message.request_payload or {})
    except (KeyError, TypeError, ValueError):
        event = None
    named = event.invoice if event is not None else None
    document = named if named is not None and normalise(named.key) == key else next(
        (d for d in documents if normalise(d.key) == key and d.valid), None
    )  # fmt: skip
    if document is None:
        log.warning("invoices: message %s names NF-e %s with no total", message.id, key)
    return document, (event.lines if event is not None else ())


def _applied_of(rows: Sequence[Message]) -> list[Applied]:
    """The NF-e invoices messages `rows` keep as applied (`_applied_document`), in their order."""
    found = []
    for message in rows:
        applied = _applied_document(message)
        if applied is not None:
            key, total, face = applied
            found.append(Applied(message.id, key, total, _charged_at(message), face, _lines(message)))
    return found


def _charged_by_others(others: Sequence[Message]) -> list[tuple[str, datetime]]:
    """(key, when charged) of the NF-e this order's other invoices messages that are not done now
    charged: a done message a later run of it left otherwise (a Replay skipped because the ERP
    cancelled its NF-e since, a replay that failed) keeps on its response the key it applied and
    when it charged it (CHARGED_AT), and a run that asked the capture keeps its record (ASKED,
    whatever its status). Its money was taken then, whatever became of the message: a refund made
    after it is the merchant's, which the order's next NF-e (a re-issue of it included) must not
    capture back. Not the row's finished_at: the later run rewrote it. A message closed as handled
    that never ran to the end is not counted (`_closed_as_handled`: its money is the person's), nor
    the part of one left to a person (SETTLED). `others`: the order's other messages not done
    (`_not_done`)."""
    found = []
    for message in others:
        response = message.response_payload or {}
        key = response.get(KEY) or (None if handled.info(message) else response.get(CAPTURING))
        if not key or _settled_amount(message) > ZERO:
            continue
        at = kept_time(response.get(CHARGED_AT)) or _asked_at(message)
        if at is None and not response.get(KEY):  # its capture began, no record: when it began
            at = kept_time(response.get(CAPTURING_AT))
        if at is not None:
            found.append((key, at))
    return found


def _closed_as_handled(others: Sequence[Message], documents: Sequence[Invoice]) -> list[Applied]:
    """The NF-e of this order's other invoices messages a person closed as handled (ledger.handled)
    over the NF-e's money (`about_money`) after the run wrote its key on the order (WRITTEN, or
    CAPTURING: the capture was being asked): the NF-e is on the order and its money the person's (a
    capture made by hand in Shopify, a Pix at the counter), though no done message applied it when
    no later event of it came. Its total is its event's document's, else the ERP order's `documents`
    (an event that named none); one neither gives is not counted. Never charged by the app (no
    `finished`); `settle` counts its money the way a later event of it would (SETTLED). `others`:
    the order's other messages not done (`_not_done`)."""
    found = []
    for message in others:
        if message.status != MessageStatus.SKIPPED.value:
            continue
        response = message.response_payload or {}
        key = response.get(CAPTURING) or response.get(WRITTEN)
        if not key or handled.info(message) is None or not about_money(message):
            continue
        document, lines = _document_of_message(message, key, documents)
        if document is not None:
            found.append(Applied(message.id, key, document.total, None, document.total, lines))
    return found


def _lines(message: Message) -> tuple[OrderLine, ...]:
    """The lines a message's event lists (what its NF-e carries), () when it lists none."""
    try:
        return event_from_payload(message.request_payload or {}).lines
    except (KeyError, TypeError, ValueError):
        return ()


def _charged_at(message: Message) -> datetime | None:
    """When a done invoices message charged its NF-e: the time its response keeps (CHARGED_AT: when
    its capture began, else when the run that applied it ran; a replay carries it forward), else, a
    message recorded before that was kept, `charge_time`. Not when it finished: a message finishes
    only when a re-check sees a pending capture's answer, or after the rerun of a run that failed
    after its capture, and a Replay finishes it again; a refund made in between is the merchant's,
    not money the next NF-e takes back. None when the app asked nothing for it because a person
    settled it outside the app (SETTLED): no charge of the app's to date refunds by."""
    if _settled_amount(message) > ZERO:
        return None
    kept = kept_time((message.response_payload or {}).get(CHARGED_AT))
    if kept is not None:
        return kept
    return charge_time(message)


def charge_time(message: Message) -> datetime | None:
    """When an invoices message recorded before CHARGED_AT was kept charged its NF-e: when it asked
    for the money (its capture record, kept whatever the answer), else (one recorded before that
    record was kept, or that asked no capture: an order paid at checkout) when it finished."""
    return _asked_at(message) or message.finished_at


def _asked_at(message: Message) -> datetime | None:
    """When an invoices message asked for its NF-e's money (its capture record), None: no record."""
    asked = (message.response_payload or {}).get(ASKED)
    if isinstance(asked, dict) and asked.get("at"):
        try:
            return Asked.from_record(asked).at
        except (KeyError, ValueError, InvalidOperation):
            log.warning("invoices: message %s keeps an unreadable capture record", message.id)
    return None


def keep_charge_time(message: Message) -> None:
    """Before a done invoices message is run again (a Replay, whose trace.begin clears `finished_at`):
    a response stored before CHARGED_AT was kept gets it from `charge_time`, so the replay carries
    the NF-e's charge forward rather than counting it from its own finish (the order's next NF-e
    would then capture back a refund the merchant made in between, or name it as not charged)."""
    response = message.response_payload or {}
    if message.status != MessageStatus.DONE.value or not response.get(KEY) or response.get(CHARGED_AT):
        return
    charged = charge_time(message)
    if charged is not None:
        message.response_payload = {**response, CHARGED_AT: charged.isoformat()}


def kept_time(value: object) -> datetime | None:
    """A time kept on a message's response (ISO text; naive: UTC), None when none or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        log.warning("invoices: unreadable time %r on a message's response", value)
        return None
    return as_utc(found)


def _applied_document(message: Message) -> tuple[str, Decimal, Decimal] | None:
    """The key a done invoices message applied, what its NF-e counts for in the order's money and
    its total as issued: its response names them ("key", "total"); a message written before "total"
    was recorded takes it from its event's document. One that left the NF-e's money to a person
    (SETTLED: its earlier event closed as handled) counts only what was not settled outside the app."""
    response = message.response_payload or {}
    key = response.get("key")
    if not key:
        return None
    total = response.get("total")
    if total is None:
        document: Invoice | None = event_from_payload(message.request_payload or {}).invoice
        if document is None or normalise(document.key) != key:
            log.warning("invoices: message %s applied NF-e %s with no total on record", message.id, key)
            return None
        return key, document.total, document.total
    try:
        face = Decimal(str(total))
    except InvalidOperation:
        return None
    # Settled outside the app (a person closed its earlier event as handled): what the app did
    # not ask for is paid outside Shopify, and the next NF-e must not charge it again.
    return key, max(ZERO, face - _settled_amount(message)), face


def _settled_amount(message: Message) -> Decimal:
    """The NF-e money a done message left to a person (SETTLED "amount": jobs.invoices), else 0."""
    settled = (message.response_payload or {}).get(SETTLED)
    if not isinstance(settled, dict):
        return ZERO
    try:
        return max(ZERO, Decimal(str(settled.get("amount") or 0)))
    except InvalidOperation:
        log.warning("invoices: message %s keeps an unreadable settled amount", message.id)
        return ZERO
