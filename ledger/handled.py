"""A failure a person settled outside the app: closed for good, saying who, when and why.

Some failures only a person can settle, and outside the app: an order refused for taxes added on
top, a tax id or totals the ERP will not take (entered in the ERP by hand), an ERP picking edit or
weight Shopify cannot take (fixed in Shopify by hand), an invoice on an order cancelled since, an
event half done on another ERP. Their Retry gets the same refusal, so without this they stay
failed for ever: under "Needs attention", in the dashboard's open failures, burying new ones.

`mark` closes such a message as skipped (nothing more for the app to do) with "handled outside
the app: <note>" as its reason. The failure is not lost: the error detail keeps what it had (the
target's code, a traceback) and, under "handled", who closed it, when, the note, and the status,
class and text of the error it closed. The error class is cleared, so the message lists as closed.
Its order link's note of that failure goes with it (`ledger.order_notes`): an ERP event's own
note, or for any other message of an order flow its flow's note. The caller audits the action.

Once closed the message is final: skipped is neither retried nor replayed, the mapping resumes and
the catch-ups look only at parked, failed and pending ones, and the orders flow does not import
an order whose orders message was closed so (`jobs.orders`: it may be in the ERP by hand now).
Every flow's replay job (`ledger.flows`: `jobs.<module>.replay`) is wrapped in `unless_handled`:
one still queued when the message was closed (a Retry clicked before, two people at once) ends
without running it, which would redo what the person settled (an order posted, the ERP's price sent
over theirs) and reopen the message (`trace.begin` clears this record). Both sides hold when they
cross: the replay's own `trace.begin` of the unit leaves a row closed as handled since its guard
looked as it is (`trace.replaying`), and `mark` changes the row only while it is still as it was
read (same status, same attempts), else raises Changed (the API answers 409).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger import bindings, flows, order_notes, trace
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, OrderLink, as_utc, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

KEY = trace.HANDLED  # under error_detail
NOTE_MAX = 500
CLOSABLE = (MessageStatus.FAILED.value, MessageStatus.PARKED.value)
# The flows whose messages are about one order and may have left a note on its link.
ORDER_FLOWS = flows.ORDER_FLOWS
# A catalog message ("product:<seq>") whose product's publish failed says one of these codes
# (jobs.catalog_publish): refused, retrying.
CATALOG_FLOWS = ("products", "skus")
PUBLISH_CODES = ("PUBLISH_FAILED", "PUBLISH_RETRYING")


def can_mark(message: Message) -> bool:
    """Failed or parked; or pending on purpose (an order waiting for a payment that will come
    by other means: payment terms, entered in the ERP by hand). Never one a job is working on."""
    return message.status in CLOSABLE or trace.is_waiting(message)


def info(message: Message) -> dict[str, Any] | None:
    """Who closed the message as handled, when, why and what it was; None when not closed so."""
    return info_of(message.status, message.error_detail)


def info_of(status: str | None, error_detail: Any) -> dict[str, Any] | None:
    """`info` from a message's status and error_detail as read (a SELECT of those columns)."""
    found = error_detail.get(KEY) if isinstance(error_detail, dict) else None
    return found if isinstance(found, dict) and status == MessageStatus.SKIPPED.value else None


def unless_handled(replay: Callable[..., T]) -> Callable[..., T | str]:
    """A flow's `replay(message_id, **options)` that ends, returning "handled", when the message
    was closed as handled: final in every flow, whoever queued its replay before."""

    @functools.wraps(replay)
    def guarded(message_id: int, **options: Any) -> T | str:
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None and info(message) is not None:
                log.info("%s: message %s was closed as handled outside the app; not run", message.flow,
                         message_id, extra={"shop_id": message.shop_id, "flow": message.flow})  # fmt: skip
                return KEY
            unit = None if message is None else (message.shop_id, message.flow, message.unit_key)
        token = trace.replaying.set(unit)
        try:
            return replay(message_id, **options)
        except trace.ClosedMeanwhile:  # closed after the look above, before the replay began it
            log.info("message %s was closed as handled outside the app while its replay started; not run",
                     message_id)  # fmt: skip
            return KEY
        finally:
            trace.replaying.reset(token)

    return guarded


class Changed(Exception):
    """The message changed since it was read (a job began or finished it): not closed."""


def closed_at(session: Session, shop_id: int, flow: str, unit_keys: Iterable[str]) -> dict[str, datetime]:
    """When each of these units' message was closed as handled (UTC), for those closed so."""
    found: dict[str, datetime] = {}
    for message in trace.unit_messages(session, shop_id, flow, unit_keys, trace.closed_as_handled()):
        at = (info(message) or {}).get("at")
        if at:
            found[message.unit_key] = utc(datetime.fromisoformat(str(at)))
    return found


def utc(value: datetime) -> datetime:
    """A time parsed from a payload's text, as aware UTC."""
    return as_utc(value)


def mark(
    session: Session, message: Message, *, by: str, note: str, extra: dict[str, Any] | None = None
) -> list[str]:
    """Close `message` as handled outside the app by `by` (a staff user id) with `note`; `extra`
    is kept beside (the ERP order linked by hand). Returns the slots of the order-link notes it
    cleared, by their labels ("order_edits (delivery address)"): never their words, which may quote
    a delivery address (what the caller audits is no customer's data).

    One conditional UPDATE: the row is closed only while its status and attempts are still those
    read into `message`. Raises Changed when a job began (or finished) it meanwhile: its replay
    would reopen a closed row, or it settled the failure itself."""
    closed = {
        "by": by,
        "at": utcnow().isoformat(),
        "note": note,
        "status": message.status,
        "error_class": message.error_class,
        "error_text": message.error_text,
        **(extra or {}),
    }
    detail = dict(message.error_detail) if isinstance(message.error_detail, dict) else {}
    now = utcnow()
    session.flush()
    written = session.execute(
        update(Message)
        .where(
            Message.id == message.id,
            Message.status == message.status,
            Message.attempts == message.attempts,
        )
        .values(
            status=MessageStatus.SKIPPED.value,
            error_class=None,
            error_text=f"handled outside the app: {note}",
            error_detail={**detail, KEY: closed},
            updated_at=now,
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(message)
    if written.rowcount != 1:
        raise Changed(f"message {message.id} changed since it was read: it is {message.status} now")
    _drop_publish(session, message, detail)
    return _clear_note(session, message)


def _drop_publish(session: Session, message: Message, detail: dict[str, Any]) -> None:
    """A product's publish failure closed as handled (kept off the channel on purpose, published by
    hand): the publish its binding still owed goes too (bindings.PUBLISH_KEYS), or a later pass of
    either catalog flow would publish it anyway, undoing the person's decision."""
    if message.flow not in CATALOG_FLOWS or detail.get("code") not in PUBLISH_CODES:
        return
    seq = str(detail.get("seq_produto") or message.unit_key.removeprefix("product:"))
    row = bindings.get_many(session, message.shop_id, bindings.PRODUCT_KIND, [seq]).get(seq)
    if row is None or not set(bindings.PUBLISH_KEYS) & set(row.data or {}):
        return
    data = {k: v for k, v in (row.data or {}).items() if k not in bindings.PUBLISH_KEYS}
    bindings.upsert_many(session, message.shop_id, bindings.PRODUCT_KIND,
                         [bindings.BindingRow(seq, row.shopify_id, row.digest, data)])  # fmt: skip


def _clear_note(session: Session, message: Message) -> list[str]:
    """Clear the note the closed failure left on its order's link: an ERP event's own note, or for
    another message of an order flow its flow's note (an edit NOT applied in the ERP, a refused
    cancellation). Another flow's, or another event's, stays."""
    if message.flow not in ORDER_FLOWS or not message.shopify_id:
        return []
    link = session.scalars(
        select(OrderLink).where(
            OrderLink.shop_id == message.shop_id, OrderLink.shopify_order_id == message.shopify_id
        )
    ).one_or_none()
    if link is None:
        return []
    before = order_notes.notes(link)
    event = order_notes.event_of(message.unit_key)
    if event is not None:
        order_notes.clear(link, message.flow, event=event[0], generation=event[1])
    else:
        order_notes.clear(link, message.flow, topic=order_notes.topic_of(message.unit_key))
    left = {n.text for n in order_notes.notes(link)}
    return sorted({n.label for n in before if n.text not in left})
