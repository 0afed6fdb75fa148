"""The daily reconciliation's work horse is killed mid-run (OOM killer): RQ retries it 10 s later,
while the dead run's flow lock still has up to 60 s to live. The retry must not end as "ok, busy":
today's report would never be made, and the Flows page would say the run went fine. It waits
(retrying, saying so in words) and makes the report once the lock lapsed; a run held by another
job (a manual run while the tick comes) is still skipped quietly as busy."""

from __future__ import annotations

import os
import signal

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from jobs import reconcile
from jobs.locks import FLOW_LOCK_TTL, flow_lock
from jobs.worker import build_worker
from ledger import queues, trace
from ledger.db import session_scope
from ledger.flows import BOTH
from ledger.models import Message, MessageStatus, Schedule, utcnow
from ledger.schedules import RUN_OK, RUN_RETRYING

LOCK = "lock:flow:{shop_id}:reconcile"


def _schedule_row() -> tuple[str | None, dict | None]:
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == "reconcile"))
        return row.last_status, row.last_error_words


def _run_again_now(rconn) -> Job:
    """What RQ's scheduler does when the retry is due: the scheduled job back on its queue, worked."""
    default = Queue("default", connection=rconn)
    job = Job.fetch("rec-today", connection=rconn)
    assert job.get_status() == JobStatus.SCHEDULED  # RQ's Retry
    ScheduledJobRegistry(queue=default).remove(job)
    default.enqueue_job(job)
    build_worker([queues.DEFAULT], conn=rconn).work(burst=True, with_scheduler=False)
    return Job.fetch("rec-today", connection=rconn)


def _enqueue_and_work(shop_id, rconn) -> None:
    queues.enqueue("jobs.reconcile.run", shop_id, queue=queues.DEFAULT, job_id="rec-today", conn=rconn,
                   schedule="reconcile")  # fmt: skip
    build_worker([queues.DEFAULT], conn=rconn).work(burst=True, with_scheduler=False)


def test_a_retry_after_the_horse_was_killed_is_not_reported_ok(
    shop_id, rconn, monkeypatch, tmp_path, erp_saved
):
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="reconcile", cron="0 6 * * *", enabled=True))
    marker = tmp_path / "killed"

    def dies_first_time(*_args, **_kwargs):
        if not marker.exists():
            marker.write_text("x")
            with session_scope() as session:  # the report begun, as the real run begins it
                trace.begin(session, shop_id, "reconcile", reconcile.report_key(utcnow()), BOTH)
            os.kill(os.getpid(), signal.SIGKILL)  # the horse dies holding the reconcile lock
        return {"summary": "made"}

    monkeypatch.setattr(reconcile, "_run", dies_first_time)
    _enqueue_and_work(shop_id, rconn)
    assert marker.exists()
    assert rconn.exists(LOCK.format(shop_id=shop_id))  # the dead try's lock, up to 60 s more

    job = _run_again_now(rconn)  # 10 s later, the lock still there
    status, words = _schedule_row()
    assert not (job.get_status() == JobStatus.FINISHED and job.return_value() == {"busy": True}), (
        f"today's reconciliation was dropped as 'busy' behind its own dead run; the Flows page says "
        f"{status!r}"
    )
    assert job.get_status() == JobStatus.SCHEDULED  # waits: RQ runs it again later
    assert status == RUN_RETRYING and words["key"] == "flow_lock_dead_try"
    with session_scope() as session:
        left = session.scalar(select(Message).where(Message.shop_id == shop_id, Message.flow == "reconcile"))
        assert left.status == MessageStatus.RETRYING.value  # not left pending with no word
        assert left.error_detail[trace.FAIL]["key"] == "flow_lock_dead_try"

    rconn.delete(LOCK.format(shop_id=shop_id))  # the dead try's lock lapsed (its TTL)
    job = _run_again_now(rconn)
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == {"summary": "made"}
    assert _schedule_row()[0] == RUN_OK


def test_a_run_held_by_another_job_is_still_skipped_as_busy(shop_id, rconn, monkeypatch, erp_saved):
    """A scheduled tick while a manual run (another job, or the CLI) holds the lock: a quiet skip."""
    monkeypatch.setattr(reconcile, "_run", lambda *_a, **_k: {"summary": "made"})
    with flow_lock(shop_id, "reconcile", conn=rconn):  # the other run, alive
        _enqueue_and_work(shop_id, rconn)
    job = Job.fetch("rec-today", connection=rconn)
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == {"busy": True}


def test_the_retries_outlast_a_dead_try_s_lock():
    """A try killed at once leaves its lock up to FLOW_LOCK_TTL: RQ's last retry after it (the
    intervals added up) must come well past that, or the run fails waiting for its own dead try."""
    assert sum(queues.RETRY_INTERVALS) >= 2 * FLOW_LOCK_TTL
