"""The ERP -> Shopify event units (invoices, picking edits, cancellations to Shopify) run through
jobs.order_events.execute: Redis or the database failing under them or their order's lock (a Redis
stall past REDIS_SOCKET_TIMEOUT's 2 s included) is Transient, left retrying for RQ's Retry and the
orders catch-up, as the inbox and the Shopify -> ERP order flows do -- not a bug with its retries
zeroed, the invoice failed until a person clicks Retry. A statement that fails the same on every
retry is still a bug."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors as pg
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError

from erp.records import OrderEvent
from jobs import order_events
from jobs.order_event_codec import event_payload
from ledger import trace
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import ErpConnection, ErrorClass, MessageStatus, OrderLink, Shop


def _invoice_message() -> int:
    event = OrderEvent(7, "F", 500, 7, None, 1, "F", datetime(2026, 11, 28, tzinfo=UTC), False,
                       Decimal("50.00"), Decimal("50.00"), (), None, None, None, False)  # fmt: skip
    with session_scope() as session:
        shop = Shop(domain="blip.myshopify.com", settings={"seq_canal_venda": 7})
        session.add(shop)
        session.flush()
        session.add(ErpConnection(shop_id=shop.id, base_url="https://homolog.example", username="u",
                                  password_enc=b""))  # fmt: skip
        session.add(OrderLink(shop_id=shop.id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
        message = trace.begin(session, shop.id, "invoices", order_events.unit_key(7), ERP_TO_SHOPIFY,
                              erp_id="500", request=event_payload(event))  # fmt: skip
        session.flush()
        return message.id


@pytest.mark.parametrize(
    "exc",
    [
        RedisTimeoutError("Timeout reading from socket"),
        OperationalError(
            "UPDATE ...", {}, psycopg.OperationalError("server closed the connection unexpectedly")
        ),
    ],
    ids=["redis-timeout", "db-failover"],
)
def test_an_outage_under_an_erp_event_unit_is_retried_not_a_bug(env, exc, monkeypatch):
    message_id = _invoice_message()
    job = _Job()
    monkeypatch.setattr(order_events, "get_current_job", lambda: job)

    def work(unit: order_events.EventUnit) -> dict:
        raise exc

    with pytest.raises(Transient) as raised:
        order_events.execute(message_id, work)
    assert raised.value.__cause__ is exc
    assert job.retries_left == 3  # RQ's Retry runs it again
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        assert (message.status, message.error_class) == (
            MessageStatus.RETRYING.value,
            ErrorClass.TRANSIENT.value,
        ), message.error_text
        assert message.error_text.startswith(("Redis unreachable", "database unavailable"))


def test_a_statement_past_a_postgresql_limit_under_an_erp_event_unit_is_a_bug(env, monkeypatch):
    message_id = _invoice_message()
    job = _Job()
    monkeypatch.setattr(order_events, "get_current_job", lambda: job)
    exc = OperationalError(
        "INSERT ...", {}, pg.ProgramLimitExceeded("index row size 3000 exceeds maximum 2704")
    )

    def work(unit: order_events.EventUnit) -> dict:
        raise exc

    with pytest.raises(OperationalError):
        order_events.execute(message_id, work)
    assert job.retries_left == 0
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        assert (message.status, message.error_class) == (MessageStatus.FAILED.value, ErrorClass.BUG.value)


class _Job:
    """The RQ job running the unit: its retries left."""

    retries_left = 3


def test_an_invoice_meeting_a_redis_stall_is_retried_by_rq_then_left_for_the_catch_up(world, monkeypatch):
    """Through RQ: the stall leaves the invoice retrying with its job scheduled by RQ's Retry; past
    the last retry the job is in RQ's failed registry (the failed jobs page) and the message still
    retrying, so the orders catch-up applies it once Redis answers."""
    from rq import Queue
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry

    from jobs import invoices
    from jobs.order_catch_up import run_catch_up
    from jobs.worker import run_worker
    from ledger import kv, queues

    real = invoices._apply
    down = {"yes": True}

    def stalls(unit):
        if down["yes"]:
            raise RedisTimeoutError("Timeout reading from socket")
        return real(unit)

    monkeypatch.setattr(invoices, "_apply", stalls)
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _, message = world.invoice(order)
    assert (message.status, message.error_class) == (MessageStatus.RETRYING.value, ErrorClass.TRANSIENT.value)
    redis = kv.get_redis()
    queue = Queue(queues.ORDERS, connection=redis)
    scheduled = ScheduledJobRegistry(queue=queue)
    [job_id] = scheduled.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.retries_left == len(queues.RETRY_INTERVALS) - 1
    job.retries_left = 0  # its last try
    job.save()
    scheduled.requeue(job)
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert job_id in FailedJobRegistry(queue=queue).get_job_ids()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.RETRYING.value, message.error_text
    down["yes"] = False
    assert run_catch_up(world.shop_id, stale_after_seconds=0)
    run_worker(burst=True, simple=True, with_scheduler=False)
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text


def test_the_orders_lock_meeting_a_redis_stall_is_retried_not_a_bug(env, monkeypatch):
    """record_lock itself on a Redis timeout (REDIS_SOCKET_TIMEOUT's 2 s): the same outage."""
    message_id = _invoice_message()
    stall = RedisTimeoutError("Timeout reading from socket")

    def stalled_lock(*args, **kwargs):
        raise stall

    monkeypatch.setattr(order_events, "record_lock", stalled_lock)
    with pytest.raises(Transient) as raised:
        order_events.execute(message_id, lambda unit: {})
    assert raised.value.__cause__ is stall
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        assert (message.status, message.error_class) == (
            MessageStatus.RETRYING.value,
            ErrorClass.TRANSIENT.value,
        )
