"""What an order's invoices add up to (flow `invoices`): its valid NF-e known so far.

The ERP may invoice one order in more than one NF-e (partial invoicing: what was picked first,
then the rest), and may cancel an NF-e and issue another for the same goods (a re-issue). So
what the customer owes is not the current NF-e's total but the sum of the order's valid NF-e:
the ones the app applied (its own record: the `done` invoices messages of the ERP order, each
holding its event and the key and total it applied) and the current one, less those the ERP now
lists cancelled (the ERP order's documents, GET PedidoVenda, which jobs.invoices reads for every
event: it skips an event whose own NF-e the ERP lists cancelled). An NF-e the app has
not applied yet (its event still to come) is not counted: its money is taken with its goods.
An NF-e applied already (a done invoices message of its key, or this message's earlier run: a
replay) is charged nothing more (`applied_by`): its money was taken when it was applied, and a
refund made since is the merchant's decision, not money still due. For the same reason the next
NF-e does not take such a refund back: the money kept counts only the refunds made before the
order's first NF-e still counted was charged (`charged_since`, Settlement.kept_before: when its
message finished, or when it asked for the money if a capture was answered PENDING). (An NF-e
counts as applied by its done message, not by the key's presence in `nfe.chaves`: the metafields
are written before the capture, so a retry after a capture that failed finds the key there and
must still capture.) An NF-e whose earlier event a person closed as handled (they settled its money
outside the app: `handled_before`; only one whose failure was about the money, `about_money`:
a capture Shopify refused, or one asked) is applied by a later event of it without a capture; that
message keeps the amount it left to the person (jobs.invoice_record.SETTLED), and the NF-e counts
only the rest of its total in what the order's next NF-e captures.

Nothing more is expected — the capture is final, releasing what is left of the authorisation —
once those NF-e totals reach the ERP order's served total (vlrTotalAtendido, freight included,
given by the event) less a cent per NF-e: an NF-e is issued only for served goods, so below that
total part of what was served is still to be invoiced; but an NF-e apportions the discount per
item and rounds each share while the order total rounds once, so an order's last NF-e may fall a
cent short of it (kept authorised, that cent would wait for ever for an NF-e that never comes, and
no final capture would ever name what no NF-e carries). An event that gives no served total is
taken as the whole order (one NF-e), as before partial invoicing was known.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from erp.records import Invoice, OrderEvent
from jobs import order_events
from jobs.invoice_capture import ASKED, Asked
from jobs.invoice_record import CAPTURING, KEY, SETTLED, WRITTEN
from jobs.nfe import normalise
from jobs.order_event_codec import event_from_payload
from ledger import handled
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, MessageStatus

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
    # When the order's first NF-e still counted was charged (None: this is the first): a refund
    # made since is the merchant's, not money the next NF-e takes back (Settlement.kept_before).
    charged_since: datetime | None = None

    @property
    def final(self) -> bool:
        """Nothing more is expected: the NF-e cover all that was served, to a cent's rounding per
        NF-e (see the module)."""
        return self.served is None or self.total + CENT * len(self.keys) >= self.served


def document_of(unit: order_events.EventUnit, documents: Sequence[Invoice]) -> Invoice | None:
    """The valid NF-e an event that names no fiscal document applies, from the ERP order's
    `documents` (None: none valid): the one this message applied before (a replay), else the
    earliest valid one no done invoices message has applied yet — each event of a partial invoicing
    takes its own, not all the latest — else the latest (all applied: a replay changes nothing).

    Not when every valid NF-e was applied, there are several, and the event gives tracking: which
    NF-e's goods the carrier's code is for cannot be told, and the latest's fulfillments would get
    another NF-e's code (the customer told a wrong one). Rejected (TRACKING_NFE_UNKNOWN) naming the
    tracking and the keys, for a person to add it in Shopify to the right fulfillment."""
    valid = sorted((d for d in documents if not d.cancelled), key=lambda d: (d.issued_at, d.number))
    if not valid:
        return None
    before = _applied_before(unit)
    applied = {key for _, key, _, _ in _applied(unit)}
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
            system="consinco", code="TRACKING_NFE_UNKNOWN",
            detail={"keys": [normalise(d.key) for d in valid], "tracking": tracking.code},
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
    HTTP 4xx or anything else from there on), it asked a capture already (ASKED: answered pending,
    then the message failed or was closed), or, for a message failed before CAPTURING was written,
    its error came from the capture (the executor's operation OrderCapture in the detail). Anything
    else (an unbound substitute SKU, an invalid NF-e key, a tracking Shopify refused) left the money
    to the app."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    if str(detail.get("operation") or "").lower() == CAPTURE_OPERATION:
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


def known(unit: order_events.EventUnit, event: OrderEvent, documents: Sequence[Invoice]) -> Documents:
    """The order's valid NF-e: those applied before this event's (less any the ERP order's
    `documents` list cancelled now) and this event's own, whose key is already the validated 44
    characters; in the order first applied: a key's place is the smallest id among the messages
    that applied it, this one included when it applied the key before (a later event of an NF-e
    applied already, e.g. its tracking given after invoicing, and a replay of its first event after
    that, keep that NF-e's place: the latest stays the latest). `applied_by` is that first message."""
    invoice = event.invoice
    assert invoice is not None
    # Each key's place and first charge: its FIRST message's, whichever message runs now. A later
    # event of the key (its tracking) is another done message of it: taken as the key's place, a
    # replay of the key's first event would sort it after the NF-e applied in between and show it
    # again; taken as its charge, a refund made in between would count as money kept.
    places: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    finished: dict[str, datetime] = {}
    for at, key, total, when in _applied(unit):  # in id order
        places.setdefault(key, at)
        totals.setdefault(key, total)
        if when is not None and key not in finished:
            finished[key] = when
    applied_by = places.get(invoice.key)
    if _applied_before(unit) == invoice.key:  # this message ran to the end before: a replay
        applied_by = min(applied_by or unit.message_id, unit.message_id)
    applied = {key: (at, totals[key]) for key, at in places.items() if key != invoice.key}
    if applied:
        cancelled = {normalise(d.key) for d in documents if d.cancelled}
        for key in applied.keys() & cancelled:
            log.info("invoices: order %s: NF-e %s is cancelled in the ERP, no longer counted",
                     unit.order_id, key)  # fmt: skip
            del applied[key]
    earlier = [finished[key] for key in applied if finished.get(key) is not None]
    # Ordered where it was first applied: a later event of an earlier NF-e (the carrier's tracking
    # given after it) does not make it the order's latest NF-e again.
    applied[invoice.key] = (applied_by or unit.message_id, invoice.total)
    ordered = sorted(applied.items(), key=lambda item: item[1][0])
    return Documents([key for key, _ in ordered], sum((total for _, (_, total) in ordered), Decimal("0")),
                     event.total_served, applied_by, min(earlier) if earlier else None)  # fmt: skip


def _applied_before(unit: order_events.EventUnit) -> str | None:
    """The key this message applied when it last ran to the end (its response stays through a replay)."""
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        return (message.response_payload or {}).get("key") if message is not None else None


def _applied(unit: order_events.EventUnit) -> list[tuple[int, str, Decimal, datetime | None]]:
    """(message id, key, total, when it finished) of the NF-e applied by this order's other done
    invoices messages — of the same ERP (`unit.generation`): after the ERP connection moved, the
    old ERP's order of the same number is another order, whose NF-e this one owes nothing of."""
    with session_scope() as session:
        rows = order_events.order_messages(
            session, unit, Message.status == MessageStatus.DONE.value, Message.id != unit.message_id
        )
        found = []
        for message in rows:
            applied = _applied_document(message)
            if applied is not None:
                found.append((message.id, *applied, _charged_at(message)))
        return found


def _charged_at(message: Message) -> datetime | None:
    """When a done invoices message charged its NF-e: when it asked for the money if a capture was
    answered PENDING (its message finishes only when a re-check sees the gateway's answer, and a
    refund made in between is the merchant's, not money the next NF-e takes back), else when it
    finished. None when the app asked nothing for it because a person settled it outside the app
    (SETTLED): no charge of the app's to date refunds by."""
    if _settled_amount(message) > ZERO:
        return None
    asked = (message.response_payload or {}).get(ASKED)
    if isinstance(asked, dict) and asked.get("at"):
        try:
            return Asked.from_record(asked).at
        except (KeyError, ValueError, InvalidOperation):
            log.warning("invoices: message %s keeps an unreadable capture record", message.id)
    return message.finished_at


def _applied_document(message: Message) -> tuple[str, Decimal] | None:
    """The key and total a done invoices message applied: its response names them ("key",
    "total"); a message written before "total" was recorded takes it from its event's document. One
    that left the NF-e's money to a person (SETTLED: its earlier event closed as handled) counts
    only what was not settled outside the app."""
    response = message.response_payload or {}
    key = response.get("key")
    if not key:
        return None
    total = response.get("total")
    if total is not None and (outside := _settled_amount(message)) > ZERO:
        # Settled outside the app (a person closed its earlier event as handled): what the app did
        # not ask for is paid outside Shopify, and the next NF-e must not charge it again.
        try:
            total = max(ZERO, Decimal(str(total)) - outside)
        except InvalidOperation:
            return None
    if total is None:
        document: Invoice | None = event_from_payload(message.request_payload or {}).invoice
        if document is None or normalise(document.key) != key:
            log.warning("invoices: message %s applied NF-e %s with no total on record", message.id, key)
            return None
        return key, document.total
    try:
        return key, Decimal(str(total))
    except InvalidOperation:
        return None


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
