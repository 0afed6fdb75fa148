"""A stock pass hours into a bulk operation: its units are pending, their job alive in RQ. The
Messages page (api_messages.is_stuck: stale and RQ holds no job under message.job_id) must not
call them interrupted, and must not offer their Retry."""

from __future__ import annotations

import sys
import types
from datetime import timedelta

from rq import Queue, SimpleWorker
from sqlalchemy import select

from jobs import stock_writer
from ledger import queues, trace
from ledger.db import session_scope
from ledger.models import Message, utcnow

PROBE = "jobs.stock_bulk_probe_spine"
seen: list[tuple[str | None, bool]] = []


def test_units_of_a_running_stock_bulk_operation_are_not_shown_stuck(shop_id, rconn, monkeypatch):
    def run_bulk(*_args, **_kwargs):  # Shopify's bulk operation, still running 20 minutes on
        later = utcnow() + timedelta(minutes=20)
        with session_scope() as session:
            for message in session.scalars(select(Message).where(Message.flow == "stock")):
                stuck = trace.is_stale(message, later) and not queues.held(message.job_id, rconn)
                seen.append((message.job_id, stuck))
        raise RuntimeError("stop here")

    client = types.SimpleNamespace(bulk=types.SimpleNamespace(run=run_bulk))

    def probe(shop: int) -> None:
        lines = [("789", "gid://shopify/ProductVariant/9", "DENY")]
        stock_writer._send_policies_bulk(shop, client, 1, {"gid://shopify/Product/1": lines})

    module = types.ModuleType(PROBE)
    module.probe = probe
    monkeypatch.setitem(sys.modules, PROBE, module)
    monkeypatch.setattr(queues, "get_redis", lambda *_a, **_k: rconn, raising=False)
    queue = Queue("catalog", connection=rconn)
    job = queue.enqueue(f"{PROBE}.probe", shop_id, job_id="stock-pass-running")
    SimpleWorker([queue], connection=rconn).work(burst=True, with_scheduler=False)
    assert seen, job.latest_result().exc_string
    job_id, stuck = seen[0]
    assert not stuck, f"a unit of the running stock job is shown stuck/interrupted (its job_id: {job_id!r})"
