"""jobs.inbox end to end: a burst worker takes a delivered webhook to `processed`."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from jobs import inbox
from jobs.worker import LedgerWorker, build_worker, run_worker
from ledger import queues
from ledger.db import session_scope
from ledger.models import InboxStatus, OfflineToken, Schedule, Shop, WebhookInbox

from . import handlers
from .conftest import SHOP


def inbox_row(inbox_id: int) -> WebhookInbox:
    with session_scope() as session:
        return session.get(WebhookInbox, inbox_id)


@pytest.fixture
def token_and_schedules(shop_id) -> int:
    with session_scope() as session:
        session.add(OfflineToken(shop_id=shop_id, access_token_enc=b"ciphertext", refresh_token_enc=b"c2"))
        session.add_all([Schedule(shop_id=shop_id, flow=f, cron="* * * * *") for f in ("stock", "prices")])
    return shop_id


def test_simple_burst_worker_processes_uninstall_end_to_end(deliver, token_and_schedules, rconn):
    response = deliver("app/uninstalled", {"id": 1, "domain": "loja-teste.myshopify.com"})
    inbox_id = response.json["inbox_id"]
    assert run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    row = inbox_row(inbox_id)
    assert (row.status, row.reason) == (InboxStatus.PROCESSED.value, None)
    assert row.processed_at is not None
    assert Job.fetch(f"inbox-{inbox_id}", connection=rconn).get_status() == JobStatus.FINISHED
    with session_scope() as session:
        shop = session.get(Shop, token_and_schedules)
        assert shop.status == "uninstalled" and shop.uninstalled_at is not None
        assert session.scalar(select(OfflineToken)) is None
        assert all(not s.enabled for s in session.scalars(select(Schedule)))
    # The same job run again (at-least-once delivery) changes nothing.
    assert inbox.process(inbox_id) == "skipped"


def test_forking_worker_processes_a_row(deliver, shop_id, rconn):
    inbox_id = deliver("app/uninstalled", {"id": 1, "myshopify_domain": "loja-teste.myshopify.com"})
    inbox_id = inbox_id.json["inbox_id"]
    worker = build_worker(["webhooks"], conn=rconn)
    assert isinstance(worker, LedgerWorker)
    assert worker.work(burst=True)
    assert inbox_row(inbox_id).status == InboxStatus.PROCESSED.value


def test_missing_handler_module_marks_row_failed_with_reason(deliver, rconn, monkeypatch):
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "bulk_operations/finish", "jobs.not_written_yet.on_finish")
    inbox_id = deliver("bulk_operations/finish", {"admin_graphql_api_id": "gid://shopify/BulkOperation/1"})
    inbox_id = inbox_id.json["inbox_id"]
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.FAILED.value
    assert "jobs.not_written_yet" in row.reason and "does not exist" in row.reason


def test_bulk_finish_wakes_the_waiting_runner(deliver, rconn):
    from shopify_app.admin_api.bulk import finished_key

    inbox_id = deliver("bulk_operations/finish", {"admin_graphql_api_id": "gid://shopify/BulkOperation/7"})
    inbox_id = inbox_id.json["inbox_id"]
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert inbox_row(inbox_id).status == InboxStatus.PROCESSED.value
    assert rconn.lrange(finished_key(SHOP, "gid://shopify/BulkOperation/7"), 0, -1) == [b"finished"]


def test_unregistered_topic_is_failed_not_dropped(jobs_env, deliver, rconn):
    inbox_id = deliver("collections/create", {"id": 3}).json["inbox_id"]
    assert inbox.process(inbox_id) == InboxStatus.FAILED.value
    assert "no handler registered" in inbox_row(inbox_id).reason


def test_transient_failure_is_retried_by_rq(monkeypatch, deliver, rconn):
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "orders/paid", "spine_jobs.handlers.always_transient")
    inbox_id = deliver("orders/paid", {"id": 9}).json["inbox_id"]
    run_worker(["orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == len(queues.RETRY_INTERVALS) - 1
    assert job.id in ScheduledJobRegistry(queue=Queue("orders", connection=rconn)).get_job_ids()
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.ENQUEUED.value
    assert "transient (retrying): ERP unreachable" in row.reason


def test_bug_fails_at_once_into_the_failed_registry(monkeypatch, deliver, rconn):
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "orders/paid", "spine_jobs.handlers.crashes")
    inbox_id = deliver("orders/paid", {"id": 9}).json["inbox_id"]
    run_worker(["orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    job_id = f"inbox-{inbox_id}"
    assert Job.fetch(job_id, connection=rconn).get_status() == JobStatus.FAILED
    assert job_id in FailedJobRegistry(queue=Queue("orders", connection=rconn)).get_job_ids()
    assert inbox_row(inbox_id).reason == "ValueError: handler bug"
    [failed] = queues.failed_jobs("orders", conn=rconn)
    assert failed["id"] == job_id and failed["func"] == "jobs.inbox.process"
    assert "ValueError: handler bug" in failed["exc"] and failed["ended_at"]

    # Fixed handler, retry from the dashboard: requeued and processed.
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "orders/paid", "spine_jobs.handlers.record")
    handlers.CALLS.clear()
    queues.requeue_failed(job_id, conn=rconn)
    assert queues.failed_jobs("orders", conn=rconn) == []
    run_worker(["orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert handlers.CALLS == ["orders/paid"]
    assert inbox_row(inbox_id).status == InboxStatus.PROCESSED.value


@pytest.mark.parametrize("kind", ["deadlock", "restart", "locked", "interface", "invalidated"])
def test_a_database_blip_in_a_handler_is_retried_not_failed_as_a_bug(monkeypatch, deliver, rconn, kind):
    """A deadlock, a restart or failover of PostgreSQL, SQLite's lock: the database failing under
    the handler is worth RQ's retries, like Redis's; the handler's transaction rolled back."""
    monkeypatch.setitem(handlers.BLIP, "kind", kind)
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "customers/redact", "spine_jobs.handlers.database_blip")
    inbox_id = deliver("customers/redact", {"shop_id": 1, "customer": {"id": 42}}).json["inbox_id"]
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == len(queues.RETRY_INTERVALS) - 1
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.ENQUEUED.value
    assert row.reason.startswith("transient (retrying): database unavailable")


def test_a_database_blip_past_its_retries_ends_failed_and_retryable(monkeypatch, deliver, rconn):
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "customers/redact", "spine_jobs.handlers.database_blip")
    inbox_id = deliver("customers/redact", {"shop_id": 1, "customer": {"id": 42}}).json["inbox_id"]
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    job.retries_left = 0  # its last try
    job.save()
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert Job.fetch(job.id, connection=rconn).get_status() == JobStatus.FAILED
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.FAILED.value
    assert row.reason.startswith("transient, retries exhausted: database unavailable")
    # Retried from the failed jobs page once the database is back: processed.
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "customers/redact", "spine_jobs.handlers.record")
    queues.requeue_failed(job.id, conn=rconn)
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert inbox_row(inbox_id).status == InboxStatus.PROCESSED.value


def test_a_statement_the_database_refuses_is_still_a_bug(monkeypatch, deliver, rconn):
    monkeypatch.setitem(handlers.BLIP, "kind", "integrity")
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "customers/redact", "spine_jobs.handlers.database_blip")
    inbox_id = deliver("customers/redact", {"shop_id": 1, "customer": {"id": 42}}).json["inbox_id"]
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert Job.fetch(f"inbox-{inbox_id}", connection=rconn).get_status() == JobStatus.FAILED
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.FAILED.value and row.reason.startswith("IntegrityError")


def test_a_hung_handler_is_retried_not_failed_as_a_bug(monkeypatch, deliver, rconn):
    """A job past its timeout is a hung one (ledger.queues.JOB_TIMEOUTS): RQ kills it and its
    Retry runs it again; the row stays open, saying why, instead of failed as a bug."""
    monkeypatch.setitem(queues.JOB_TIMEOUTS, "webhooks", 1)
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, "bulk_operations/finish", "spine_jobs.handlers.hangs")
    payload = {"admin_graphql_api_id": "gid://shopify/BulkOperation/1"}
    inbox_id = deliver("bulk_operations/finish", payload).json["inbox_id"]
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == len(queues.RETRY_INTERVALS) - 1
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.ENQUEUED.value
    assert row.reason.startswith("transient (retrying): ") and "timeout" in row.reason


def test_a_stored_body_nested_past_the_recursion_limit_is_rejected_not_a_crash(jobs_env, rconn):
    """A row stored before the receiver refused such bodies (or written by hand): the inbox rejects
    it with the reason instead of crashing on RecursionError."""
    body = b'{"id": 1, "note_attributes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with session_scope() as session:
        row = WebhookInbox(
            topic="orders/create", shop_domain=SHOP, raw_body=body, status=InboxStatus.ENQUEUED.value
        )
        session.add(row)
        session.flush()
        inbox_id = row.id
    assert inbox.process(inbox_id) == "skipped"
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.REJECTED.value
    assert "nested too deeply" in row.reason


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("orders/create", {"id": 9001, "admin_graphql_api_id": "gid://shopify/Order/9001"}),
        ("orders/cancelled", {"id": 9001, "admin_graphql_api_id": "gid://shopify/Order/9001"}),
        ("orders/edited", {"order_edit": {"id": 5, "order_id": 9001}}),
    ],
)
def test_an_order_webhook_for_a_shop_not_installed_says_it_was_ignored(
    jobs_env, deliver, rconn, topic, payload
):
    """Nothing to import for a shop the ledger does not hold (uninstalled and erased, or never
    installed): the row ends processed with why, never reading like an order taken in."""
    inbox_id = deliver(topic, payload, shop="not-installed.myshopify.com").json["inbox_id"]
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    row = inbox_row(inbox_id)
    assert row.status == InboxStatus.PROCESSED.value
    assert row.reason.startswith("ignored: not-installed.myshopify.com is not installed")
