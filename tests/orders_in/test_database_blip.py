"""The database failing under an order's import (a deadlock, a PostgreSQL restart or failover):
the order waits for it like for Redis or the ERP (retrying, RQ's Retry), never a failed order that
no catch-up sends and only a person's Retry would."""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from jobs import orders
from jobs.order_catch_up import run_catch_up
from ledger import kv, queues
from ledger.db import session_scope
from ledger.models import ErrorClass, InboxStatus, MessageStatus, WebhookInbox

# The deliveries whose import meets the blip; the orders/risk_assessment_changed of Shopify's own
# verdict at checkout leaves a retrying order to its retries (jobs.orders.on_risk_changed).
MET_IT = WebhookInbox.topic.in_(("orders/create", "orders/paid"))


def test_a_database_blip_during_an_import_leaves_the_order_retrying_and_it_is_imported(world, monkeypatch):
    real = orders.variants_for
    blips = []

    def blip_twice(*args, **kwargs):
        if len(blips) < 2:  # a failover of a few seconds: both deliveries (create, paid) meet it
            blips.append(1)
            raise OperationalError(
                "SELECT ... FROM bindings", {}, psycopg.OperationalError("server closed the connection")
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(orders, "variants_for", blip_twice)
    gid = world.place(gateway="pix")
    world.drain()
    assert len(blips) == 2
    message = world.message(gid)
    assert message.status == MessageStatus.RETRYING.value
    assert message.error_class == ErrorClass.TRANSIENT.value
    assert message.error_text.startswith("database unavailable (OperationalError")
    with session_scope() as session:  # the deliveries that met it (Shopify's risk verdict's left it)
        rows = session.execute(
            select(WebhookInbox.id, WebhookInbox.status, WebhookInbox.reason).where(MET_IT)
        ).all()
    assert rows and all(row.status == InboxStatus.ENQUEUED.value for row in rows), rows
    redis = kv.get_redis()
    jobs = [Job.fetch(queues.inbox_job_id(row.id), connection=redis) for row in rows]
    assert {job.get_status() for job in jobs} == {JobStatus.SCHEDULED}
    # The database is back; RQ's Retry comes due: the order reaches the ERP once.
    scheduled = ScheduledJobRegistry(queue=Queue(queues.ORDERS, connection=redis))
    for job in jobs:
        scheduled.requeue(job)
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1
    assert world.message(gid).status == MessageStatus.DONE.value


def test_a_database_blip_past_rqs_retries_is_sent_by_the_orders_catch_up(world, monkeypatch):
    """Its retries spent (the database down longer than RQ's backoff), the message is left retrying:
    the orders catch-up replays it, as it does any message whose job was lost."""
    real = orders.variants_for
    down = {"yes": True}

    def blip(*args, **kwargs):
        if down["yes"]:
            raise OperationalError("SELECT ... FROM bindings", {}, pg.DeadlockDetected("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(orders, "variants_for", blip)
    gid = world.place(gateway="pix")
    world.delivered()
    redis = kv.get_redis()
    with session_scope() as session:
        inbox_ids = session.scalars(select(WebhookInbox.id)).all()
    for inbox_id in inbox_ids:  # their last try
        job = Job.fetch(queues.inbox_job_id(inbox_id), connection=redis)
        job.retries_left = 0
        job.save()
    world.drain()
    assert world.message(gid).status == MessageStatus.RETRYING.value
    with session_scope() as session:  # the deliveries handed to the order's message, which says it
        rows = session.execute(select(WebhookInbox.status, WebhookInbox.reason).where(MET_IT)).all()
    assert rows and all(
        status == "processed"
        and reason.startswith("transient, retries exhausted: database unavailable")
        and f"handed to its orders message {world.message(gid).id}" in reason
        for status, reason in rows
    ), rows
    down["yes"] = False
    counts = run_catch_up(world.shop_id, stale_after_seconds=0)
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1, counts
    assert world.message(gid).status == MessageStatus.DONE.value
