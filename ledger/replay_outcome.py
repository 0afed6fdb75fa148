"""What becomes of a message whose replay RQ gave up on: failed, saying so, not "retrying" for ever.

A message's Retry or Replay (shopify_app.enqueue.enqueue_replay) runs the flow's
`replay(message_id)` with RQ's Retry. A transient failure (Shopify down, the catalog busy) marks the
unit retrying and RQ runs the replay again, up to its last retry; after that nothing runs it again
(no scheduled pass re-sends a product or a batch it finds unchanged), while the page would still
say it is retried automatically. So the replay carries this failure callback: once RQ has no retry
left (`job.should_retry`, as ledger.run_outcome decides), a message still retrying or pending whose
work is this job's, or a job RQ no longer holds, is failed saying the retries ran out and the last
error (ledger.trace.retries_ran_out), offered for Retry.

The order flows (ledger.flows.ORDER_FLOWS) are not given it: their catch-up (jobs.order_catch_up)
replays a retrying message of theirs again whatever became of its job. A callback never raises
(RQ would take it for the job's own error).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from ledger import queues, trace
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from ledger.run_outcome import error_line, killed_line

log = logging.getLogger(__name__)

ON_FAILURE = f"{__name__}.failed"
OPEN = (MessageStatus.RETRYING.value, MessageStatus.PENDING.value)


def failed(
    job: Any,
    connection: Any,
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    tb: TracebackType | None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """RQ's failure callback of a replay job (`replay(message_id)`): nothing while RQ runs it again."""
    if job.should_retry:
        return
    try:
        last = error_line(exc_type, exc_value) if exc_value is not None else None
        gave_up(int(job.args[0]), job.id, last, connection)
    except Exception:
        log.exception("replay_outcome: could not record that replay job %s ran out of retries", job.id)


def horse_killed(job: Any, ret_val: int | None) -> None:
    """A replay whose forked work horse died (the OOM killer on a big load): RQ fails it, or runs it
    again, without calling its failure callback; on its last try the message would stay "retrying"
    (the page: retried automatically) with no job left to retry it. Never raises."""
    if getattr(job, "_failure_callback_name", None) != ON_FAILURE or job.should_retry:
        return
    try:
        gave_up(int(job.args[0]), job.id, killed_line(ret_val)[0], job.connection)
    except Exception:
        log.exception("replay_outcome: could not record that replay job %s ran out of retries", job.id)


def gave_up(message_id: int, job_id: str, last: str | None, connection: Any) -> bool:
    """Fail the message whose replay `job_id` ended for good, when it is still open and no other
    job RQ holds has taken it since (a pass, a later Retry); whether it was failed. `last`: the
    job's last error line (None: it had none, a dead worker: the unit's own). Said as it came: a
    transient failure's own words say it is tried again later, which is no longer so."""
    with session_scope() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status not in OPEN:
            return False
        owner = message.job_id
        if owner and owner != job_id and queues.held(owner, connection):
            return False  # another job is working on it: its own outcome will say
        trace.retries_ran_out(
            session, message, last or message.error_text or "the job ended without a retry left"
        )
        return True
