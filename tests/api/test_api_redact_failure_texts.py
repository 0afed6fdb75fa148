"""customers/redact scrubs an inbox row's raw body and the failure text kept beside it
(`webhook_inbox.reason`, written by jobs.inbox.process as "<Type>: <exception>" or "transient
(retrying): <message>"), and drops RQ's failed-job record of the same failure (its exc_info, kept
for a year in Redis, shown by GET /api/jobs/failed); a schedule's last error naming the customer is
scrubbed too. Another customer's failed job stays. shop/redact drops the shop's failed jobs."""

from __future__ import annotations

import json

from rq import Queue, SimpleWorker
from spine_auth.factories import SHOP_A, SHOP_B
from sqlalchemy import select, update

import jobs.orders
from api.conftest import headers
from jobs import compliance
from jobs.inbox import WebhookEvent
from ledger import queues
from ledger.db import session_scope
from ledger.models import InboxStatus, Role, Schedule, Shop, ShopStatus, WebhookInbox, utcnow

EMAIL = "ana.cliente@example.com.br"
OTHER = "bruno.outro@example.com.br"


def _store(topic: str, payload: dict, webhook_id: str | None = None, shop: str = SHOP_A) -> int:
    with session_scope() as session:
        row = WebhookInbox(
            webhook_id=webhook_id or f"w-{topic}",
            topic=topic,
            shop_domain=shop,
            raw_body=json.dumps(payload).encode(),
            headers={},
            status=InboxStatus.ENQUEUED.value,
            received_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id


def _fail_orders(rq, monkeypatch, *orders: dict, shop: str = SHOP_A) -> list[int]:
    """Store each order's orders/create webhook and run it through a failing handler whose text
    quotes the customer's e-mail: one failed RQ job per order."""

    def handler(event):  # the orders handler failing on this order (its text quotes a value of it)
        raise ValueError(f"customer {event.payload['customer']['email']} has no usable document")

    monkeypatch.setattr(jobs.orders, "on_webhook", handler)
    ids = []
    for order in orders:
        inbox_id = _store("orders/create", order, webhook_id=f"w-{shop}-{order['id']}", shop=shop)
        queues.enqueue_inbox(inbox_id, "orders/create", conn=rq)
        ids.append(inbox_id)
    queue = Queue(queues.inbox_queue("orders/create"), connection=rq)
    SimpleWorker([queue], connection=rq).work(burst=True, with_scheduler=False)
    return ids


def _order(order_id: int, customer_id: int, email: str) -> dict:
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 10000}",
        "customer": {"id": customer_id, "email": email},
    }


def _failed_exc(rq) -> list[str]:
    return [j["exc"] or "" for name in queues.QUEUE_NAMES for j in queues.failed_jobs(name, conn=rq)]


def test_redact_scrubs_the_failure_texts_about_the_customer(client, shops, rq, monkeypatch):
    inbox_id, _other = _fail_orders(
        rq, monkeypatch, _order(820982911946154508, 115310627314723954, EMAIL), _order(9001, 77, OTHER)
    )
    assert any(EMAIL in exc for exc in _failed_exc(rq))  # the failure is there to be dropped
    with session_scope() as session:  # a scheduled run's failure quoting the same order
        text = f"Rejected: order #1001 of {EMAIL} refused"
        assert session.execute(
            update(Schedule).where(Schedule.shop_id == shops.a).values(last_error=text)
        ).rowcount

    redact = {
        "shop_domain": SHOP_A,
        "customer": {"id": 115310627314723954, "email": EMAIL},
        "orders_to_redact": [820982911946154508],
    }
    redact_id = _store("customers/redact", redact)
    compliance.customers_redact(
        WebhookEvent(redact_id, "customers/redact", SHOP_A, None, None, None, utcnow(), redact)
    )

    with session_scope() as session:
        row = session.scalars(select(WebhookInbox).where(WebhookInbox.id == inbox_id)).one()
        body, reason = bytes(row.raw_body).decode(), row.reason
        last_errors = list(session.scalars(select(Schedule.last_error).where(Schedule.shop_id == shops.a)))
    assert EMAIL not in body  # the body is scrubbed...
    assert reason and "ValueError" in reason  # ...the failure text still says what failed
    shown = client.get("/api/jobs/failed", headers=headers(Role.OWNER)).get_json()
    in_rq = _failed_exc(rq)
    left = {
        "webhook_inbox.reason": EMAIL in reason,
        "rq failed job exc": any(EMAIL in e for e in in_rq),
        "/api/jobs/failed": EMAIL in json.dumps(shown),
        "schedules.last_error": any(EMAIL in (e or "") for e in last_errors),
    }
    assert not any(left.values()), left
    assert any(OTHER in e for e in in_rq)  # another customer's failed job is not theirs to drop


def test_shop_redact_drops_the_shops_failed_jobs(shops, rq, monkeypatch):
    _fail_orders(rq, monkeypatch, _order(820982911946154508, 115310627314723954, EMAIL))
    assert any(EMAIL in exc for exc in _failed_exc(rq))
    with session_scope() as session:
        session.execute(update(Shop).where(Shop.id == shops.a).values(status=ShopStatus.UNINSTALLED.value))
    event = WebhookEvent(0, "shop/redact", SHOP_A, None, None, None, utcnow(), {"shop_domain": SHOP_A})

    compliance.shop_redact(event)

    assert not any(EMAIL in exc for exc in _failed_exc(rq))


def _redact_in_a(email: str, customer_id: int, order_ids: list[int]) -> None:
    redact = {
        "shop_domain": SHOP_A,
        "customer": {"id": customer_id, "email": email},
        "orders_to_redact": order_ids,
    }
    redact_id = _store("customers/redact", redact)
    compliance.customers_redact(
        WebhookEvent(redact_id, "customers/redact", SHOP_A, None, None, None, utcnow(), redact)
    )


def test_redact_keeps_another_shops_failed_job_naming_the_same_email(client, shops, rq, monkeypatch):
    """The same person bought in two shops of the installation: shop A's customers/redact drops
    shop A's failed job about them, not shop B's (B can still requeue it from its Failed jobs page)."""
    (in_a,) = _fail_orders(rq, monkeypatch, _order(5001, 115310627314723954, EMAIL))
    (in_b,) = _fail_orders(rq, monkeypatch, _order(6001, 9911, EMAIL), shop=SHOP_B)
    assert {queues.inbox_job_id(in_a), queues.inbox_job_id(in_b)} <= {
        j["id"] for name in queues.QUEUE_NAMES for j in queues.failed_jobs(name, conn=rq)
    }
    with session_scope() as session:  # A's row is no longer A's customer's: only the text names them
        session.execute(update(WebhookInbox).where(WebhookInbox.id == in_a).values(raw_body=b"{}"))

    _redact_in_a(EMAIL, 115310627314723954, [5001])

    left = {j["id"] for name in queues.QUEUE_NAMES for j in queues.failed_jobs(name, conn=rq)}
    assert queues.inbox_job_id(in_a) not in left  # A's, found by its text, dropped
    assert queues.inbox_job_id(in_b) in left  # B's stays
    b_page = client.get("/api/jobs/failed", headers=headers(Role.OWNER, shop=SHOP_B)).get_json()
    assert queues.inbox_job_id(in_b) in {job["id"] for job in b_page["jobs"]}


def test_a_failed_row_whose_job_redact_dropped_is_still_retried_from_the_row(client, shops, rq, monkeypatch):
    (inbox_id,) = _fail_orders(rq, monkeypatch, _order(5002, 115310627314723954, EMAIL))
    _redact_in_a(EMAIL, 115310627314723954, [5002])
    job_id = queues.inbox_job_id(inbox_id)
    assert job_id not in {j["id"] for name in queues.QUEUE_NAMES for j in queues.failed_jobs(name, conn=rq)}

    page = client.get("/api/jobs/failed", headers=headers(Role.OWNER)).get_json()
    (row,) = [job for job in page["jobs"] if job["id"] == job_id]  # listed from the inbox row
    assert "ValueError" in row["error"] and EMAIL not in row["error"]
    answer = client.post(f"/api/jobs/failed/{job_id}/requeue", headers=headers(Role.OPERATOR))
    assert answer.status_code == 202, answer.get_json()
    queue = Queue(queues.inbox_queue("orders/create"), connection=rq)
    assert job_id in queue.get_job_ids()  # enqueued anew: the row runs again
