"""Failed jobs: RQ's failed registry as it concerns the caller's shop, and requeue."""

from __future__ import annotations

import json
import sys
import types

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from spine_auth.factories import SHOP_A, SHOP_B
from spine_jobs import handlers
from sqlalchemy import select

from jobs import inbox
from ledger import queues
from ledger.db import session_scope
from ledger.models import AuditEvent, InboxStatus, Role, WebhookInbox

from .conftest import headers

PROBE = "jobs.failing_probe"


def boom(*_args: object) -> None:
    raise RuntimeError("ERP said no for 52998224725")


@pytest.fixture(autouse=True)
def probe_module(monkeypatch):
    """A stand-in flow module whose run and replay fail loudly (a bug reaching RQ)."""
    module = types.ModuleType(PROBE)
    module.run = module.replay = boom
    monkeypatch.setitem(sys.modules, PROBE, module)


def _fail(rq, job_id: str, func: str, *args: object) -> None:
    queue = Queue("catalog", connection=rq)
    queue.enqueue(func, *args, job_id=job_id)
    SimpleWorker([queue], connection=rq).work(burst=True)
    assert job_id in FailedJobRegistry(queue=queue).get_job_ids()


def test_failed_jobs_are_listed_per_shop_masked_and_requeued(client, shops, rq, message):
    _fail(rq, "run-a", f"{PROBE}.run", shops.a)
    _fail(rq, "run-b", f"{PROBE}.run", shops.b)
    # A replay names its message: attributed through the message's shop.
    _fail(rq, "replay-a", f"{PROBE}.replay", message(shops.a, "stock", "sku-9", done=True))
    _fail(rq, "replay-b", f"{PROBE}.replay", message(shops.b, "stock", "sku-9", done=True))
    _fail(rq, "not-a-flow", f"{__name__}.boom", shops.a)
    listed = client.get("/api/jobs/failed", headers=headers(Role.VIEWER)).get_json()["jobs"]
    assert {j["id"] for j in listed} == {"run-a", "replay-a"}  # not shop B's, not a non-flow function
    assert all("52998224725" not in j["error"] and "RuntimeError" in j["error"] for j in listed)
    revealed = client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]
    assert all("52998224725" in j["error"] for j in revealed)

    assert client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.VIEWER)).status_code == 403
    assert client.post("/api/jobs/failed/run-b/requeue", headers=headers(Role.OPERATOR)).status_code == 404
    done = client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.OPERATOR))
    assert done.status_code == 202
    assert [job.id for job in Queue("catalog", connection=rq).get_jobs()] == ["run-a"]
    assert {j["id"] for j in client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]} == {
        "replay-a"
    }


def test_a_job_requeued_by_someone_else_a_moment_ago_is_a_409_not_a_500(client, shops, rq, monkeypatch):
    """Two operators press retry at once: the second finds the job no longer in the failed registry."""
    from rq.exceptions import InvalidJobOperation

    from ledger import queues

    _fail(rq, "run-a", f"{PROBE}.run", shops.a)

    def raced(*_args, **_kwargs):
        raise InvalidJobOperation("Job is not in the failed registry")

    monkeypatch.setattr(queues, "requeue_failed", raced)
    second = client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.OPERATOR))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "job_not_failed"


def _webhook_failing(rq, settings, monkeypatch, shop: str = SHOP_A, topic: str = "customers/redact") -> int:
    """A delivery whose handler fails as a bug: its inbox row ends failed, its job in RQ's failed
    registry. The row's id."""
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, topic, "spine_jobs.handlers.crashes")
    body = json.dumps({"shop_domain": shop, "customer": {"id": 7, "email": "a@b.com"}}).encode()
    with session_scope(settings.database_url) as session:
        row = WebhookInbox(topic=topic, shop_domain=shop, raw_body=body, status=InboxStatus.ENQUEUED.value)
        session.add(row)
        session.flush()
        row.job_id = queues.inbox_job_id(row.id)
        inbox_id = row.id
    queues.enqueue_inbox(inbox_id, topic, conn=rq)
    SimpleWorker([Queue("webhooks", connection=rq)], connection=rq).work(burst=True)
    with session_scope(settings.database_url) as session:
        assert session.get(WebhookInbox, inbox_id).status == InboxStatus.FAILED.value
    monkeypatch.setitem(inbox.TOPIC_HANDLERS, topic, "spine_jobs.handlers.record")
    return inbox_id


def _inbox_status(settings, inbox_id: int) -> str:
    with session_scope(settings.database_url) as session:
        return session.get(WebhookInbox, inbox_id).status


def _requeue_audits(settings, shop_id: int) -> list[str | None]:
    with session_scope(settings.database_url) as session:
        return list(
            session.scalars(
                select(AuditEvent.target)
                .where(AuditEvent.shop_id == shop_id, AuditEvent.action == "job.requeued")
                .order_by(AuditEvent.id)
            )
        )


def test_a_failed_webhook_outlives_a_redis_restart_and_is_retried(client, shops, rq, settings, monkeypatch):
    """A failed customers/redact is listed from its inbox row, the truth, not only from RQ's failed
    registry: Redis restarted without persistence, it is still shown with why and a person can run
    it again (a GDPR request is never silently left undone)."""
    inbox_id = _webhook_failing(rq, settings, monkeypatch)
    other = _webhook_failing(rq, settings, monkeypatch, shop=SHOP_B)
    job_id = f"inbox-{inbox_id}"
    listed = client.get("/api/jobs/failed", headers=headers(Role.VIEWER)).get_json()["jobs"]
    assert [(j["id"], j["func"], j["topic"]) for j in listed] == [
        (job_id, queues.INBOX_JOB, "customers/redact")
    ]

    rq.flushall()  # Redis restarted without persistence: RQ's failed registry is gone
    [shown] = client.get("/api/jobs/failed", headers=headers(Role.VIEWER)).get_json()["jobs"]
    assert shown["id"] == job_id and shown["topic"] == "customers/redact"
    assert shown["queue"] == "webhooks" and shown["func"] == queues.INBOX_JOB
    assert shown["error"] == "ValueError: handler bug" and shown["ended_at"]

    assert client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.VIEWER)).status_code == 403
    other_shop = client.post(f"/api/jobs/failed/inbox-{other}/requeue", headers=headers(Role.OPERATOR))
    assert other_shop.status_code == 404
    done = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR))
    assert (done.status_code, done.get_json()) == (202, {"job_id": job_id, "requeued": True})
    assert _requeue_audits(settings, shops.a) == [f"job:{job_id}"]
    assert _inbox_status(settings, inbox_id) == InboxStatus.ENQUEUED.value
    assert client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"] == []
    again = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR))
    assert again.status_code == 404  # no longer failed: not listed

    handlers.CALLS.clear()
    SimpleWorker([Queue("webhooks", connection=rq)], connection=rq).work(burst=True)
    assert handlers.CALLS == ["customers/redact"]
    assert _inbox_status(settings, inbox_id) == InboxStatus.PROCESSED.value


def test_a_failed_webhook_rq_still_holds_is_listed_once_and_retried_with_fresh_retries(
    client, shops, rq, settings, monkeypatch
):
    inbox_id = _webhook_failing(rq, settings, monkeypatch)
    job_id = f"inbox-{inbox_id}"
    webhooks_queue = Queue("webhooks", connection=rq)
    Job.fetch(job_id, connection=rq).retries_left = 0  # as a bug leaves it
    listed = client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]  # RQ's entry and the row's: one line
    assert "ValueError: handler bug" in listed[0]["error"]

    assert (
        client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR)).status_code == 202
    )
    assert FailedJobRegistry(queue=webhooks_queue).get_job_ids() == []
    assert webhooks_queue.job_ids == [job_id]
    assert Job.fetch(job_id, connection=rq).retries_left == len(queues.RETRY_INTERVALS)
    assert _requeue_audits(settings, shops.a) == [f"job:{job_id}"]


def test_a_failed_job_of_a_webhook_done_since_is_not_listed(client, shops, rq, settings, monkeypatch):
    """RQ still holds the failed job, but the row was processed since (the orders catch-up ran it
    under its own job id): nothing is left to do, so nothing is offered."""
    inbox_id = _webhook_failing(rq, settings, monkeypatch)
    with session_scope(settings.database_url) as session:
        session.get(WebhookInbox, inbox_id).status = InboxStatus.PROCESSED.value
    assert client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"] == []
    assert client.post(f"/api/jobs/failed/inbox-{inbox_id}/requeue", headers=headers()).status_code == 404


def test_a_retry_of_a_webhook_rq_already_runs_again_is_a_409(client, shops, rq, settings, monkeypatch):
    """Another person's retry reached Redis a moment ago (its job queued, its row not yet written):
    this one is refused, with one job and one audit left, the other's."""
    inbox_id = _webhook_failing(rq, settings, monkeypatch)
    job_id = f"inbox-{inbox_id}"
    rq.flushall()
    queues.enqueue_inbox(inbox_id, "customers/redact", conn=rq)
    second = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "job_not_failed"
    assert _requeue_audits(settings, shops.a) == []
    assert _inbox_status(settings, inbox_id) == InboxStatus.FAILED.value  # rolled back with the audit
    assert Queue("webhooks", connection=rq).job_ids == [job_id]


def erp_down(*_args: object) -> None:
    from ledger.errors import Transient

    raise Transient("Consinco unreachable at /pedido (timeout)").worded(
        "erp_unreachable", endpoint="/pedido", error="timeout"
    )


def test_a_failed_job_says_why_in_the_merchants_language_with_the_raw_text_kept(
    client, shops, rq, monkeypatch
):
    """A bug's failure reads as a sentence in the page's language (`reason`), RQ's exception line kept
    as the technical detail (`error`); one of ours given words (kept on the job by the worker,
    ledger.queues.keep_failure_words) is said in those words."""
    from jobs.worker import build_worker

    monkeypatch.setattr(sys.modules[PROBE], "poll", erp_down, raising=False)
    queue = Queue("catalog", connection=rq)
    queue.enqueue(f"{PROBE}.run", shops.a, job_id="run-a")
    queue.enqueue(f"{PROBE}.poll", shops.a, job_id="poll-a")
    build_worker(["catalog"], simple=True, conn=rq).work(burst=True)
    assert {"run-a", "poll-a"} <= set(FailedJobRegistry(queue=queue).get_job_ids())

    def listed(locale: str) -> dict[str, dict]:
        answer = client.get(f"/api/jobs/failed?locale={locale}", headers=headers()).get_json()
        return {j["id"]: j for j in answer["jobs"]}

    pt, en = listed("pt-BR"), listed("en")
    assert pt["run-a"]["reason"] == "O job parou com um erro no app; os detalhes técnicos estão abaixo"
    assert en["run-a"]["reason"] == "The job stopped with an error in the app; technical details below"
    assert pt["run-a"]["error"] == en["run-a"]["error"] == "RuntimeError: ERP said no for 52998224725"
    assert pt["poll-a"]["reason"].startswith("O ERP (Consinco) não respondeu em /pedido (timeout)")
    assert en["poll-a"]["reason"].startswith("Consinco (the ERP) did not answer at /pedido (timeout)")
    assert "Consinco unreachable at /pedido" in en["poll-a"]["error"]


def test_a_failed_webhook_row_reads_as_the_sentence_with_its_reason_kept(client, shops, rq, settings):
    with session_scope(settings.database_url) as session:
        session.add(WebhookInbox(shop_domain=SHOP_A, topic="orders/create", webhook_id="w-1", raw_body=b"{}",
                                 status=InboxStatus.FAILED.value, reason="KeyError: 'id'"))  # fmt: skip
    [job] = client.get("/api/jobs/failed?locale=pt-BR", headers=headers()).get_json()["jobs"]
    assert job["reason"] == "O job parou com um erro no app; os detalhes técnicos estão abaixo"
    assert job["error"] == "KeyError: 'id'"


def test_a_webhook_row_the_app_failed_itself_reads_in_the_pages_language(client, shops, rq, settings):
    """The reasons the app writes on a failed row (its job died with no outcome; its retries ran out)
    read in the page's language: the page showed "the job stopped with an error in the app" above an
    English-only sentence telling the person what to do."""
    from ledger import queues

    ended = queues.INBOX_ENDED.format(job="inbox-7", status="failed")
    with session_scope(settings.database_url) as session:
        row = WebhookInbox(shop_domain=SHOP_A, topic="customers/redact", webhook_id="w-7", raw_body=b"{}")
        row.status, row.reason = InboxStatus.FAILED.value, ended
        session.add(row)
    [job] = client.get("/api/jobs/failed?locale=pt-BR", headers=headers()).get_json()["jobs"]
    assert job["reason"].startswith("o job inbox-7 terminou (failed) no RQ sem registrar um resultado")
    assert job["error"] == ended
    [job] = client.get("/api/jobs/failed?locale=en", headers=headers()).get_json()["jobs"]
    assert job["reason"] == ended


def test_an_inbox_job_id_no_row_can_have_is_a_404_not_a_500(client, shops, rq) -> None:
    """inbox-<n> names a webhook row by its bigint id: a larger number (or digits that are not ASCII)
    is no row's, answered 404 instead of failing the query."""
    for job_id in ("inbox-9223372036854775808", "inbox-99999999999999999999999", "inbox-١٢"):
        answer = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR))
        assert answer.status_code == 404, (job_id, answer.get_json())


def test_a_webhook_whose_body_could_not_be_read_is_listed_until_dismissed(client, shops, rq, settings):
    """Shopify signed it, its body is no JSON object (kept `rejected`, answered 200): not a silent drop
    but a line of the Failed jobs page saying so in the page's language; a retry would read the same,
    so it is refused, and an operator dismisses it (audited), after which it is gone from the page."""
    from datetime import timedelta

    from ledger.models import utcnow

    with session_scope(settings.database_url) as session:
        row = WebhookInbox(shop_domain=SHOP_A, topic="orders/paid", webhook_id="w-bad", raw_body=b"<html>",
                           status=InboxStatus.REJECTED.value, processed_at=utcnow() - timedelta(minutes=1),
                           reason="body is not valid JSON: Expecting value: line 1")  # fmt: skip
        other = WebhookInbox(shop_domain=SHOP_B, topic="orders/paid", webhook_id="w-bad-b", raw_body=b"x",
                             status=InboxStatus.REJECTED.value, reason="body is not valid JSON")  # fmt: skip
        session.add_all([row, other])
        session.flush()
        job_id, other_id = queues.inbox_job_id(row.id), queues.inbox_job_id(other.id)
    [pt] = client.get("/api/jobs/failed?locale=pt-BR", headers=headers()).get_json()["jobs"]
    [en] = client.get("/api/jobs/failed?locale=en", headers=headers()).get_json()["jobs"]
    assert pt["id"] == job_id and pt["unreadable"] is True and pt["topic"] == "orders/paid"
    assert pt["reason"].startswith("A Shopify enviou um webhook orders/paid cujo conteúdo não pôde ser lido")
    assert en["reason"].startswith("Shopify sent a orders/paid webhook whose body could not be read")
    assert en["error"].startswith("body is not valid JSON")

    operator = headers(Role.OPERATOR)
    retry = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=operator)
    assert retry.status_code == 409 and retry.get_json()["error"]["code"] == "webhook_unreadable"
    assert client.post(f"/api/jobs/failed/{other_id}/dismiss", headers=operator).status_code == 404  # B's
    viewer = client.post(f"/api/jobs/failed/{job_id}/dismiss", headers=headers(Role.VIEWER))
    assert viewer.status_code == 403
    answer = client.post(f"/api/jobs/failed/{job_id}/dismiss", headers=operator)
    assert answer.status_code == 200 and answer.get_json() == {"job_id": job_id, "dismissed": True}
    assert client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"] == []
    again = client.post(f"/api/jobs/failed/{job_id}/dismiss", headers=operator)
    assert again.status_code == 404
    with session_scope(settings.database_url) as session:
        kept = session.get(WebhookInbox, row.id)
        assert kept.status == InboxStatus.PROCESSED.value and kept.reason.startswith("body is not valid JSON")
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.dismissed")).all()
        assert audit.target == f"job:{job_id}"


def test_only_an_unreadable_webhook_is_dismissed(client, shops, rq, settings):
    with session_scope(settings.database_url) as session:
        row = WebhookInbox(shop_domain=SHOP_A, topic="orders/create", webhook_id="w-2", raw_body=b"{}",
                           status=InboxStatus.FAILED.value, reason="KeyError: 'id'")  # fmt: skip
        session.add(row)
        session.flush()
        job_id = queues.inbox_job_id(row.id)
    answer = client.post(f"/api/jobs/failed/{job_id}/dismiss", headers=headers(Role.OPERATOR))
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "job_not_unreadable"


def test_an_unreadable_delivery_is_done_when_received_and_forgotten_by_the_retention_once_dismissed(
    shops, rq, settings
):
    """The receiver keeps an unreadable body `rejected` with the time it came as processed_at: the
    alert e-mails tell it by that time, and once dismissed the retention deletes it (its body may
    name a customer) like any processed delivery, instead of keeping it for ever."""
    from datetime import timedelta

    from spine_auth.factories import API_SECRET

    from app import create_app
    from jobs import alerts, retention
    from ledger import kv
    from ledger.models import utcnow
    from shopify_app.webhook_verify import compute_hmac

    kv.reset_clients()
    app = create_app(settings, blueprints=("shopify_app.webhooks", "shopify_app.api"), cli_modules=())
    client = app.test_client()
    body = b'{"email": "ana@example.com", "cpf": "52998224725"'  # cut short: no JSON
    signed = {
        "X-Shopify-Hmac-Sha256": compute_hmac(body, API_SECRET),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOP_A,
        "X-Shopify-Webhook-Id": "w-cut",
        "Content-Type": "application/json",
    }
    answer = client.post("/webhooks", data=body, headers=signed)
    assert answer.status_code == 200 and answer.get_json()["status"] == "rejected"
    inbox_id = answer.get_json()["inbox_id"]
    with session_scope(settings.database_url) as session:
        row = session.get(WebhookInbox, inbox_id)
        assert row.processed_at is not None and row.processed_at == row.received_at
        since, now = utcnow() - timedelta(minutes=5), utcnow()
        told = alerts._webhook_items(session, SHOP_A, since, now, "pt-BR")  # the e-mails' webhook items
    assert [item.key for item in told] == [f"w{inbox_id}"]

    dismissed = client.post(
        f"/api/jobs/failed/{queues.inbox_job_id(inbox_id)}/dismiss", headers=headers(Role.OPERATOR)
    )
    assert dismissed.status_code == 200, dismissed.get_json()
    retention.forget_processed_deliveries(30, now=utcnow() + timedelta(days=29))
    with session_scope(settings.database_url) as session:
        assert session.get(WebhookInbox, inbox_id) is not None  # within the retention: kept
    retention.forget_processed_deliveries(30, now=utcnow() + timedelta(days=31))
    with session_scope(settings.database_url) as session:
        assert session.get(WebhookInbox, inbox_id) is None
