"""The message trace on SQLite and PostgreSQL: one row per unit, classified failures, dashboard queries."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, select, text

from ledger import trace
from ledger.db import get_sessionmaker
from ledger.errors import MappingMissing, Rejected, Transient
from ledger.models import Message, MessageStatus

FLOW = "orders"
OUT = "shopify_to_erp"


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Message))


def test_begin_writes_the_row_and_a_retry_reuses_it(session, shop):
    first = trace.begin(
        session,
        shop.id,
        FLOW,
        "order:1001",
        OUT,
        shopify_id="gid://shopify/Order/1",
        search=["#1001"],
        request={"a": 1},
        job_id="job-1",
    )
    session.commit()
    assert first.id is not None and first.attempts == 1 and first.status == MessageStatus.PENDING.value
    assert first.search_text == "gid://shopify/order/1 #1001"
    trace.fail(session, first, Transient("ERP down"))
    session.commit()

    again = trace.begin(session, shop.id, FLOW, "order:1001", OUT, erp_id="555", search=["#1001"])
    session.commit()
    assert again.id == first.id and count(session) == 1
    assert again.attempts == 2
    assert again.status == MessageStatus.PENDING.value
    assert again.error_class is None and again.error_text is None and again.error_detail is None
    assert again.shopify_id == "gid://shopify/Order/1"  # kept when not given again
    assert again.erp_id == "555"
    assert again.request_payload == {"a": 1} and again.job_id == "job-1"
    assert again.search_text == "gid://shopify/order/1 #1001 555"  # earlier ids stay findable


def test_units_are_per_shop_and_flow(session, shop, other_shop):
    trace.begin(session, shop.id, FLOW, "k", OUT)
    trace.begin(session, shop.id, "invoices", "k", OUT)
    trace.begin(session, other_shop.id, FLOW, "k", OUT)
    session.commit()
    assert count(session) == 3


def test_succeed_and_skip(session, shop):
    message = trace.begin(session, shop.id, FLOW, "order:1002", OUT, search=["#1002"])
    trace.succeed(session, message, response={"nroPedVenda": 777}, erp_id="777", search=["NF-E-KEY"])
    session.commit()
    session.expire_all()
    row = session.get(Message, message.id)
    assert row.status == MessageStatus.DONE.value and row.finished_at is not None
    assert row.response_payload == {"nroPedVenda": 777} and row.erp_id == "777"
    assert row.search_text == "#1002 777 nf-e-key"

    # absent payloads and cleared errors are SQL NULL (not JSON 'null'): redaction queries rely on it
    nulls = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.error_detail.is_(None), Message.request_payload.is_(None), Message.id == message.id)
    )
    assert nulls == 1

    other = trace.begin(session, shop.id, "skus", "sku:1", "erp_to_shopify")
    trace.skip(session, other, "unchanged digest")
    session.commit()
    session.expire_all()
    row = session.get(Message, other.id)
    assert row.status == MessageStatus.SKIPPED.value and row.error_text == "unchanged digest"


@pytest.mark.parametrize(
    ("exc", "status", "error_class"),
    [
        (MappingMissing("payment_method", "pix"), MessageStatus.PARKED, "mapping_missing"),
        (Transient("timeout", retry_after=5), MessageStatus.RETRYING, "transient"),
        (Rejected("CPF inválido", system="consinco", code="E12"), MessageStatus.FAILED, "rejected"),
        (KeyError("nroEmpresa"), MessageStatus.FAILED, "bug"),
        # RQ's job timeout ends a hung job (an ERP socket that never answered): its Retry runs it again
        (
            JobTimeoutException("Task exceeded maximum timeout value (900 seconds)"),
            MessageStatus.RETRYING,
            "transient",
        ),
    ],
)
def test_fail_classifies(session, shop, exc, status, error_class):
    message = trace.begin(session, shop.id, FLOW, "order:1", OUT)
    try:
        raise exc
    except Exception as raised:  # a real traceback, as flows will have
        assert trace.fail(session, message, raised) is status
    session.commit()
    session.expire_all()
    row = session.get(Message, message.id)
    assert row.status == status.value and row.error_class == error_class
    if error_class == "mapping_missing":
        assert row.error_detail["mapping"] == {"kind": "payment_method", "code": "pix"}
    if error_class == "rejected":
        assert row.error_text == "CPF inválido"
        assert row.error_detail["system"] == "consinco" and row.error_detail["code"] == "E12"
    if error_class == "bug":
        assert row.error_text == "KeyError: 'nroEmpresa'"
        assert "Traceback" in row.error_detail["traceback"] and "raise exc" in row.error_detail["traceback"]


def test_parked_waiting_for(session, shop, other_shop):
    parked = []
    for key, (kind, code) in {
        "o1": ("payment_method", "pix"),
        "o2": ("payment_method", "pix"),
        "o3": ("payment_method", "boleto"),
        "o4": ("carrier", "pix"),
    }.items():
        message = trace.begin(session, shop.id, FLOW, key, OUT)
        trace.fail(session, message, MappingMissing(kind, code))
        parked.append(message)
    elsewhere = trace.begin(session, other_shop.id, FLOW, "o1", OUT)
    trace.fail(session, elsewhere, MappingMissing("payment_method", "pix"))
    resumed = trace.begin(session, shop.id, FLOW, "o5", OUT)
    trace.fail(session, resumed, MappingMissing("payment_method", "pix"))
    trace.begin(session, shop.id, FLOW, "o5", OUT)  # retried: pending, no longer parked
    session.commit()
    found = trace.parked_waiting_for(session, shop.id, "payment_method", "pix")
    assert [m.unit_key for m in found] == ["o1", "o2"]


def test_counts_per_hour_and_search(session, shop, other_shop):
    now = datetime.now(UTC)
    three_ago, one_ago = now - timedelta(hours=3), now - timedelta(hours=1)
    for i in range(3):
        done = trace.begin(session, shop.id, "skus", f"sku:{i}", "erp_to_shopify", erp_id=f"SKU-{i}")
        trace.succeed(session, done)
        done.updated_at = three_ago
    failed = trace.begin(session, shop.id, FLOW, "order:1001", OUT, search=["#1001", "NROPED-55"])
    trace.fail(session, failed, Rejected("no", system="consinco"))
    failed.updated_at = one_ago
    old = trace.begin(session, shop.id, FLOW, "order:900", OUT)
    old.updated_at = now - timedelta(days=2)
    trace.begin(session, other_shop.id, "skus", "sku:0", "erp_to_shopify")
    session.commit()

    # Open units count whatever their age (order:900, begun two days ago and left pending, lost
    # its job); done and skipped only since the given time.
    assert trace.dashboard_counts(session, shop.id, now - timedelta(hours=24)) == {
        "skus": {"done": 3},
        "orders": {"failed": 1, "pending": 1},
    }
    assert trace.dashboard_counts(session, shop.id, now - timedelta(hours=2)) == {
        "orders": {"failed": 1, "pending": 1},
    }
    assert trace.per_hour(session, shop.id, now - timedelta(hours=24)) == [
        (three_ago.replace(minute=0, second=0, microsecond=0), "skus", "done", 3),
        (one_ago.replace(minute=0, second=0, microsecond=0), "orders", "failed", 1),
    ]

    assert [m.unit_key for m in trace.search(session, shop.id, text="#1001")] == ["order:1001"]
    assert [m.unit_key for m in trace.search(session, shop.id, text="nroped-55")] == ["order:1001"]
    assert [m.unit_key for m in trace.search(session, shop.id, text="sku-1")] == ["sku:1"]
    assert trace.search(session, shop.id, text="%") == []
    assert len(trace.search(session, shop.id, flow="skus")) == 3
    assert len(trace.search(session, shop.id, status="failed")) == 1
    page1 = trace.search(session, shop.id, limit=2)
    page2 = trace.search(session, shop.id, limit=2, before_id=page1[-1].id)
    ids = [m.id for m in page1 + page2]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4


@pytest.mark.parametrize("recent", [1, 3, 20_000])
def test_text_search_pages_newest_first_across_the_recent_ids(session, shop, other_shop, monkeypatch, recent):
    """On PostgreSQL a text search reads the newest ids in id order, then the older matches through
    the trigram index: the pages are the same newest-first pages, wherever that boundary falls."""
    monkeypatch.setattr(trace, "SEARCH_RECENT_IDS", recent)
    for i in range(8):
        trace.begin(session, shop.id, "skus", f"sku:{i}", "erp_to_shopify", search=[f"SKU-{i % 2}"])
        trace.begin(session, other_shop.id, "skus", f"sku:{i}", "erp_to_shopify", search=["SKU-0"])
    session.commit()
    wanted = [f"sku:{i}" for i in (6, 4, 2, 0)]

    assert [m.unit_key for m in trace.search(session, shop.id, text="sku-0")] == wanted
    page1 = trace.search(session, shop.id, text="sku-0", limit=3)
    page2 = trace.search(session, shop.id, text="sku-0", limit=3, before_id=page1[-1].id)
    assert [m.unit_key for m in page1 + page2] == wanted
    assert [m.unit_key for m in trace.search(session, shop.id, text="sku-1", limit=2)] == ["sku:7", "sku:5"]


def _postgres_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("row-lock interleaving is a PostgreSQL property")


def test_concurrent_begin_waits_and_counts_both_attempts(any_database_url, session, shop):
    """B begins the unit while A's insert is uncommitted: B waits on the row, then reuses it."""
    _postgres_only(any_database_url)
    maker = get_sessionmaker(any_database_url)
    a, b = maker(), maker()
    errors: list[BaseException] = []
    try:
        first = trace.begin(a, shop.id, FLOW, "order:race", OUT)
        b_pid = b.execute(text("select pg_backend_pid()")).scalar_one()

        def run_b() -> None:
            try:
                trace.begin(b, shop.id, FLOW, "order:race", OUT)
                b.commit()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run_b)
        thread.start()
        for _ in range(500):  # wait until B is really blocked on A's row
            waiting = session.execute(
                text("select wait_event_type from pg_stat_activity where pid = :pid"), {"pid": b_pid}
            ).scalar()
            session.rollback()
            if waiting == "Lock":
                break
            time.sleep(0.01)
        else:
            pytest.fail("B never waited on A's uncommitted row")
        a.commit()
        thread.join(timeout=30)
        assert not errors
    finally:
        a.close()
        b.close()
    session.expire_all()
    rows = session.scalars(select(Message)).all()
    assert len(rows) == 1 and rows[0].id == first.id and rows[0].attempts == 2


def test_many_threads_begin_the_same_unit(any_database_url, shop):
    threads, rounds = 4, 5
    barrier = threading.Barrier(threads)
    maker = get_sessionmaker(any_database_url)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                with maker() as s:
                    trace.begin(s, shop.id, FLOW, "order:crowd", OUT)
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors
    with maker() as s:
        rows = s.scalars(select(Message)).all()
        assert len(rows) == 1 and rows[0].attempts == threads * rounds


def test_search_text_tokens_are_each_values_own_lower_cased_and_deduplicated() -> None:
    """search_text lowers and splits the values joined at once (a catalog load builds ~35,000):
    the tokens are those of each value alone, in order, once each."""
    from ledger.trace import SEARCH_TEXT_MAX, search_text

    assert search_text([None, "919"], ["919", "P919E1", "p919e1", "  7891 \t 7891\n"], [42, None]) == (
        "919 p919e1 7891 42"
    )
    assert search_text(["ΟΔΟΣ", "ΣΑΣ"]) == "οδος σας"  # a final sigma stays final at each value's end
    assert search_text([], [None]) == ""
    assert len(search_text(["x" * 300, "y" * 300])) == SEARCH_TEXT_MAX


def test_fail_keeps_the_failures_words_beside_its_english_text(session, shop):
    """A classified failure given words (ledger.words) keeps them under trace.FAIL, so the pages say
    it in the merchant's language; error_text stays the English message and the detail what the
    UI needs (the mapping a parked unit waits for)."""
    worded = trace.begin(session, shop.id, FLOW, "order:w", OUT)
    missing = MappingMissing("payment_method", "pix", "order #1: gateway 'pix' has no ERP payment form",
                             words=("payment_unmapped_one", {"order": "#1", "gateway": "pix"}))  # fmt: skip
    trace.fail(session, worded, missing)
    refused = trace.begin(session, shop.id, FLOW, "order:r", OUT)
    trace.fail(
        session, refused, Transient("Consinco down").worded("erp_unreachable", endpoint="/x", error="t")
    )
    plain = trace.begin(session, shop.id, FLOW, "order:p", OUT)
    trace.fail(session, plain, Rejected("CPF inválido", system="consinco"))
    session.commit()
    session.expire_all()
    row = session.get(Message, worded.id)
    assert row.error_text == "order #1: gateway 'pix' has no ERP payment form"
    assert row.error_detail[trace.FAIL] == {
        "key": "payment_unmapped_one",
        "params": {"order": "#1", "gateway": "pix"},
    }
    assert row.error_detail["mapping"] == {"kind": "payment_method", "code": "pix"}
    assert trace.parked_waiting_for(session, shop.id, "payment_method", "pix") == [row]
    assert session.get(Message, refused.id).error_detail[trace.FAIL]["key"] == "erp_unreachable"
    assert trace.FAIL not in session.get(Message, plain.id).error_detail  # no words: the English text
