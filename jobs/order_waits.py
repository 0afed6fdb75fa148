"""A change of an order that waits for the order's other work (its lock: jobs.orders.order_lock).

Why: the import, edits, refunds, cancellations and delivery address changes of one order run under
one lock. A job holding it long (an import or an edit on a slow ERP, which answers each call in up to
3 x 60 s; an orders-queue job may run 15 minutes) outlasts the whole RQ retry schedule of a change
waiting behind it (~640 s). That change's webhook delivery then ends failed (jobs.inbox), and the
orders catch-up reruns only deliveries still open and messages still pending or retrying: with no
message begun, nothing would ever bring the change to the ERP. So a change is never left with neither.

- An edit, a refund of items and a cancellation (a unit the webhook alone names) begin their message
  before they wait (`begun_then_locked`): the Messages page shows the change waiting, the order busy
  past the wait is recorded on it (retrying, "order N is being handled by another worker: this
  message is tried again later"), and once its job is gone the catch-up's stale-message pass replays
  it. Still one message per unit: `ledger.trace.begin` is an upsert on (shop, flow, unit key), each
  try counted as an attempt. The design's rule holds: the row exists before any outside call.
- A delivery address change begins its message only once a change is found under the lock (what the
  ERP order's obsPedido was built from is read there, and beginning the message would clear how a
  person closed its flag: jobs.order_edits.address), and the import begins its own under the lock
  (what it reads first decides whether there is one: an order sent, one closed as handled). They
  keep their delivery open instead (`jobs.orders.order_lock(..., kept=True)`): the order busy
  through every retry, the row stays `enqueued` (jobs.inbox.KEEP_OPEN) and the catch-up runs it
  again. For the import that is mostly a second look ("already": the order's other work was its
  import), but an orders/updated compares the delivery address after it, which the import holding
  the lock may have posted from before a change. So do a late fraud verdict
  (orders/risk_assessment_changed, jobs.order_risk_late) and a payment voided after the order
  reached the ERP (orders/updated, jobs.order_payment_lost): each begins its note's message only
  under the lock, once it knows there is something to note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from redis.lock import Lock
from sqlalchemy.orm import Session

from jobs.orders import order_lock
from ledger import trace
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus

OPEN = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)


@contextmanager
def begun_then_locked(
    shop_id: int, order_id: str | int, begin: Callable[[Session], Message]
) -> Iterator[tuple[Session, Message, Lock]]:
    """`begin` the unit's message and commit it, then wait for the order's lock; under it, the
    session, the message, as `begin` left it, and the lock (asked again before an ERP write:
    jobs.orders.ensure_held). Another job of the same unit that ran meanwhile (a
    second delivery, a person's Retry) closed or changed it: it is begun again, this run an attempt
    of its own. The session commits when the block ends, as `session_scope`.

    Raises:
        Transient: the order busy past the wait (recorded on the message while it is still open).
    """
    with session_scope() as session:
        message_id = begin(session).id
    locked = False
    try:
        with order_lock(shop_id, order_id) as lock:
            locked = True
            with session_scope() as session:
                message = session.get(Message, message_id)
                if message is None or message.status != MessageStatus.PENDING.value:
                    message = begin(session)
                yield session, message, lock
    except Transient as busy:
        if not locked:
            _record_busy(message_id, busy)
        raise


def _record_busy(message_id: int, busy: Transient) -> None:
    """The order busy past the wait, on the message (retrying, with its words), unless another job
    of the unit closed it meanwhile: its outcome stands (that job read the order after this change)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None and message.status in OPEN:
            trace.fail(session, message, busy)
