"""The per-shop schedules: one `tick()` a minute (registered with `rq cron` in jobs.cron_config).

Each Schedule row (shop, flow, cron expression, enabled) says when a flow runs for a shop.
The tick finds every enabled schedule of an active shop whose latest cron time has not been
run yet and enqueues `jobs.<flow>.run(shop_id)` with a job id per (shop, flow, due minute):
two schedulers ticking the same minute, or a tick run twice, enqueue each run once. It also
sweeps webhook inbox rows the receiver could not hand to Redis, once an hour deletes what is
past its retention (jobs.retention: processed deliveries, finished stock batch messages, ERP
events of unlinked orders), and every ten minutes starts each shop's alert e-mail (jobs.alerts).
Cron expressions are read in UTC with croniter (the library RQ's own cron scheduler uses).

The row remembers the id of the run it enqueued (`last_job_id`): the tick asks RQ about that
run, never one the current cron names (an edited cron names runs that were never enqueued). A
person's edit of the cron is a new start: a due time before the edit (`cron_changed_at`) is not
caught up, so moving a daily run from 05:00 to 04:00 at 14:00 runs it tomorrow at 04:00.

A run RQ no longer knows is enqueued again (Redis lost it) only when the row says it has not
ended and its due time is not before an edit: RQ drops an ended run's record on its TTLs (a
finished one's worked out from the cron it ran under, a failed one's FAILURE_TTL, shorter than
a monthly cron's gap), and a run that ended is never run again because its record lapsed.

Each run carries its schedule's name, so what became of it (ok, retrying, failed) is written
on the row when it ends (ledger.run_outcome); the tick writes "enqueued" only over no outcome,
so a failed run stays shown on the Flows page while the next one waits.

Each tick first writes its time in Redis (HEARTBEAT_KEY): with no tick nothing runs by itself, not
even the alert e-mail that would tell of it, so the Flows page and /healthz/scheduler read it to say so.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from croniter import croniter
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import alerts, inbox, retention
from ledger import queues, run_outcome, scheduler_beat
from ledger.db import session_scope
from ledger.models import Schedule, Shop, ShopStatus, utcnow
from ledger.scheduler_beat import HEARTBEAT_KEY  # noqa: F401 (the key the tick writes, said here too)
from ledger.schedules import BAD_CRON, ENQUEUED, RUN_FAILED, RUN_OK, RUN_OUTCOMES, RUN_RETRYING

log = logging.getLogger(__name__)

FLOW_QUEUES: dict[str, str] = {
    "order_events": queues.ORDERS,
    "orders": queues.ORDERS,
    "reconcile": queues.DEFAULT,
}


def flow_queue(flow: str) -> str:
    return FLOW_QUEUES.get(flow, queues.CATALOG)


def flow_job_id(shop_id: int, flow: str, due_at: datetime) -> str:
    return queues.job_key("flow", shop_id, flow, due_at.astimezone(UTC).strftime("%Y%m%d%H%M"))


def latest_due(expression: str, now: datetime) -> datetime:
    """The latest time at or before `now` (to the minute) that the cron expression names."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return croniter(expression, minute + timedelta(seconds=1)).get_prev(datetime)


def is_valid_cron(expression: str) -> bool:
    return croniter.is_valid(expression)


class TickFailed(Exception):
    """Part of a tick failed (the inbox sweep, or starting some schedules' runs) while the rest ran:
    raised at its end so RQ keeps the tick as failed (the Failed jobs page), its text naming what."""


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every due flow once; returns the job ids enqueued by this tick.

    It first records its time (beat). Each part runs on its own: the inbox sweep, the retention
    (once an hour), the alert e-mails (every ten minutes), then each
    schedule in its own transaction. A part failing (a bug, rq refusing a job record it cannot
    read, the database) is logged with its traceback and stops only itself; a schedule that could
    not be started says so on its row (retrying, its error line and words: the next tick tries
    again). Redis unreachable while starting runs stops the rest (they would all meet it). Once
    every part ran, TickFailed names those that failed.

    Raises:
        TickFailed: some part failed; everything else ran.
    """
    beat()
    now = now or utcnow()
    failures: list[str] = []
    try:
        inbox.sweep_backlog()
    except inbox.SweepStopped as exc:  # Redis unreachable: the next tick sweeps again
        log.warning("scheduler: %s", exc)
    except RedisError as exc:
        log.warning("scheduler: inbox sweep skipped, Redis unreachable (%s)", type(exc).__name__)
    except Exception as exc:
        log.exception("scheduler: inbox sweep failed; the schedules run all the same")
        failures.append(f"inbox sweep: {run_outcome.error_line(type(exc), exc)}")
    try:
        retention.run_if_due()
    except RedisError as exc:
        log.warning("scheduler: retention skipped, Redis unreachable (%s)", type(exc).__name__)
    except Exception as exc:
        log.exception("scheduler: retention failed; the schedules run all the same")
        failures.append(f"retention: {run_outcome.error_line(type(exc), exc)}")
    try:
        alerts.enqueue_due(now)
    except RedisError as exc:
        log.warning("scheduler: alert e-mails skipped, Redis unreachable (%s)", type(exc).__name__)
    except Exception as exc:
        log.exception("scheduler: alert e-mails failed; the schedules run all the same")
        failures.append(f"alerts: {run_outcome.error_line(type(exc), exc)}")
    with session_scope() as session:
        rows = session.execute(
            select(Schedule.id, Schedule.shop_id, Schedule.flow, Shop.domain)
            .join(Shop, Shop.id == Schedule.shop_id)
            .where(Schedule.enabled.is_(True), Shop.status == ShopStatus.ACTIVE.value)
            .order_by(Schedule.shop_id, Schedule.flow)
        ).all()
    enqueued: list[str] = []
    for row_id, shop_id, flow, domain in rows:
        try:
            with session_scope() as session:
                # locked, and read again: switched off (a person, an uninstall) since the select above,
                # it is not started (its row says so, and a reinstall turns on only rows that say so)
                schedule = session.get(Schedule, row_id, with_for_update=True)
                job_id = _start(session, schedule, domain, now) if _still_on(session, schedule) else None
            if job_id is not None:
                enqueued.append(job_id)
        except Exception as exc:
            line = run_outcome.error_line(type(exc), exc)
            log.exception("scheduler: could not start %s for %s; the other schedules run all the same", flow,
                          domain, extra={"shop": domain, "flow": flow})  # fmt: skip
            failures.append(f"{flow} for {domain}: {line}")
            _could_not_start(shop_id, flow, line)
            if isinstance(exc, RedisError):
                failures.append("the schedules after it wait for the next tick (Redis unreachable)")
                break
    if failures:
        raise TickFailed(f"the tick ran, but part of it failed: {'; '.join(failures)}")
    return enqueued


def beat() -> None:
    """Record that a tick runs now (HEARTBEAT_KEY): the wall time, not the `now` a tick is handed (a
    test's or a replay's), since it says whether the scheduler runs. Never raises: Redis unreachable
    is logged, and the tick's parts meet it too."""
    try:
        scheduler_beat.beat(queues.connection())
    except RedisError as exc:
        log.warning("scheduler: heartbeat not recorded, Redis unreachable (%s)", type(exc).__name__)


def _still_on(session: Session, schedule: Schedule | None) -> bool:
    """Whether the (locked) schedule is still on, of a shop still installed and active."""
    if schedule is None or not schedule.enabled:
        return False
    shop = session.get(Shop, schedule.shop_id)
    return shop is not None and shop.status == ShopStatus.ACTIVE.value


def _start(session: Session, schedule: Schedule, domain: str, now: datetime) -> str | None:
    """Enqueue the schedule's run when it is due; its job id when newly enqueued."""
    try:
        due_at = latest_due(schedule.cron, now)
    except (ValueError, KeyError) as exc:
        log.error("scheduler: bad cron %r for %s/%s: %s", schedule.cron, domain, schedule.flow, exc)
        schedule.last_status = BAD_CRON
        return None
    last = schedule.last_run_at
    last = None if last is None else (last if last.tzinfo else last.replace(tzinfo=UTC))
    previous = _previous_job(schedule, last)
    if _before_edit(schedule, due_at):
        return None  # a person changed the cron after this due time: it starts at the next one
    # RQ is asked only when the row cannot say (a schedule not due never meets Redis: a tick during
    # a Redis outage wrote "could not start" over the outcome of a run ended hours before)
    if last is not None and last >= due_at:
        if previous is None or _ended(schedule, last) or _job_state(previous) is not None:
            return None  # enqueued for this due time, and the row says it ended or RQ holds it
        # RQ has no record of the run enqueued for this due time and the row says it has not
        # ended (RQ dropping an ended run's record on its result/failure TTL is not a loss):
        # Redis lost it. Again, once.
        log.warning("scheduler: %s for %s due %s is gone from RQ (Redis restarted?); enqueued again",
                    schedule.flow, domain, f"{due_at:%Y-%m-%d %H:%M}Z")  # fmt: skip
        job_id = previous
    elif _job_state(previous) in WAITING:
        return None  # the last run has not started yet: it reads every change up to its start
    else:
        job_id = flow_job_id(schedule.shop_id, schedule.flow, due_at)
    schedule.last_run_at, schedule.last_job_id = now, job_id
    if schedule.last_status not in (ENQUEUED, *RUN_OUTCOMES):
        schedule.last_status = ENQUEUED
    session.flush()  # the row is locked before the run exists: its outcome lands after this
    job = queues.enqueue(
        f"jobs.{schedule.flow}.run",
        schedule.shop_id,
        queue=flow_queue(schedule.flow),
        job_id=job_id,
        description=f"{schedule.flow} for {domain} due {due_at:%Y-%m-%d %H:%M}Z",
        result_ttl=_kept_until_next(schedule.cron, due_at, now),
        schedule=schedule.flow,
    )
    if job is None:
        return None
    log.info(
        "scheduler: enqueued %s for %s",
        schedule.flow,
        domain,
        extra={"shop": domain, "flow": schedule.flow, "job_id": job_id},
    )
    return job_id


def _could_not_start(shop_id: int, flow: str, line: str) -> None:
    """Say on the schedule's row that the tick could not start its run (retrying: the next tick
    tries again); never raises (the tick goes on to the other schedules)."""
    try:
        run_outcome.record(shop_id, flow, RUN_RETRYING, f"The scheduler could not start this run: {line}",
                           ("tick_could_not_start", {"error": line}))  # fmt: skip
    except Exception:
        log.exception("scheduler: could not record on %s of shop %s that it was not started", flow, shop_id)


# A run in these states has not started: a later due time adds nothing to it (it reads every
# change up to when it starts), so ticks never pile runs of one flow up behind a busy worker.
WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _previous_job(schedule: Schedule, last: datetime | None) -> str | None:
    """The id of the run the last tick enqueued, as it recorded it (None on a row no tick has
    enqueued a run for since the id was recorded: nothing to ask RQ about)."""
    if last is None or schedule.last_status not in (ENQUEUED, *RUN_OUTCOMES):
        return None
    return schedule.last_job_id


def _before_edit(schedule: Schedule, due_at: datetime) -> bool:
    """Whether `due_at` came before a person's last change of the cron."""
    changed = schedule.cron_changed_at
    if changed is None:
        return False
    return due_at < (changed if changed.tzinfo else changed.replace(tzinfo=UTC))


def _ended(schedule: Schedule, last: datetime) -> bool:
    """Whether the row records how the run enqueued at `last` ended (ok, or failed with no retry
    left: ledger.run_outcome writes it with its end time). An outcome older than `last` is an
    earlier run's, which the row keeps shown while the next one waits."""
    ended = schedule.last_ended_at
    if schedule.last_status not in (RUN_OK, RUN_FAILED) or ended is None:
        return False
    return (ended if ended.tzinfo else ended.replace(tzinfo=UTC)) >= last


def _job_state(job_id: str | None) -> JobStatus | None:
    """RQ's status of the job, or None when RQ holds no record of it."""
    if job_id is None:
        return None
    try:
        return Job.fetch(job_id, connection=queues.connection()).get_status(refresh=False)
    except NoSuchJobError:
        return None


def _kept_until_next(expression: str, due_at: datetime, now: datetime) -> int:
    """Seconds RQ keeps a finished run's record: past the next due time (plus an hour), so a
    record missing before then means Redis lost the run, never that it finished long ago."""
    following = croniter(expression, due_at).get_next(datetime)
    return max(3600, int((following - now).total_seconds()) + 3600)
