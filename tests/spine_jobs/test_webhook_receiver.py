"""The receiver: HMAC, deduplication, the inbox row committed before 200, Redis outages."""

from __future__ import annotations

import io
import json
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from sqlalchemy import func, select

from jobs import inbox
from jobs.worker import build_worker
from ledger import kv, queues
from ledger.db import get_engine, session_scope
from ledger.models import InboxStatus, WebhookInbox
from settings import ConfigurationError, Settings, get_settings
from shopify_app import webhooks
from shopify_app.webhook_verify import Delivery, Reason, compute_hmac, verify_webhook

from .conftest import SHOP, make_app, signed_headers


def rows() -> list[WebhookInbox]:
    with session_scope() as session:
        return list(session.scalars(select(WebhookInbox).order_by(WebhookInbox.id)))


def count_rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(WebhookInbox))


def test_tampered_body_gets_401_and_no_row(client):
    body = json.dumps({"id": 1}).encode()
    headers = signed_headers(body, "orders/create")
    response = client.post("/webhooks", data=body.replace(b"1", b"2"), headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "invalid_hmac"}
    assert count_rows() == 0


def test_missing_hmac_gets_401(client):
    body = b'{"id": 1}'
    headers = signed_headers(body, "orders/create")
    del headers["X-Shopify-Hmac-Sha256"]
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 401
    assert count_rows() == 0


def test_wrong_secret_gets_401(client):
    body = b'{"id": 1}'
    response = client.post("/webhooks", data=body, headers=signed_headers(body, "orders/create", secret="x"))
    assert response.status_code == 401


def test_during_a_secret_rotation_both_the_new_and_the_old_secret_are_accepted(jobs_env):
    """Shopify: accept webhooks signed with the new and the old client secret until the old one
    is revoked (SHOPIFY_API_SECRET_PREVIOUS); any other signature is still refused."""
    jobs_env.setenv("SHOPIFY_API_SECRET", "new-secret-0123456789")
    jobs_env.setenv("SHOPIFY_API_SECRET_PREVIOUS", "old-secret-0123456789")
    client = make_app().test_client()
    answers = []
    for n, secret in enumerate(("new-secret-0123456789", "old-secret-0123456789", "other-secret")):
        body = json.dumps({"id": n}).encode()
        headers = signed_headers(body, "orders/create", secret=secret, webhook_id=f"rotation-{n}")
        answers.append(client.post("/webhooks", data=body, headers=headers).status_code)
    assert answers == [200, 200, 401]


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Shopify-Webhook-Id", "w" * 101), ("X-Shopify-Topic", "orders/" + "x" * 120),
     ("X-Shopify-Event-Id", "e" * 101), ("X-Shopify-API-Version", "2026-10" * 4)],
)  # fmt: skip
def test_a_header_longer_than_its_column_is_a_400_naming_it_not_a_500(client, header, value):
    body = b'{"id": 1}'
    headers = {**signed_headers(body, "orders/create"), header: value}
    response = client.post("/webhooks", data=body, headers=headers)
    assert (response.status_code, response.json) == (400, {"error": "headers_too_long", "headers": [header]})
    assert count_rows() == 0


@pytest.mark.parametrize("header", ["X-Shopify-Event-Id", "X-Shopify-Topic", "X-Shopify-Triggered-At"])
def test_a_nul_in_a_stored_header_is_a_400_naming_it_not_a_500(client, header):
    """Only the body is signed: a replayed body may carry any headers, and PostgreSQL stores no NUL."""
    body = b'{"id": 1}'
    headers = {**signed_headers(body, "orders/create"), header: "a\x00b"}
    response = client.post("/webhooks", data=body, headers=headers)
    assert (response.status_code, response.json) == (
        400,
        {"error": "headers_unreadable", "headers": [header]},
    )
    assert count_rows() == 0


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(client, monkeypatch):
    monkeypatch.setattr(webhooks, "MAX_BODY_BYTES", 1000)
    big = json.dumps({"pad": "x" * 2000}).encode()
    signed = client.post("/webhooks", data=big, headers=signed_headers(big, "orders/create"))
    unsigned = client.post("/webhooks", data=big, headers={**signed_headers(big, "orders/create"),
                                                           "X-Shopify-Hmac-Sha256": "AAAA"})  # fmt: skip
    assert (signed.status_code, unsigned.status_code) == (413, 413)
    assert signed.json == {"error": "payload_too_large", "limit_bytes": 1000}
    small = json.dumps({"id": 1}).encode()
    assert (
        client.post("/webhooks", data=small, headers=signed_headers(small, "orders/create")).status_code
        == 200
    )
    assert count_rows() == 1


def _chunked(client, body: bytes, headers: dict[str, str]):
    """A body sent without a Content-Length (chunked): the server says where the stream ends."""
    return client.post(
        "/webhooks",
        input_stream=io.BytesIO(body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413_not_read_truncated(client, monkeypatch):
    """Werkzeug's limited stream hands back the first MAX_BODY_BYTES of a longer body without a
    word: the receiver would check the HMAC of a cut body and answer 401 invalid_hmac."""
    monkeypatch.setattr(webhooks, "MAX_BODY_BYTES", 100)
    big = json.dumps({"pad": "x" * 500}).encode()
    response = _chunked(client, big, signed_headers(big, "orders/create"))
    assert (response.status_code, response.json) == (413, {"error": "payload_too_large", "limit_bytes": 100})
    assert count_rows() == 0
    exact = json.dumps({"pad": "x" * (100 - len('{"pad": ""}'))}).encode()
    assert len(exact) == 100
    assert _chunked(client, exact, signed_headers(exact, "orders/create")).status_code == 200
    assert count_rows() == 1


def test_missing_topic_header_gets_400(client):
    body = b'{"id": 1}'
    headers = signed_headers(body, "orders/create")
    del headers["X-Shopify-Topic"]
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 400
    assert response.json["missing"] == ["X-Shopify-Topic"]


@pytest.mark.parametrize("header", ["X-Shopify-Topic", "X-Shopify-Shop-Domain"])
def test_a_blank_topic_or_shop_header_is_missing_not_stored_empty(client, header):
    """A value of blanks only was taken as given and stored empty (ending "not installed" or failed)."""
    body = b'{"id": 1}'
    headers = signed_headers(body, "orders/create")
    headers[header] = "   "
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 400
    assert response.json["missing"] == [header]
    assert count_rows() == 0


def test_verify_is_pure_and_strips_the_signature():
    body = b"{}"
    headers = signed_headers(body, "shop/redact", shop="Loja.myshopify.com", secret="s")
    result = verify_webhook(body, headers, "s")
    assert result.reason is Reason.OK and result.status_code == 200
    assert result.delivery.shop_domain == "loja.myshopify.com"
    assert "X-Shopify-Hmac-Sha256" not in result.delivery.headers
    assert compute_hmac(body, "s") != compute_hmac(body, "t")


def test_same_webhook_twice_gives_one_row_and_one_job(deliver, rconn):
    payload = {"id": 820982911946154508, "name": "#1001"}
    first = deliver("orders/create", payload, webhook_id="wh-1", event_id="ev-1")
    second = deliver("orders/create", payload, webhook_id="wh-1", event_id="ev-1")
    assert first.status_code == second.status_code == 200
    assert second.json["duplicate"] is True
    [row] = rows()
    assert row.status == InboxStatus.ENQUEUED.value
    assert row.job_id == f"inbox-{row.id}"
    assert "X-Shopify-Hmac-Sha256" not in row.headers
    assert bytes(row.raw_body) == json.dumps(payload).encode()
    orders = Queue("orders", connection=rconn)
    assert orders.job_ids == [f"inbox-{row.id}"]
    assert Queue("webhooks", connection=rconn).count == 0
    assert orders.fetch_job(row.job_id).func_name == "jobs.inbox.process"


def test_every_webhook_of_an_order_goes_to_the_orders_queue_in_delivery_order(deliver, rconn):
    """A refund is an order's webhook though not named orders/*: on the webhooks queue (served
    first) it ran ahead of an edit delivered before it."""
    from jobs.order_catch_up import ORDER_TOPICS

    for n, topic in enumerate(ORDER_TOPICS):
        deliver(topic, {"id": 5000 + n, "order_id": 4000}, webhook_id=f"wh-o{n}", event_id=f"ev-o{n}")
    deliver("products/delete", {"id": 7}, webhook_id="wh-p", event_id="ev-p")
    by_topic = {row.topic: row.job_id for row in rows()}
    assert Queue("orders", connection=rconn).job_ids == [by_topic[t] for t in ORDER_TOPICS]
    assert Queue("webhooks", connection=rconn).job_ids == [by_topic["products/delete"]]


def test_same_event_with_a_new_webhook_id_is_deduplicated(deliver, rconn):
    deliver("app/uninstalled", {"id": 1}, webhook_id="wh-a", event_id="ev-same")
    again = deliver("app/uninstalled", {"id": 1}, webhook_id="wh-b", event_id="ev-same")
    assert again.json["duplicate"] is True
    assert count_rows() == 1
    assert Queue("webhooks", connection=rconn).count == 1
    # The same event id on another topic is another event.
    deliver("shop/redact", {"shop_id": 1}, webhook_id="wh-c", event_id="ev-same")
    assert count_rows() == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "not an object"), (b"\xff\xfe", "not UTF-8")],
)
def test_malformed_body_is_kept_as_rejected(deliver, rconn, body, reason):
    response = deliver("orders/updated", body)
    assert response.status_code == 200
    [row] = rows()
    assert row.status == InboxStatus.REJECTED.value
    assert reason in row.reason
    assert bytes(row.raw_body) == body
    assert Queue("orders", connection=rconn).count == 0


def test_json_nested_past_the_recursion_limit_is_kept_as_rejected_not_a_500(deliver, rconn):
    """json.loads raises RecursionError, not JSONDecodeError, on a body nested deeper than Python's
    recursion limit: it is as unusable as any malformed body, so it is kept and answered 200."""
    body = b'{"id": 1, "note_attributes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = deliver("orders/create", body)
    assert response.status_code == 200
    [row] = rows()
    assert row.status == InboxStatus.REJECTED.value
    assert "nested too deeply" in row.reason
    assert Queue("orders", connection=rconn).count == 0


def test_row_is_committed_before_answer_and_sweeper_recovers_redis_outage(jobs_env, deliver, rconn):
    # Redis down while the request runs: the app's REDIS_URL points at a closed port.
    closed = "redis://127.0.0.1:1/0"
    down = make_app()
    down.config["SETTINGS"] = replace(down.config["SETTINGS"], redis_url=closed)
    body = json.dumps({"id": 5}).encode()
    response = down.test_client().post("/webhooks", data=body, headers=signed_headers(body, "orders/paid"))
    assert response.status_code == 200
    assert response.json["job_id"] is None
    # Committed: a fresh session (another connection) sees the row right after the answer.
    [row] = rows()
    assert row.status == InboxStatus.RECEIVED.value
    assert Queue("orders", connection=rconn).count == 0

    # Redis is back (the session's server): the sweeper hands the row to RQ, once.
    kv.reset_clients()
    assert inbox.sweep(older_than=timedelta(0)) == [f"inbox-{row.id}"]
    assert inbox.sweep(older_than=timedelta(0)) == []
    assert Queue("orders", connection=rconn).job_ids == [f"inbox-{row.id}"]
    [row] = rows()
    assert row.status == InboxStatus.ENQUEUED.value


def test_a_silent_redis_does_not_hold_the_answer_past_shopifys_timeout(jobs_env, rconn):
    """A Redis that accepts the connection and never answers (a failover, a paused server, a
    half-open connection): the enqueue gives up after REDIS_SOCKET_TIMEOUT, the row is left
    `received` for the sweeper and Shopify gets its 200 well inside its 5 s."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nothing ever answers
    try:
        app = make_app()
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        app.config["SETTINGS"] = replace(app.config["SETTINGS"], redis_url=url)
        body = json.dumps({"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1"}).encode()
        started = time.monotonic()
        response = app.test_client().post(
            "/webhooks", data=body, headers=signed_headers(body, "orders/create")
        )
        took = time.monotonic() - started
    finally:
        kv.reset_clients()
        silent.close()
    assert response.status_code == 200 and response.json["job_id"] is None
    assert took < get_settings().redis_socket_timeout + 1.5 < 5, took
    [row] = rows()
    assert row.status == InboxStatus.RECEIVED.value


def test_every_redis_client_gives_up_on_a_silent_server_but_the_workers_dequeue(jobs_env):
    client = kv.get_redis()
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == get_settings().redis_socket_timeout
    assert kwargs["socket_connect_timeout"] == kv.CONNECT_TIMEOUT_SECONDS
    worker = build_worker(["webhooks"], simple=True)
    assert worker.connection is not client  # RQ lengthens its timeout past its BLPOP's: not ours
    assert worker.connection.connection_pool.connection_kwargs["socket_timeout"] > worker.dequeue_timeout
    assert kwargs["socket_timeout"] == get_settings().redis_socket_timeout


def test_redis_socket_timeout_must_be_a_positive_number(env):
    for bad in ("0", "-1", "soon", "nan", "inf"):
        env.setenv("REDIS_SOCKET_TIMEOUT", bad)
        with pytest.raises(ConfigurationError, match="REDIS_SOCKET_TIMEOUT"):
            Settings.from_env()
    env.setenv("REDIS_SOCKET_TIMEOUT", "3.5")
    assert Settings.from_env().redis_socket_timeout == 3.5


def test_sweeper_with_redis_down_leaves_rows_received(jobs_env, deliver, redis_server, rconn):
    jobs_env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    kv.reset_clients()
    with session_scope() as session:
        session.add(WebhookInbox(topic="app/uninstalled", shop_domain=SHOP, raw_body=b"{}", webhook_id="w"))
    with pytest.raises(inbox.SweepStopped) as stopped:  # not "nothing to do": the row still waits
        inbox.sweep(older_than=timedelta(0))
    assert stopped.value.enqueued == []
    assert rows()[0].status == InboxStatus.RECEIVED.value


def test_a_sweep_redis_fails_midway_says_what_it_handed_over(jobs_env, deliver, rconn, monkeypatch):
    with session_scope() as session:
        for n in range(3):
            session.add(
                WebhookInbox(topic="app/uninstalled", shop_domain=SHOP, raw_body=b"{}", webhook_id=f"w{n}")
            )
    real = queues.enqueue_inbox
    calls: list[int] = []

    def enqueue_then_fail(inbox_id: int, *args, **kwargs):
        calls.append(inbox_id)
        if len(calls) == 2:
            raise RedisConnectionError("gone")
        return real(inbox_id, *args, **kwargs)

    monkeypatch.setattr(queues, "enqueue_inbox", enqueue_then_fail)
    with pytest.raises(inbox.SweepStopped) as stopped:
        inbox.sweep(older_than=timedelta(0))
    assert stopped.value.enqueued == [f"inbox-{calls[0]}"]
    assert "ConnectionError" in str(stopped.value)


def test_concurrent_redeliveries_of_one_event_give_one_row(jobs_env, rconn):
    """Eight deliveries of the same event, each with its own webhook id, at the same instant."""
    import threading

    app = make_app()
    body = json.dumps({"id": 77}).encode()
    barrier = threading.Barrier(8)
    answers: list[int] = []

    def send(n: int) -> None:
        headers = signed_headers(body, "orders/create", webhook_id=f"wh-{n}", event_id="event-77")
        barrier.wait()
        answers.append(app.test_client().post("/webhooks", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8
    assert len(rows()) == 1
    assert Queue("orders", connection=rconn).count == 1


def test_sweeper_reenqueues_an_enqueued_row_whose_job_was_lost(jobs_env, deliver, rconn):
    inbox_id = deliver("orders/paid", {"id": 8}).json["inbox_id"]
    assert Queue("orders", connection=rconn).job_ids == [f"inbox-{inbox_id}"]
    rconn.flushall()  # Redis lost the job (restarted without persistence)
    assert inbox.sweep(older_than=timedelta(0)) == [f"inbox-{inbox_id}"]
    assert Queue("orders", connection=rconn).job_ids == [f"inbox-{inbox_id}"]
    assert inbox.sweep(older_than=timedelta(0)) == []  # the job exists again: nothing to do


def test_sweeper_marks_failed_a_row_whose_job_rq_gave_up_on(jobs_env, deliver, rconn):
    """A job that ended failed without its handler recording an outcome (its worker killed, the
    database down through every retry) leaves its row failed with why, not `enqueued` for ever."""
    from rq.job import Job

    inbox_id = deliver("customers/redact", {"shop_domain": SHOP, "customer": {"id": 1}}).json["inbox_id"]
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    job.set_status("failed")  # as RQ leaves a job whose horse was killed
    assert inbox.sweep(older_than=timedelta(0)) == []
    with session_scope() as session:
        row = session.get(WebhookInbox, inbox_id)
        assert row.status == InboxStatus.FAILED.value and "ended failed in RQ" in (row.reason or "")


def test_the_sweeper_keeps_the_failure_a_handler_recorded_meanwhile(jobs_env, deliver, rconn, monkeypatch):
    """The handler records its real failure between the sweep's read of the row and its look at
    the job: the sweep's own reason ("ended failed in RQ") does not replace it."""
    from rq.job import Job

    inbox_id = deliver("customers/redact", {"shop_domain": SHOP, "customer": {"id": 1}}).json["inbox_id"]
    Job.fetch(f"inbox-{inbox_id}", connection=rconn).set_status("failed")
    looked = inbox._ended_without_outcome

    def handler_records_first(job_ids, conn):
        inbox._finish(inbox_id, InboxStatus.FAILED, "ValueError: the real reason")
        return looked(job_ids, conn)

    monkeypatch.setattr(inbox, "_ended_without_outcome", handler_records_first)
    assert inbox.sweep(older_than=timedelta(0)) == []
    with session_scope() as session:
        assert session.get(WebhookInbox, inbox_id).reason == "ValueError: the real reason"


def test_a_backlog_held_in_rq_does_not_hide_a_row_left_received(jobs_env, deliver, rconn):
    """Orders waiting in RQ behind a slow ERP (more than one sweep reads at once) and a
    customers/redact row a Redis blip left `received`: the sweep hands the row over now."""
    for n in range(6):
        deliver("orders/updated", {"id": n})
    with session_scope() as session:
        redact = WebhookInbox(
            topic="customers/redact", shop_domain=SHOP, raw_body=b"{}", webhook_id="w-redact"
        )
        session.add(redact)
        session.flush()
        redact_id = redact.id
    assert inbox.sweep(older_than=timedelta(0), limit=5) == [f"inbox-{redact_id}"]
    with session_scope() as session:
        assert session.get(WebhookInbox, redact_id).status == InboxStatus.ENQUEUED.value


def test_a_tick_hands_over_a_backlog_left_received_in_one_go(jobs_env, rconn):
    """After a Redis outage: one read hands over `limit` rows, and the tick keeps reading while
    each read is full (inbox.sweep_backlog), so a backlog is not queued one read a minute."""
    old = datetime.now(UTC) - timedelta(minutes=10)
    with session_scope() as session:
        session.add_all(
            WebhookInbox(topic="app/uninstalled" if n == 11 else "orders/create", shop_domain=SHOP,
                         raw_body=b"{}", webhook_id=f"w{n}", status="received", received_at=old)
            for n in range(12)
        )  # fmt: skip
    handed = inbox.sweep_backlog(limit=5)
    assert len(handed) == 12
    with session_scope() as session:
        statuses = set(session.scalars(select(WebhookInbox.status)))
    assert statuses == {InboxStatus.ENQUEUED.value}
    assert inbox.sweep_backlog(budget=0.0, limit=5) == []  # nothing left: one read


def test_the_sweep_pages_through_a_backlog_across_ticks(jobs_env, deliver, rconn):
    """A row whose job was lost behind a backlog longer than one sweep reads is found a tick later,
    and the window starts again from the oldest once it reached the newest."""
    from rq.job import Job

    ids = [deliver("orders/updated", {"id": n}).json["inbox_id"] for n in range(7)]
    Job.fetch(f"inbox-{ids[6]}", connection=rconn).delete()  # lost (Redis evicted it)
    assert inbox.sweep(older_than=timedelta(0), limit=5) == []  # the 5 oldest: all held
    assert inbox.sweep(older_than=timedelta(0), limit=5) == [f"inbox-{ids[6]}"]  # the next ones
    Job.fetch(f"inbox-{ids[0]}", connection=rconn).delete()
    assert inbox.sweep(older_than=timedelta(0), limit=5) == [f"inbox-{ids[0]}"]  # from the oldest again


def test_the_sweep_window_starts_again_when_nothing_is_left_above_it(jobs_env, deliver, rconn):
    """The rows above the window were processed meanwhile, so a tick reads nothing past it: the
    window still goes back to the oldest, and a row below it whose job Redis lost is handed over
    again (a tick finding nothing used to return before resetting it, stuck for ever)."""
    from rq.job import Job
    from sqlalchemy import update

    ids = [deliver("orders/updated", {"id": n}).json["inbox_id"] for n in range(6)]
    assert inbox.sweep(older_than=timedelta(0), limit=5) == []  # reads ids[0..4]: window at ids[4]
    with session_scope() as session:
        session.execute(
            update(WebhookInbox).where(WebhookInbox.id == ids[5]).values(status=InboxStatus.PROCESSED.value)
        )
    Job.fetch(f"inbox-{ids[0]}", connection=rconn).delete()  # Redis lost it (restart without persistence)
    assert inbox.sweep(older_than=timedelta(0), limit=5) == []  # nothing past the window: back to the oldest
    assert int(rconn.get(inbox.SWEEP_WINDOW_KEY) or 0) == 0
    assert inbox.sweep(older_than=timedelta(0), limit=5) == [f"inbox-{ids[0]}"]


def _delivery(webhook_id: str, event_id: str | None, topic: str = "orders/create") -> Delivery:
    return Delivery(
        topic=topic,
        shop_domain=SHOP,
        webhook_id=webhook_id,
        event_id=event_id,
        api_version="2026-10",
        triggered_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        headers={"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id},
    )


def test_driver_level_insert_stores_and_dedupes_on_both_dialects(jobs_env, any_database_url):
    """The INSERT compiled once and run on the DBAPI connection: same rows and dedupe as the ORM's."""
    settings = replace(get_settings(), database_url=any_database_url)
    body = json.dumps({"id": 1}).encode()
    first, status = webhooks.store_delivery(settings, _delivery("wh-1", "ev-1"), body)
    assert status == InboxStatus.ENQUEUED.value and first is not None
    # Same webhook id (a retry), then a new webhook id for the same event (a redelivery).
    assert webhooks.store_delivery(settings, _delivery("wh-1", "ev-1"), body) == (None, "duplicate")
    assert webhooks.store_delivery(settings, _delivery("wh-2", "ev-1"), body) == (None, "duplicate")
    # The same event id on another topic, and deliveries without an event id, are new.
    other, _ = webhooks.store_delivery(settings, _delivery("wh-3", "ev-1", topic="orders/paid"), body)
    no_event_a, _ = webhooks.store_delivery(settings, _delivery("wh-4", None), body)
    no_event_b, _ = webhooks.store_delivery(settings, _delivery("wh-5", None), body)
    assert webhooks.store_delivery(settings, _delivery("wh-5", None), body) == (None, "duplicate")
    rejected, status = webhooks.store_delivery(settings, _delivery("wh-6", "ev-6"), b"[1]")
    assert status == InboxStatus.REJECTED.value
    assert len({first, other, no_event_a, no_event_b, rejected}) == 5

    with session_scope(any_database_url) as session:
        stored = {r.webhook_id: r for r in session.scalars(select(WebhookInbox))}
    assert sorted(stored) == ["wh-1", "wh-3", "wh-4", "wh-5", "wh-6"]
    row = stored["wh-1"]
    assert row.id == first and row.job_id == f"inbox-{first}" and row.status == "enqueued"
    assert row.headers == {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-1"}
    assert bytes(row.raw_body) == body and row.event_id == "ev-1" and row.api_version == "2026-10"
    assert row.triggered_at.replace(tzinfo=UTC) == datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert row.received_at is not None
    assert stored["wh-6"].job_id is None and "not an object" in stored["wh-6"].reason
    # Committed: visible to a fresh connection, and the pooled connection went back as it came.
    engine = get_engine(any_database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(WebhookInbox)) == 5
        if engine.dialect.name == "postgresql":
            assert conn.connection.driver_connection.autocommit is False


def test_driver_level_insert_error_discards_the_connection(jobs_env, database_url):
    """A failed INSERT (here: a webhook id longer than the column) leaves no broken connection behind."""
    settings = replace(get_settings(), database_url=database_url)
    with pytest.raises(Exception, match="too long"):
        webhooks.store_delivery(settings, _delivery("w" * 101, "ev-long"), b"{}")
    assert webhooks.store_delivery(settings, _delivery("wh-ok", "ev-ok"), b"{}")[1] == "enqueued"
    assert [r.webhook_id for r in rows()] == ["wh-ok"]


def test_a_dropped_inbox_connection_is_replaced_and_the_delivery_stored(jobs_env, database_url, rconn):
    """The thread's own PostgreSQL connection dies between two webhooks (server restart, network
    cut): the next webhook is stored on a new connection and answered 200, not 500."""
    client = make_app().test_client()
    body = json.dumps({"id": 5}).encode()
    first = client.post("/webhooks", data=body, headers=signed_headers(body, "orders/create", webhook_id="a"))
    assert first.status_code == 200
    backend = webhooks._own.connection.dbapi_connection.info.backend_pid
    with get_engine(database_url).connect() as conn:
        assert conn.scalar(select(func.pg_terminate_backend(backend))) is True
    second = client.post("/webhooks", data=body, headers=signed_headers(body, "orders/paid", webhook_id="b"))
    assert second.status_code == 200 and second.json["job_id"] == f"inbox-{second.json['inbox_id']}"
    assert webhooks._own.connection.dbapi_connection.info.backend_pid != backend
    assert [(r.webhook_id, r.status) for r in rows()] == [("a", "enqueued"), ("b", "enqueued")]
    assert Queue("orders", connection=rconn).count == 2


def test_database_down_answers_503_and_enqueues_nothing(jobs_env, rconn):
    """Nothing could be stored, so Shopify must not get a 2xx (it redelivers); never a bare 500."""
    jobs_env.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    client = make_app().test_client()
    body = json.dumps({"id": 6}).encode()
    answer = client.post("/webhooks", data=body, headers=signed_headers(body, "orders/create"))
    assert answer.status_code == 503 and answer.json["error"] == "inbox_unavailable"
    assert Queue("orders", connection=rconn).count == 0


def test_an_id_tokens_signature_is_no_webhook_signature(client):
    """Shopify signs the app's ID tokens (HS256) with the client secret that signs webhooks: any
    store's staff member holds a token, whose signature is the HMAC of its "header.payload". Sent
    as a body with that signature, any shop and topic headers, it was stored as an unreadable
    delivery of the named shop, shown on its pages and in its alert e-mails."""
    import base64

    import jwt

    secret = get_settings().api_secret
    token = jwt.encode({"iss": "https://other.myshopify.com/admin", "sub": "4"}, secret, algorithm="HS256")
    head, payload, signature = token.split(".")
    body = f"{head}.{payload}".encode()
    hmac_b64 = base64.b64encode(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))).decode()
    assert hmac_b64 == compute_hmac(body, secret)  # (what makes it a forgery Shopify did not send)
    headers = {**signed_headers(body, "customers/redact"), "X-Shopify-Hmac-Sha256": hmac_b64}
    response = client.post("/webhooks", data=body, headers=headers)
    assert (response.status_code, response.json) == (401, {"error": "invalid_hmac"})
    assert count_rows() == 0


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Shopify-Topic", "customers/redact - URGENTE: reinstale em https://evil.example/x"),
        ("X-Shopify-Shop-Domain", "loja.example.com"),
    ],
)
def test_a_topic_or_shop_not_shaped_as_shopifys_is_a_400_naming_it(client, header, value):
    """Only the body is signed: the topic and the shop a person reads on the app's pages and in its
    alert e-mails must have the shape Shopify gives them, no forger's text."""
    body = b'{"id": 1}'
    response = client.post(
        "/webhooks", data=body, headers={**signed_headers(body, "orders/create"), header: value}
    )
    assert (response.status_code, response.json) == (
        400,
        {"error": "headers_unreadable", "headers": [header]},
    )
    assert count_rows() == 0
