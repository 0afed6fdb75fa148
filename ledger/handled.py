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
over theirs) and reopen the message (`trace.begin` clears this record).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import order_notes, trace
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, OrderLink, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

KEY = "handled"  # under error_detail
NOTE_MAX = 500
CLOSABLE = (MessageStatus.FAILED.value, MessageStatus.PARKED.value)
# The flows whose messages are about one order and may have left a note on its link.
ORDER_FLOWS = ("orders", "order_edits", "invoices", "cancellations")


def can_mark(message: Message) -> bool:
    """Failed or parked; or pending on purpose (an order waiting for a payment that will come
    by other means: payment terms, entered in the ERP by hand). Never one a job is working on."""
    return message.status in CLOSABLE or trace.is_waiting(message)


def info(message: Message) -> dict[str, Any] | None:
    """Who closed the message as handled, when, why and what it was; None when not closed so."""
    detail = message.error_detail
    found = detail.get(KEY) if isinstance(detail, dict) else None
    return found if isinstance(found, dict) and message.status == MessageStatus.SKIPPED.value else None


def unless_handled(replay: Callable[[int], T]) -> Callable[[int], T | str]:
    """A flow's `replay(message_id)` that ends, returning "handled", when the message was closed as
    handled: final in every flow, whoever queued its replay before."""

    @functools.wraps(replay)
    def guarded(message_id: int) -> T | str:
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None and info(message) is not None:
                log.info("%s: message %s was closed as handled outside the app; not run", message.flow,
                         message_id, extra={"shop_id": message.shop_id, "flow": message.flow})  # fmt: skip
                return KEY
        return replay(message_id)

    return guarded


def mark(
    session: Session, message: Message, *, by: str, note: str, extra: dict[str, Any] | None = None
) -> list[str]:
    """Close `message` as handled outside the app by `by` (a staff user id) with `note`; `extra`
    is kept beside (the ERP order linked by hand). Returns the order-link notes it cleared."""
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
    message.error_detail = {**detail, KEY: closed}
    message.error_class = None
    trace.skip(session, message, f"handled outside the app: {note}")
    return _clear_note(session, message)


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
    before = {n.text for n in order_notes.notes(link)}
    event = order_notes.event_of(message.unit_key)
    if event is not None:
        order_notes.clear(link, message.flow, event=event[0], generation=event[1])
    else:
        order_notes.clear(link, message.flow)
    return sorted(before - {n.text for n in order_notes.notes(link)})
