"""A run is enqueued again as lost only when its schedule row says it has not ended and its due
time is not before a person's cron edit: RQ dropping an ended run's record on its result_ttl
or failure_ttl is not Redis losing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from jobs import scheduler
from ledger import queues, run_outcome
from ledger.db import session_scope
from ledger.models import Schedule, utcnow
from ledger.schedules import RUN_FAILED
from shopify_app.enqueue import enqueue_run


def _row(flow: str, **values: object) -> None:
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == flow))
        for name, value in values.items():
            setattr(row, name, value)


def test_hourly_edited_to_daily_does_not_rerun_when_the_old_record_lapses(shop_id, rconn):
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="products", cron="0 * * * *", enabled=True))
    two = datetime(2026, 11, 28, 14, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(two)
    job = Job.fetch(job_id, connection=rconn)
    Queue("catalog", connection=rconn).remove(job)
    job.set_status(JobStatus.FINISHED)  # the 14:00 run ran
    kept = scheduler._kept_until_next("0 * * * *", two.replace(second=0), two)
    assert kept < 2 * 3600 + 60  # RQ keeps its record until ~16:00 (next hourly due + 1 h)
    # 14:30 the merchant makes it daily at 05:00 (as PUT /api/flows/<flow>/schedule does)
    _row("products", cron="0 5 * * *", cron_changed_at=two + timedelta(minutes=30))
    assert scheduler.tick(two + timedelta(minutes=31)) == []
    # 16:01: RQ dropped the finished run's record on its result_ttl (not a Redis restart)
    job.delete()
    ran = scheduler.tick(two + timedelta(hours=2, minutes=1))
    assert ran == [], f"the edited daily schedule ran at 16:01 (taken for a run Redis lost): {ran}"
    tomorrow = datetime(2026, 11, 29, 5, 0, 10, tzinfo=UTC)
    due = tomorrow.replace(second=0)
    assert scheduler.tick(tomorrow) == [scheduler.flow_job_id(shop_id, "products", due)]


def test_a_monthly_run_that_failed_is_not_rerun_when_rq_drops_it_after_failure_ttl(shop_id, rconn):
    """A failed job is kept FAILURE_TTL (30 days), shorter than a monthly cron's gap: the tick
    must not take the dropped record for one Redis lost and run the flow again on day 31."""
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="reconcile", cron="0 5 1 * *", enabled=True))
    first = datetime(2027, 1, 1, 5, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(first)
    job = Job.fetch(job_id, connection=rconn)
    assert job.failure_ttl == queues.FAILURE_TTL == 30 * 24 * 3600
    Queue("default", connection=rconn).remove(job)
    job.set_status(JobStatus.FAILED)  # the January run failed for good
    # as ledger.run_outcome.record writes it when the run fails with no retry left
    _row("reconcile", last_status=RUN_FAILED, last_ended_at=first + timedelta(minutes=7))
    job.delete()  # 31 Jan 05:00: RQ dropped it, FAILURE_TTL after it failed
    ran = scheduler.tick(first + timedelta(days=30, minutes=1))
    assert ran == [], f"the failed January run was run again on 31 January: {ran}"
    february = datetime(2027, 2, 1, 5, 0, 5, tzinfo=UTC)
    due = february.replace(second=0)
    assert scheduler.tick(february) == [scheduler.flow_job_id(shop_id, "reconcile", due)]


def test_an_earlier_runs_outcome_does_not_hide_a_lost_run(shop_id, rconn):
    """Yesterday's run failed (the row still says so while today's waits); Redis then loses
    today's run before it ends: it is enqueued again, once."""
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="reconcile", cron="0 6 * * *", enabled=True))
    yesterday = datetime(2026, 11, 27, 6, 0, 5, tzinfo=UTC)
    scheduler.tick(yesterday)
    _row("reconcile", last_status=RUN_FAILED, last_ended_at=yesterday + timedelta(minutes=3))
    rconn.flushall()
    six = yesterday + timedelta(days=1)
    today = scheduler.flow_job_id(shop_id, "reconcile", six.replace(second=0))
    assert scheduler.tick(six) == [today]
    rconn.flushall()  # Redis restarted without its data before today's run ended
    assert scheduler.tick(six + timedelta(minutes=1)) == [today]
    assert scheduler.tick(six + timedelta(minutes=2)) == []


def test_a_run_now_ending_after_the_due_run_was_enqueued_does_not_pass_for_its_end(shop_id, rconn):
    """A person's "run now" ended after the tick had enqueued the due run: its outcome, written on
    the row with its end time, read as the due run's end, and the due run, lost with Redis before it
    started, was never enqueued again (the day's reconciliation skipped, the row saying ok). A run's
    end time is written only for the run the tick enqueued last."""
    now = utcnow().replace(second=5, microsecond=0) - timedelta(minutes=2)
    with session_scope() as session:
        session.add(
            Schedule(shop_id=shop_id, flow="reconcile", cron=f"{now.minute} {now.hour} * * *", enabled=True)
        )
    run_now_id, _ = enqueue_run(shop_id, "reconcile", rconn)  # still running at the due time
    [due] = scheduler.tick(now)
    run_outcome.succeeded(Job.fetch(run_now_id, connection=rconn), rconn, None)
    rconn.flushall()  # Redis restarts without its data before the due run starts
    assert scheduler.tick(now + timedelta(minutes=1)) == [due]
