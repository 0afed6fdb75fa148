"""A message's replay (a person's Retry) failing transient through every one of RQ's retries: the
message does not stay "retrying" for ever, with its page saying it is retried automatically while
nothing will run it again. The last failure leaves it failed, saying the retries ran out and the
last error, offered for Retry."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from jobs import catalog_flow
from jobs.worker import build_worker
from ledger import queues
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from shopify_app.admin_api.executor import RetryPolicy
from shopify_app.enqueue import enqueue_replay

from .erp_writes import set_title


def _message(shop_id: int, key: str) -> Message:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(
                Message.shop_id == shop_id, Message.flow == "products", Message.unit_key == key
            )
        ).one()
        session.expunge(found)
        return found


def _work(conn, queue: Queue) -> None:
    build_worker((queue.name,), simple=True, conn=conn).work(burst=True, with_scheduler=False)


def _retries_now(queue: Queue) -> None:
    """Each retry RQ scheduled (10 s .. 5 min away), put on the queue at once."""
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))


def test_a_replay_failing_transient_through_every_retry_leaves_its_message_failed_saying_so(
    installed, redis_conn, monkeypatch
) -> None:
    from shopify_app.api_explain import explain

    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")
    installed.mutations.fail_after = installed.mutations.count()  # Shopify down from now on
    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    message = _message(installed.shop_id, "product:10")
    assert message.status == MessageStatus.RETRYING.value

    job_id, enqueued = enqueue_replay(message, redis_conn)  # a person's Retry
    assert enqueued
    catalog = Queue(queues.CATALOG, connection=redis_conn)
    _work(redis_conn, catalog)
    message = _message(installed.shop_id, "product:10")
    assert message.status == MessageStatus.RETRYING.value  # RQ runs it again: truly retrying
    for _ in queues.RETRY_INTERVALS:
        _retries_now(catalog)
        _work(redis_conn, catalog)
    assert FailedJobRegistry(queue=catalog).get_job_ids() == [queues.job_key(job_id)]

    message = _message(installed.shop_id, "product:10")
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    text = message.error_text or ""
    assert "retries ran out" in text and "503" in text, text
    assert message.error_detail["code"] == "RETRIES_RAN_OUT"
    said = explain(message, "en")
    assert "retried automatically" not in str(said), said
    assert said["title"] == "Automatic retries ran out" and "click Retry" in said["what_to_do"], said
    assert (
        said["system_message"].startswith("The automatic retries ran out") and "503" in said["system_message"]
    )
    pt = explain(message, "pt-BR")
    assert "Tentar de novo" in pt["what_to_do"], pt
    assert pt["system_message"].startswith("As novas tentativas automáticas se esgotaram"), pt

    installed.mutations.fail_after = None  # Shopify back: the person's Retry sends it
    enqueue_replay(message, redis_conn)
    _work(redis_conn, catalog)
    message = _message(installed.shop_id, "product:10")
    assert message.status == MessageStatus.DONE.value, message.error_text
