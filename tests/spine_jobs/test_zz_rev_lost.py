"""REVIEW REPRODUCER (temporary). A catalog message's replay (a person's Retry/Replay) fails
transient: the message is "retrying" and RQ holds the retry in its ScheduledJobRegistry. Redis then
loses its data (restart without persistence, FLUSHALL, eviction): the retry and its failure callback
(ledger.replay_outcome) are gone. Nothing ever runs the unit again or says so: ledger.stuck counts
only `pending`, the alert e-mail reads only failed/parked (and stuck), the orders catch-up replays
only the order flows, and the products pass finds nothing changed in the ERP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from catalog_products.conftest import erp_sandbox, installed, shopify_sandbox  # noqa: F401
from jobs import alerts, catalog_flow
from jobs.order_catch_up import run_catch_up
from jobs.worker import build_worker
from ledger import queues, stuck
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import Message, MessageStatus, Shop, utcnow
from sandbox.mail import MailServer
from shopify_app.admin_api.executor import RetryPolicy
from shopify_app.enqueue import enqueue_replay


def _message(shop_id: int, key: str) -> Message:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(Message.shop_id == shop_id, Message.flow == "products", Message.unit_key == key)
        ).one()
        session.expunge(found)
        return found


def test_a_retrying_catalog_replay_whose_rq_job_redis_lost_is_never_resumed_nor_surfaced(
    installed, redis_conn, monkeypatch, env  # noqa: F811
) -> None:
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    shop_id = installed.shop_id
    catalog_flow.run_flow(shop_id, "products", client=installed.client())
    assert _message(shop_id, "product:10").status == MessageStatus.DONE.value

    # A person's Replay of product 10 (say, a title edited by hand in Shopify) while Shopify is down.
    installed.mutations.fail_after = installed.mutations.count()
    message = _message(shop_id, "product:10")
    _job_id, enqueued = enqueue_replay(message, redis_conn, person_replay=True)
    assert enqueued
    catalog = Queue(queues.CATALOG, connection=redis_conn)
    build_worker((catalog.name,), simple=True, conn=redis_conn).work(burst=True, with_scheduler=False)
    assert _message(shop_id, "product:10").status == MessageStatus.RETRYING.value
    assert ScheduledJobRegistry(queue=catalog).get_job_ids()  # RQ holds the retry...

    redis_conn.flushall()  # ...until Redis restarts without its data
    installed.mutations.fail_after = None  # Shopify is back

    with session_scope() as session:  # an hour passes
        session.execute(
            update(Message)
            .where(Message.shop_id == shop_id, Message.status == MessageStatus.RETRYING.value)
            .values(updated_at=utcnow() - timedelta(hours=1))
        )
    catalog_flow.run_flow(shop_id, "products", client=installed.client())  # scheduled passes go on
    run_catch_up(shop_id)  # the orders catch-up runs too (order flows only)

    with MailServer() as server:
        env.setenv("SMTP_URL", server.url)
        env.setenv("ALERT_MAIL_FROM", "alertas@integracao.com.br")
        with session_scope() as session:
            session.get(Shop, shop_id).settings = {"alert_emails": ["ecommerce@loja.com.br"]}
        told = alerts.run(shop_id)

    message = _message(shop_id, "product:10")
    with session_scope() as session:
        lost = stuck.read(session, shop_id, get_redis()).counts()
    # Still "retrying" (the page says "Retrying": done automatically) an hour after its job vanished:
    # it should be resumed, or at least counted interrupted / e-mailed like a lost pending unit.
    assert (
        message.status != MessageStatus.RETRYING.value
        or lost.get("products")
        or told.get("items")
    ), f"status={message.status} stuck={lost} alert={told} error={message.error_text!r}"
