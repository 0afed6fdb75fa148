"""What became of a scheduled flow's last run is written on its schedule row (ledger.run_outcome):
"retrying" while RQ runs it again, "failed" once it cannot, "ok" when it returns, with when it
ended and its error line. Without it, a stock pass with the ERP down through every retry left
"enqueued" on the Flows page and nothing else: Shopify's stock stopped moving, nobody was told."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select, text

from jobs import order_events, scheduler
from jobs.worker import build_worker
from ledger import queues, run_outcome
from ledger.db import get_engine, session_scope
from ledger.errors import Transient
from ledger.models import Schedule
from ledger.schedules import STOPPED_BY_UNINSTALL, ensure_default_schedules
from shopify_app.enqueue import enqueue_run
from shopify_app.fail_words import FAILURES, job_reason
from shopify_app.run_words import last_error

from . import handlers

ERP_RUN = "spine_jobs.handlers.run_against_the_erp"
T0 = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
ABANDONED_PT = (
    "O processo do worker que rodava esta execução parou no meio dela (foi morto ou reiniciado; falta de "
    "memória?)"
)
ABANDONED_EN = "The worker process running it stopped midway (killed or restarted; out of memory?)"


@pytest.fixture
def schedules(shop_id) -> int:
    with session_scope() as session:
        ensure_default_schedules(session, shop_id)
    return shop_id


@pytest.fixture
def erp_down():
    handlers.ERP["down"] = True
    yield handlers.ERP
    handlers.ERP["down"] = True


def row(shop_id: int, flow: str) -> Schedule:
    with session_scope() as session:
        found = session.scalar(select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == flow))
        session.expunge(found)
        return found


def work(rconn, queue: Queue) -> None:
    SimpleWorker([queue], connection=rconn).work(burst=True, with_scheduler=False)


def run_retries_now(rconn, queue: Queue) -> None:
    """Each retry RQ scheduled (10 s .. 5 min away), put on the queue at once."""
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))


def test_a_run_is_retrying_while_rq_retries_it_failed_once_it_cannot_and_ok_once_requeued(
    schedules, rconn, erp_down
):
    shop_id, catalog = schedules, Queue("catalog", connection=rconn)
    job = queues.enqueue(ERP_RUN, shop_id, queue=queues.CATALOG, job_id="stock-due", schedule="stock")
    work(rconn, catalog)
    stock = row(shop_id, "stock")
    assert stock.last_status == "retrying"
    assert stock.last_error == "ERP unreachable: connection refused"
    assert stock.last_ended_at is not None
    assert job.get_status() == JobStatus.SCHEDULED  # RQ runs it again: not a final failure
    for _ in range(len(queues.RETRY_INTERVALS)):
        run_retries_now(rconn, catalog)
        work(rconn, catalog)
    assert FailedJobRegistry(queue=catalog).get_job_ids() == ["stock-due"]
    stock = row(shop_id, "stock")
    assert (stock.last_status, stock.last_error) == ("failed", "ERP unreachable: connection refused")

    erp_down["down"] = False  # the ERP is back: the operator requeues the failed run
    queues.requeue_failed("stock-due", conn=rconn)
    work(rconn, catalog)
    stock = row(shop_id, "stock")
    assert (stock.last_status, stock.last_error) == ("ok", None)
    assert row(shop_id, "prices").last_status is None  # another schedule's row is untouched


def test_a_run_whose_worker_died_is_shown_retrying(schedules, rconn):
    """RQ's cleanup of a run whose worker died calls the failure callback too (AbandonedJobError)."""
    shop_id = schedules
    job = queues.enqueue(
        "jobs.stock.run", shop_id, queue=queues.CATALOG, job_id="stock-lost", schedule="stock"
    )
    run_outcome.failed(job, rconn, None, None, None)
    assert row(shop_id, "stock").last_status == "retrying"
    job.retries_left = 0
    run_outcome.failed(job, rconn, None, None, None)
    assert (row(shop_id, "stock").last_status, row(shop_id, "stock").last_error) == ("failed", "Error")


def test_a_run_abandoned_by_its_dead_worker_says_so_in_words(schedules, rconn):
    """RQ's cleanup of a run whose SimpleWorker died (the recommended mode for the orders and webhooks
    queues; SIGKILL, the OOM killer) calls the failure callback with AbandonedJobError: the Flows page
    says it in the merchant's language, as it does a forked horse's death, not the bare class name;
    and the worker's exception handler keeps the same words for the failed-jobs list."""
    shop_id = schedules
    job = queues.enqueue(
        "jobs.order_events.run", shop_id, queue=queues.ORDERS, job_id="poll-lost", schedule="order_events"
    )
    run_outcome.failed(job, rconn, AbandonedJobError, AbandonedJobError(), None)
    events = row(shop_id, "order_events")
    assert events.last_status == "retrying"
    assert events.last_error.startswith("AbandonedJobError: the worker process running it stopped")
    assert last_error(events, "pt-BR", FAILURES) == ABANDONED_PT
    assert last_error(events, "en", FAILURES) == ABANDONED_EN
    job.retries_left = 0
    run_outcome.failed(job, rconn, AbandonedJobError, AbandonedJobError(), None)
    events = row(shop_id, "order_events")
    assert (events.last_status, last_error(events, "pt-BR", FAILURES)) == ("failed", ABANDONED_PT)

    assert queues.keep_failure_words(job, AbandonedJobError, AbandonedJobError(), None) is True
    kept = Job.fetch("poll-lost", connection=rconn).meta[queues.FAILURE_WORDS]
    assert job_reason(kept, "pt-BR") == ABANDONED_PT


def test_a_run_whose_simple_worker_is_killed_says_so_in_words(schedules, rconn):
    """The same, end to end: a real SimpleWorker process SIGKILLed under a run; a worker's
    maintenance later finds the run abandoned and RQ retries it."""
    shop_id = schedules
    job = queues.enqueue(
        "spine_jobs.handlers.slow_run",
        shop_id,
        queue=queues.ORDERS,
        job_id="poll-due",
        schedule="order_events",
    )
    root = Path(__file__).resolve().parents[2]
    worker = (
        f"import sys; sys.path[:0] = [{str(root)!r}, {str(root / 'tests')!r}];"
        "from jobs.worker import build_worker; from ledger import kv;"
        "build_worker(['orders'], simple=True, conn=kv.worker_redis()).work(burst=True, with_scheduler=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", worker], env=dict(os.environ), cwd=root)
    try:
        for _ in range(200):
            if job.get_status() == JobStatus.STARTED:
                break
            time.sleep(0.05)
        assert job.get_status() == JobStatus.STARTED
        os.kill(proc.pid, signal.SIGKILL)  # the OOM killer
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    # a live worker's maintenance, an hour on (the run's execution lapsed), with the workers'
    # exception handler (jobs.worker.build_worker)
    orders = Queue("orders", connection=rconn)
    StartedJobRegistry(queue=orders).cleanup(time.time() + 3600, [queues.keep_failure_words])
    assert Job.fetch("poll-due", connection=rconn).get_status() == JobStatus.SCHEDULED  # RQ retries it
    events = row(shop_id, "order_events")
    assert events.last_status == "retrying"
    assert last_error(events, "pt-BR", FAILURES) == ABANDONED_PT
    kept = Job.fetch("poll-due", connection=rconn).meta[queues.FAILURE_WORDS]
    assert job_reason(kept, "en") == ABANDONED_EN


def test_a_run_whose_forked_horse_is_killed_is_shown_retrying_then_failed(schedules, rconn):
    """The forking worker's horse killed under a run (the OOM killer in a big load, RQ's hard
    kill): RQ fails and retries the job without its failure callback; the row says so anyway,
    not yesterday's "ok"."""
    shop_id, catalog = schedules, Queue("catalog", connection=rconn)
    run_outcome.record(shop_id, "stock", "ok", None)  # yesterday's pass went fine
    killed = "spine_jobs.handlers.horse_killed"
    job = queues.enqueue(killed, shop_id, queue=queues.CATALOG, job_id="stock-oom", schedule="stock")
    build_worker(("catalog",), conn=rconn).work(burst=True, with_scheduler=False)  # forks a horse
    assert job.get_status() == JobStatus.SCHEDULED  # RQ runs it again
    stock = row(shop_id, "stock")
    assert stock.last_status == "retrying", stock.last_status
    assert "WorkHorseKilled" in stock.last_error and "signal 9" in stock.last_error
    for _ in range(len(queues.RETRY_INTERVALS)):
        run_retries_now(rconn, catalog)
        build_worker(("catalog",), conn=rconn).work(burst=True, with_scheduler=False)
    assert FailedJobRegistry(queue=catalog).get_job_ids() == ["stock-oom"]
    assert row(shop_id, "stock").last_status == "failed"


def test_a_replay_whose_forked_horse_is_killed_on_its_last_try_fails_its_message(shop_id, rconn):
    """A person's Retry of a product message runs as a replay carrying replay_outcome's failure
    callback; a horse killed under its last try is failed by RQ without it: the message was left
    "retrying" (the page: retried automatically) with no job left to retry it."""
    from ledger import replay_outcome, trace
    from ledger.models import Message, MessageStatus

    job_id = f"replay-{shop_id}-1-2"
    with session_scope() as session:
        message = trace.begin(session, shop_id, "products", "product:10", "erp_to_shopify", erp_id="10")
        trace.fail(session, message, Transient("Shopify answered HTTP 503"))
        message.job_id = job_id
        message_id = message.id
    job = queues.enqueue("spine_jobs.handlers.horse_killed", message_id, queue=queues.CATALOG, job_id=job_id,
                         on_failure=replay_outcome.ON_FAILURE, conn=rconn)  # fmt: skip
    job.retries_left = 0  # its last try
    job.save()
    build_worker(("catalog",), conn=rconn).work(burst=True, with_scheduler=False)  # forks; horse SIGKILLed
    assert FailedJobRegistry(queue=Queue("catalog", connection=rconn)).get_job_ids() == [job_id]
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message.status == MessageStatus.FAILED.value, message.status
        assert "WorkHorseKilled" in (message.error_text or "")


def test_an_outcome_landing_while_an_uninstall_commits_keeps_the_row_stopped(schedules):
    """PostgreSQL: the run's outcome is written while app/uninstalled's transaction holds the
    row; once it commits, the outcome must not overwrite "uninstalled" (a reinstall turns back
    on only the rows it stopped)."""
    shop_id = schedules
    if get_engine().dialect.name != "postgresql":
        pytest.skip("row-lock interleaving is a PostgreSQL property")
    uninstall = get_engine().connect()
    tx = uninstall.begin()
    uninstall.execute(
        text(
            "UPDATE schedules SET enabled = false, last_status = 'uninstalled' WHERE shop_id = :s AND enabled"
        ),
        {"s": shop_id},
    )
    ended = threading.Thread(target=run_outcome.record, args=(shop_id, "stock", "failed", "401"))
    ended.start()  # the stock run's failure callback (its token was just revoked)
    time.sleep(0.5)
    tx.commit()
    uninstall.close()
    ended.join(10)
    assert row(shop_id, "stock").last_status == STOPPED_BY_UNINSTALL
    with session_scope() as session:  # the merchant reinstalls
        ensure_default_schedules(session, shop_id)
    assert row(shop_id, "stock").enabled


def test_an_outcome_never_undoes_what_an_uninstall_stopped(schedules):
    """A reinstall turns back on the rows whose last_status is "uninstalled" (and only those)."""
    shop_id = schedules
    with session_scope() as session:
        stock = session.scalar(select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == "stock"))
        stock.enabled, stock.last_status = False, STOPPED_BY_UNINSTALL
    assert run_outcome.record(shop_id, "stock", "failed", "Transient: ERP unreachable") is False
    assert row(shop_id, "stock").last_status == STOPPED_BY_UNINSTALL
    assert run_outcome.record(shop_id, "nope", "ok", None) is False


def test_every_run_of_a_schedule_carries_its_name(schedules, rconn):
    """Due runs, "run now" and the EventoPedido poll write their outcome on the schedule's row;
    the event-driven flows' "run now" only enqueues the poll, which is the run that counts."""
    shop_id = schedules
    with session_scope() as session:
        for schedule in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id)):
            schedule.enabled = schedule.flow == "reconcile"
            schedule.cron_changed_at = None  # installed long before T0
    [due] = scheduler.tick(T0.replace(hour=6, minute=0))
    stock_now, _ = enqueue_run(shop_id, "stock", rconn)
    invoices_now, _ = enqueue_run(shop_id, "invoices", rconn)
    order_events.poll_now(shop_id)

    def schedule_of(job_id: str) -> str | None:
        job = Job.fetch(job_id, connection=rconn)
        assert (job.success_callback is None) == (job.failure_callback is None)
        return job.meta.get(run_outcome.META_KEY) if job.success_callback else None

    assert schedule_of(due) == "reconcile"
    assert schedule_of(stock_now) == "stock"
    assert schedule_of(invoices_now) is None
    assert schedule_of(f"order-events-now-{shop_id}") == "order_events"


def test_the_tick_keeps_the_last_outcome_shown_and_piles_nothing_behind_a_retrying_run(schedules, rconn):
    """A failure stays on the Flows page while the next run waits; and a run RQ will retry is
    still the flow's waiting run: later due times add nothing behind it."""
    shop_id = schedules
    with session_scope() as session:
        for schedule in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id)):
            schedule.enabled = schedule.flow == "stock"
            schedule.cron = "* * * * *"
    assert row(shop_id, "stock").last_status is None
    [first] = scheduler.tick(T0)
    assert row(shop_id, "stock").last_status == "enqueued"
    catalog = Queue("catalog", connection=rconn)
    job = catalog.fetch_job(first)
    catalog.remove(job)
    job.set_status(JobStatus.SCHEDULED)  # its first try raised Transient: RQ retries it later
    run_outcome.record(shop_id, "stock", "retrying", "Transient: ERP unreachable")
    assert scheduler.tick(T0 + timedelta(minutes=1)) == []
    job.set_status(JobStatus.FAILED)
    run_outcome.record(shop_id, "stock", "failed", "Transient: ERP unreachable")
    [second] = scheduler.tick(T0 + timedelta(minutes=2))
    assert second != first
    stock = row(shop_id, "stock")
    assert (stock.last_status, stock.last_error) == ("failed", "Transient: ERP unreachable")
    assert stock.last_run_at == T0 + timedelta(minutes=2)


def test_the_error_line_is_a_classified_failures_own_words_or_a_bugs_class_and_first_line():
    assert run_outcome.error_line(Transient, Transient("ERP unreachable")) == "ERP unreachable"
    assert run_outcome.error_line(KeyError, KeyError("nro_empresa")) == "KeyError: 'nro_empresa'"
    assert run_outcome.error_line(ValueError, ValueError("bad row\nTraceback...")) == "ValueError: bad row"
    assert len(run_outcome.error_line(ValueError, ValueError("x" * 5000))) == run_outcome.ERROR_MAX
