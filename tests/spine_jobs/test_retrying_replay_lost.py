"""A person's Retry of a product message while Shopify was down left it retrying, its next try the
replay job's RQ retry. Redis lost that job (restarted without its data, the key evicted): nothing
tried the unit again (a catalog pass reads only what the ERP changed) and nothing said so: the
dashboard kept "retrying", no alert. A replay left retrying past trace.STALE_AFTER_SECONDS with no
job RQ holds is interrupted now, as a pending unit is; one a pass left retrying is that pass's to
take again (the variant limit's hold, a price due), and one whose RQ retry is scheduled is alive."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue

from ledger import stuck, trace
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.kv import get_redis
from ledger.models import Message, Shop, utcnow


def _retrying(shop_id: int, key: str, job_id: str, minutes: int) -> int:
    with session_scope() as session:
        message = trace.begin(session, shop_id, "products", key, "erp_to_shopify", erp_id=key, job_id=job_id)
        trace.fail(session, message, Transient("Shopify answered HTTP 503"))
        message.updated_at = utcnow() - timedelta(minutes=minutes)
        return message.id


def test_a_replay_left_retrying_with_its_job_lost_is_interrupted(jobs_env) -> None:
    with session_scope() as session:
        shop = Shop(domain="retry-perdido.myshopify.com", settings={}, status="active")
        session.add(shop)
        session.flush()
        shop_id = shop.id
    lost = _retrying(shop_id, "product:10", f"replay-{shop_id}-1-2", 20)
    _retrying(shop_id, "product:11", f"replay-{shop_id}-2-2", 5)  # its RQ retry may still come
    _retrying(shop_id, "product:12", f"products-{shop_id}-pass", 20)  # a pass's: the next pass's
    alive = _retrying(shop_id, "product:13", f"replay-{shop_id}-3-2", 20)
    conn = get_redis()
    Queue("catalog", connection=conn).enqueue_in(  # RQ's next retry of that replay, scheduled
        timedelta(minutes=5), "jobs.products.replay", alive, job_id=f"replay-{shop_id}-3-2"
    )

    with session_scope() as session:
        found = stuck.read(session, shop_id, conn)
        assert found.counts() == {"products": 1}
        assert found.retrying_counts() == {"products": 1}  # also retrying: the dashboard adds it once
        listed = session.query(Message).where(*found.where()).all()
        assert [m.id for m in listed] == [lost]
        stale = {m.unit_key for m in session.query(Message) if trace.is_stale(m)}
        assert stale == {"product:10", "product:13"}  # the same rule, row by row (RQ asked apart)
