"""What became of a scheduled flow's last run, written on its Schedule row for the Flows page.

A run that fails as a whole (the ERP down through every retry of a stock pass) writes no
message of its own: only RQ's failed-job registry would know, and Shopify's stock would stop
moving with nobody told. So every run of a schedule (the tick's, "run now"'s, the EventoPedido
poll's) is enqueued with these RQ callbacks (`ledger.queues.enqueue(schedule=...)`), and they
write the outcome with when it ended and the exception's line:

- "ok": the run returned;
- "retrying": it raised with RQ retries left (a Transient: the ERP down, a throttle);
- "failed": it raised with none left (RQ's failed-job registry holds it; requeue it there).

Beside the English line, its words (ledger.words: a classified failure's `words`, a dead worker's),
which the Flows page says in the merchant's language (shopify_app.run_words); a bug's line has none.

RQ calls the failure callback before it decides on the retry, and decides from the same
`job.retries_left` (a job that zeroes it for a bug fails at once, and is shown failed); a job
whose worker died (AbandonedJobError: a SimpleWorker, the orders and webhooks queues' mode,
killed under it, found by a later worker's maintenance) goes through it too, and is given the
dead worker's words (`failure_words`). A forked work horse killed under the
job (the OOM killer, RQ's hard kill at the timeout) is failed and retried by RQ without that
callback: jobs.worker.LedgerWorker reports it here (`horse_killed`). The run job's first argument is the
shop id (`run(shop_id)`, ledger.flows). A callback never raises: RQ takes a raising success
callback for a failed run, and a raising failure callback for the run's own error.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import Any

from rq.exceptions import AbandonedJobError
from sqlalchemy import case, or_, select, update

from ledger.db import session_scope
from ledger.errors import IntegrationError
from ledger.models import Schedule, utcnow
from ledger.schedules import RUN_FAILED, RUN_OK, RUN_RETRYING, STOPPED_BY_UNINSTALL
from ledger.words import Words, stored

log = logging.getLogger(__name__)

META_KEY = "schedule"  # job.meta[META_KEY]: the Schedule.flow the run belongs to
ON_SUCCESS = f"{__name__}.succeeded"
ON_FAILURE = f"{__name__}.failed"
ERROR_MAX = 1000
# A job whose worker died under it, as RQ's cleanup of the started-job registry fails it.
ABANDONED_LINE = (
    "AbandonedJobError: the worker process running it stopped midway (killed or restarted; out of memory?)"
)
ABANDONED_WORDS: Words = ("worker_abandoned", {})


def succeeded(job: Any, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """RQ's success callback of a scheduled flow's run."""
    _record(job, RUN_OK, None, None)


def failed(
    job: Any,
    connection: Any,
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    tb: TracebackType | None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """RQ's failure callback: "retrying" while RQ will run it again, "failed" once it will not. A
    due run whose schedule the merchant switched off while it ran is not run again (`_stop_if_off`)."""
    _stop_if_off(job)
    status = RUN_RETRYING if job.should_retry else RUN_FAILED
    _record(job, status, error_line(exc_type, exc_value), failure_words(exc_type, exc_value))


def _stop_if_off(job: Any) -> None:
    """The run the tick enqueued (the schedule's `last_job_id`) failed after its schedule was
    switched off (a stock count: the team stops the flow while a pass fails on the ERP): no retry.
    Switching off cancels a run still waiting (shopify_app.api_flows); one running went on to be
    retried by RQ, up to ~9 minutes of passes of a flow the page shows off. A "run now" (its own
    job id) keeps its retries: a person asked for it. Never raises (the callback's rule)."""
    schedule = (job.meta or {}).get(META_KEY)
    if not schedule or not job.should_retry:
        return
    try:
        with session_scope() as session:
            row = session.execute(
                select(Schedule.enabled, Schedule.last_job_id).where(
                    Schedule.shop_id == int(job.args[0]), Schedule.flow == schedule
                )
            ).one_or_none()
    except Exception:
        log.exception("run_outcome: could not read whether schedule %s of job %s is on", schedule, job.id)
        return
    if row is not None and not row.enabled and row.last_job_id == job.id:
        job.retries_left = 0


def failure_words(exc_type: type[BaseException] | None, exc_value: BaseException | None) -> Words | None:
    """A failure's words: a classified failure's own, a dead worker's (ABANDONED_WORDS); None for a bug."""
    if isinstance(exc_value, IntegrationError):
        return exc_value.words
    if _abandoned(exc_type, exc_value):
        return ABANDONED_WORDS
    return None


def _abandoned(exc_type: type[BaseException] | None, exc_value: BaseException | None) -> bool:
    return isinstance(exc_value, AbandonedJobError) or (
        isinstance(exc_type, type) and issubclass(exc_type, AbandonedJobError)
    )


def error_line(exc_type: type[BaseException] | None, exc_value: BaseException | None) -> str:
    """What a person reads first: a classified failure's own words ("Consinco unreachable at
    ..."), a dead worker's ABANDONED_LINE, anything else (a bug) its exception class and the
    first line of its text."""
    if _abandoned(exc_type, exc_value):
        return ABANDONED_LINE
    text = str(exc_value or "").strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc_value, IntegrationError) and first:
        return first[:ERROR_MAX]
    name = exc_type.__name__ if exc_type is not None else "Error"
    return (f"{name}: {first}" if first else name)[:ERROR_MAX]


def horse_killed(job: Any, ret_val: int | None) -> None:
    """The forked work horse running `job` died (a signal): RQ fails the job and decides its
    retry from the same `retries_left`, without calling the job's failure callback."""
    line, words = killed_line(ret_val)
    _stop_if_off(job)
    status = RUN_RETRYING if job.should_retry else RUN_FAILED
    _record(job, status, line, words)


def killed_line(ret_val: int | None) -> tuple[str, Words]:
    """How a dead work horse is said: its error line, and its words."""
    signalled = bool(ret_val) and os.WIFSIGNALED(ret_val or 0)
    dead = f"signal {os.WTERMSIG(ret_val or 0)}" if signalled else f"status {ret_val}"
    words: Words = (
        ("worker_killed_signal", {"signal": os.WTERMSIG(ret_val or 0)})
        if signalled
        else ("worker_killed_status", {"status": ret_val})
    )
    return f"WorkHorseKilled: the worker process running it died ({dead}; out of memory?)", words


def record(
    shop_id: int,
    schedule: str,
    status: str,
    error: str | None,
    words: Words | None = None,
    *,
    job_id: str | None = None,
) -> bool:
    """Write one run's outcome on the schedule's row; False when it has none (deleted since) or
    an uninstall stopped it: a reinstall reads that status to turn the row back on. One UPDATE
    with the check in its WHERE: PostgreSQL re-checks it after waiting for an uninstall's lock on
    the row, where a read then a write would overwrite the uninstall's status.

    `job_id`: the run's RQ job. Its end time is written only when it is the run the row's tick
    enqueued last (`last_job_id`, or none was): a "run now" (or an earlier run) ending after the tick enqueued
    the due one otherwise read as that run's end (jobs.scheduler._ended), and the due run, lost
    with Redis before it started, was never enqueued again."""
    ended = (
        utcnow()
        if job_id is None
        else case(
            (or_(Schedule.last_job_id.is_(None), Schedule.last_job_id == job_id), utcnow()),
            else_=Schedule.last_ended_at,
        )
    )
    with session_scope() as session:
        written = session.execute(
            update(Schedule)
            .where(
                Schedule.shop_id == shop_id,
                Schedule.flow == schedule,
                or_(Schedule.last_status.is_(None), Schedule.last_status != STOPPED_BY_UNINSTALL),
            )
            .values(
                last_status=status,
                last_ended_at=ended,
                last_error=error,
                last_error_words=stored(words) if words is not None else None,
            )
            .execution_options(synchronize_session=False)
        )
    return bool(written.rowcount)


def _record(job: Any, status: str, error: str | None, words: Words | None) -> None:
    schedule = (job.meta or {}).get(META_KEY)
    if not schedule:
        return
    try:
        shop_id = int(job.args[0])
        record(shop_id, schedule, status, error, words, job_id=job.id)
    except Exception:
        log.exception("run_outcome: could not record %s of job %s (%s)", status, job.id, schedule)
