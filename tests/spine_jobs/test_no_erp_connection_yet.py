"""A store installed, its ERP connection not saved yet (IT sends the credentials next week): every
default schedule fires. prices and stock park one message and end "ok"; products, skus, order_events
(every minute), catalog_full and reconcile raised MappingMissing out of the run, which RQ retried 5
times and then filed in the failed-job registry, at every due time, for as long as the connection was
missing (the Flows page and the alert e-mails told hundreds of failed runs a day). They wait for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from jobs import scheduler
from ledger.db import session_scope
from ledger.models import Message, Schedule
from ledger.schedules import ensure_default_schedules

T0 = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)


def _work_all(rconn):
    for name in ("catalog", "orders", "default"):
        q = Queue(name, connection=rconn)
        for _ in range(8):  # run each retry RQ scheduled (10 s .. 5 min away) at once
            SimpleWorker([q], connection=rconn).work(burst=True, with_scheduler=False)
            scheduled = ScheduledJobRegistry(queue=q)
            ids = scheduled.get_job_ids()
            if not ids:
                break
            for job_id in ids:
                scheduled.remove(job_id)
                q.enqueue_job(q.fetch_job(job_id))


def test_schedules_before_the_erp_connection_exists_park_instead_of_filling_the_failed_jobs(
    shop_id, rconn, jobs_env
):
    for name in ("CONSINCO_BASE_URL", "CONSINCO_USER", "CONSINCO_PASSWORD"):
        jobs_env.delenv(name, raising=False)
    with session_scope() as session:
        for s in ensure_default_schedules(session, shop_id):
            s.cron_changed_at = None  # installed a while ago
    # The first hour of a store waiting for its ERP credentials, one tick every 15 minutes
    # (each tick is followed by the worker, retries run at once).
    for quarter in range(4):
        scheduler.tick(T0 + timedelta(minutes=15 * quarter))
        _work_all(rconn)
    failed = {
        name: FailedJobRegistry(queue=Queue(name, connection=rconn)).get_job_ids()
        for name in ("catalog", "orders", "default")
    }
    with session_scope() as session:
        rows = {s.flow: (s.last_status, s.last_error) for s in session.scalars(select(Schedule))}
        parked = sorted((m.flow, m.unit_key, m.status) for m in session.scalars(select(Message)))
    assert sum(len(v) for v in failed.values()) == 0, failed
    assert not [f for f, (status, _) in rows.items() if status in ("failed", "retrying")], rows
    # what says it: the two flows' parked messages (and the Setup page's first step)
    assert ("prices", "price:store_link", "parked") in parked and (
        "stock",
        "stock:erp_connection",
        "parked",
    ) in parked
