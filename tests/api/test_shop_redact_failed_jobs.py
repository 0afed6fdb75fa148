"""shop/redact drops the shop's failed jobs that ledger.failed_job_shops attributes to it, not only
its scheduled runs (run_outcome meta) or jobs naming its domain: a failed order import or a
replay of one of its messages (first argument its id, or one of its messages) whose traceback
quotes a customer would otherwise stay in Redis (FAILURE_TTL, 30 days) after the shop's data was
erased. Another shop's failed job stays."""

from __future__ import annotations

import sys
import types

import pytest
from rq import Queue, SimpleWorker
from spine_auth.factories import SHOP_A
from sqlalchemy import update

from jobs import compliance
from jobs.inbox import WebhookEvent
from ledger import queues
from ledger.db import session_scope
from ledger.models import Message, Shop, ShopStatus, utcnow

EMAIL = "ana.cliente@example.com.br"
PROBE = "jobs.review_probe_redact"


def _fails(*_args):
    raise ValueError(f"customer {EMAIL} has no usable document")


@pytest.fixture
def probe(monkeypatch):
    module = types.ModuleType(PROBE)
    module.import_order = _fails
    module.replay = _fails
    monkeypatch.setitem(sys.modules, PROBE, module)
    return module


def _fail(rq, func: str, *args, job_id: str) -> str:
    job = queues.enqueue(f"{PROBE}.{func}", *args, queue=queues.ORDERS, job_id=job_id, retry=False, conn=rq)
    SimpleWorker([Queue(queues.ORDERS, connection=rq)], connection=rq).work(burst=True, with_scheduler=False)
    return job.id


def _failed(rq) -> dict[str, str]:
    return {j["id"]: j["exc"] for j in queues.failed_jobs(queues.ORDERS, conn=rq)}


def _redact_shop_a(shops) -> None:
    with session_scope() as session:
        session.execute(update(Shop).where(Shop.id == shops.a).values(status=ShopStatus.UNINSTALLED.value))
    compliance.shop_redact(
        WebhookEvent(0, "shop/redact", SHOP_A, None, None, None, utcnow(), {"shop_domain": SHOP_A})
    )


def _message(shop_id: int, unit_key: str) -> int:
    with session_scope() as session:
        message = Message(shop_id=shop_id, flow="orders", unit_key=unit_key, direction="shopify_to_erp",
                          status="failed")  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def test_shop_redact_drops_a_failed_order_job_of_the_shop(shops, rq, probe):
    # as jobs.reconcile enqueues an order import: (shop_id, order id), no schedule meta
    job_id = _fail(rq, "import_order", shops.a, "gid://shopify/Order/5001", job_id="reconcile-import-1-5001")
    assert EMAIL in _failed(rq)[job_id]
    _redact_shop_a(shops)
    left = _failed(rq)
    assert job_id not in left, f"shop/redact left the shop's failed job quoting {EMAIL}: {left.get(job_id)!r}"


def test_shop_redact_drops_a_failed_replay_of_the_shops_message_and_leaves_another_shops(shops, rq, probe):
    mine = _fail(rq, "replay", _message(shops.a, "order-5002"), job_id="replay-a")
    theirs = _fail(rq, "replay", _message(shops.b, "order-5002"), job_id="replay-b")
    other_import = _fail(rq, "import_order", shops.b, "gid://shopify/Order/7001", job_id="import-b")
    assert {mine, theirs, other_import} <= set(_failed(rq))
    _redact_shop_a(shops)  # deletes shop A's messages: the replay is attributed before that
    left = _failed(rq)
    assert mine not in left, f"shop/redact left the replay of the shop's message: {left.get(mine)!r}"
    assert {theirs, other_import} <= set(left)
