"""A person edits a daily schedule's time: the next tick must not run the flow at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from jobs import scheduler
from ledger.db import session_scope
from ledger.models import Schedule


def test_moving_the_full_catalog_sweep_from_5_to_4_utc_does_not_run_it_now_at_14h(shop_id, rconn):
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="catalog_full", cron="0 5 * * *", enabled=True))
    five = datetime(2026, 11, 28, 5, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(five)
    catalog = Queue("catalog", connection=rconn)
    job = Job.fetch(job_id, connection=rconn)
    catalog.remove(job)
    job.set_status(JobStatus.FINISHED)  # today's 05:00 sweep ran and finished
    # 14:00: nothing is due until tomorrow 05:00
    assert scheduler.tick(five + timedelta(hours=9)) == []
    # the merchant moves the sweep an hour earlier, effective tomorrow
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == "catalog_full"))
        row.cron = "0 4 * * *"
    # next tick (14:01): today's 04:00 is before the run that already happened at 05:00
    ran = scheduler.tick(five + timedelta(hours=9, minutes=1))
    assert ran == [], f"a schedule edit enqueued a full catalog sweep mid-day: {ran}"


def test_a_run_still_waiting_is_known_after_the_cron_is_edited(shop_id, rconn):
    """The tick asks RQ about the run it enqueued, not one the edited cron names: a run still
    queued behind a busy worker keeps the next due time from piling a second run behind it."""
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="products", cron="*/15 * * * *", enabled=True))
    quarter = datetime(2026, 11, 28, 14, 15, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(quarter)
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == "products"))
        assert row.last_job_id == job_id
        row.cron = "*/10 * * * *"
    assert Job.fetch(job_id, connection=rconn).get_status() == JobStatus.QUEUED
    assert scheduler.tick(quarter + timedelta(minutes=5)) == []  # 14:20 due; the 14:15 run still waits


def test_a_due_time_before_a_persons_edit_is_not_caught_up(shop_id, rconn):
    """05:00 ran; at 14:00 the merchant moves the run to 12:00: today's 12:00 is before the edit."""
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="catalog_full", cron="0 5 * * *", enabled=True))
    five = datetime(2026, 11, 28, 5, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(five)
    Job.fetch(job_id, connection=rconn).set_status(JobStatus.FINISHED)
    edited = five + timedelta(hours=9)
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == "catalog_full"))
        row.cron, row.cron_changed_at = "0 12 * * *", edited
    assert scheduler.tick(edited + timedelta(minutes=1)) == []
    tomorrow_noon = datetime(2026, 11, 29, 12, 0, 10, tzinfo=UTC)
    due = tomorrow_noon.replace(second=0)
    assert scheduler.tick(tomorrow_noon) == [scheduler.flow_job_id(shop_id, "catalog_full", due)]
