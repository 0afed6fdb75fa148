"""trace_bulk: many units begun and finished at once, with trace.begin's semantics."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger import trace
from ledger.errors import Rejected
from ledger.models import Message, MessageStatus
from ledger.trace_bulk import UnitStart, begin_many, restate_many, skip_many, succeed_many


def test_begin_many_is_begin_for_a_batch_and_a_rerun_counts_attempts(session, shop):
    units = [
        UnitStart(f"price:{n}", erp_id=str(n), search=[f"P{n}E1"], request={"n": n}) for n in range(1500)
    ]
    first = begin_many(session, shop.id, "prices", units, job_id="job-1")
    assert len(first) == 1500 and len(set(first)) == 1500
    # A unit that failed before is begun again: same row, error cleared, attempts counted.
    failed = session.get(Message, first[7])
    trace.fail(session, failed, Rejected("no", system="shopify"))
    again = begin_many(session, shop.id, "prices", units[:10], job_id="job-2")
    assert again == first[:10]
    session.expire_all()
    row = session.get(Message, first[7])
    assert (row.attempts, row.status, row.error_class, row.job_id) == (2, "pending", None, "job-2")
    assert "p7e1" in row.search_text and row.request_payload == {"n": 7}
    assert session.scalar(select(func.count()).select_from(Message)) == 1500

    succeed_many(session, [(first[0], {"ok": 1}), (first[1], {"ok": 1}), (first[2], {"ok": 2})])
    session.expire_all()
    done = [session.get(Message, i) for i in first[:3]]
    assert [m.status for m in done] == [MessageStatus.DONE.value] * 3
    assert [m.response_payload for m in done] == [{"ok": 1}, {"ok": 1}, {"ok": 2}]
    assert all(m.finished_at is not None for m in done)
    assert begin_many(session, shop.id, "prices", []) == []


def test_restate_keeps_the_attempt_and_skip_finishes_with_the_reason(session, shop):
    units = [UnitStart(f"product:{n}", erp_id=str(n), search=[f"P{n}"], request={"n": n}) for n in range(3)]
    ids = begin_many(session, shop.id, "products", units)
    # The same products mapped again within the attempt: new requests, still attempt 1.
    again = [UnitStart(u.unit_key, erp_id=u.erp_id, search=["EAN789"], request={"n": 10}) for u in units[:2]]
    restate_many(session, ids[:2], again)
    reason = "unchanged: Shopify already has this product"
    skip_many(session, ids[2:], reason, words=("catalog_unchanged", {}))
    session.expire_all()
    first, _, last = (session.get(Message, i) for i in ids)
    assert (first.attempts, first.status, first.request_payload) == (1, "pending", {"n": 10})
    assert "ean789" in first.search_text
    assert (last.status, last.error_text) == (
        MessageStatus.SKIPPED.value,
        "unchanged: Shopify already has this product",
    )
    assert last.finished_at is not None and last.attempts == 1
    assert last.error_detail == {
        "skip": {"key": "catalog_unchanged", "params": {}}
    }  # its words for the pages
