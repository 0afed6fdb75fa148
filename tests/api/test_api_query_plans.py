"""At a chain's size the dashboard's 3 s poll, the Flows, Messages and Orders pages and the per-unit
job queries read through indexes, not the whole ledger. Each SELECT they send is EXPLAINed (ANALYZE)
on PostgreSQL seeded with 100,000 messages and 20,000 order links: no scan may read more than a
tenth of a table (what a full read costs grows with the chain: 0.1-0.6 s a request at a million
messages, every 3 s for the poll), and no plan may cost enough to be JIT-compiled (~200 ms of
compiling on every page load). Plans, not timings: the figures are in docs/benchmarks.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from spine_auth.factories import SHOP_A, SHOP_B, token_response
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from ledger import trace
from ledger.db import session_scope
from ledger.models import Role, StaffRole, utcnow
from shopify_app.oauth import install
from shopify_app.token_endpoint import TokenSet
from tests.api.conftest import USERS, Shops, headers
from tests.conftest import _truncate

MESSAGES = 100_000
ROWS_BOUND = MESSAGES // 10  # a page load or a poll
UNIT_BOUND = MESSAGES // 100  # a job's query about one unit (an order, a company's stock)

# Shop A: a year's mix of flows and outcomes, one message every 31.5 s (and one webhook, a
# thousandth of them failed); orders (and their edits,
# invoices, cancellations) carry the order's gid, NROPEDVENDA and "#name" as the flows write them.
SEED = """
INSERT INTO messages (shop_id, flow, direction, unit_key, shopify_id, erp_id, search_text, status,
                      attempts, error_text, error_detail, request_payload, job_id, created_at, updated_at)
SELECT s.shop_id, s.flow, 'erp_to_shopify', s.flow || ':' || s.i,
       CASE WHEN s.ord THEN 'gid://shopify/Order/' || (5000000 + s.i / 5)
            ELSE 'gid://shopify/ProductVariant/' || s.i END,
       CASE WHEN s.ord THEN (700000 + s.i / 5)::text ELSE (s.i % 6000)::text END,
       CASE WHEN s.ord THEN '#' || (1000 + s.i / 5) || ' gid://shopify/order/' || (5000000 + s.i / 5)
                            || ' ' || (700000 + s.i / 5)
            ELSE 'sku-' || (s.i % 6000) || ' 789' || lpad((s.i % 6000)::text, 10, '0') END,
       s.status, 1,
       CASE WHEN s.status IN ('failed', 'parked') THEN 'refused' END,
       CASE s.status WHEN 'parked'
            THEN json_build_object('mapping', json_build_object('kind', 'payment_method', 'code', 'gw'))
                     WHEN 'failed' THEN json_build_object('erp_auth', false) END,
       json_build_object('nro_empresa', 1,
                         'lines', json_build_array(json_build_object('sku', 'sku-1', 'quantity', 2))),
       'job-' || s.i,
       now() - ((:n - s.i) * interval '31.5 seconds'),
       now() - ((:n - s.i) * interval '31.5 seconds') + interval '3 seconds'
FROM (
  SELECT i, :shop AS shop_id, f.flow, f.flow IN ('orders', 'order_edits', 'invoices', 'cancellations') AS ord,
         CASE WHEN (i::bigint * 7919) % 1000 < 850 THEN 'done'
              WHEN (i::bigint * 7919) % 1000 < 950 THEN 'skipped'
              WHEN (i::bigint * 7919) % 1000 < 970 THEN 'failed'
              WHEN (i::bigint * 7919) % 1000 < 980 THEN 'parked'
              WHEN (i::bigint * 7919) % 1000 < 985 THEN 'retrying'
              ELSE 'pending' END AS status
  FROM generate_series(1, :n) AS i,
       LATERAL (SELECT (ARRAY['stock','stock','stock','stock','stock','stock','prices','prices','prices',
                              'prices','skus','skus','products','orders','orders','orders','orders',
                              'order_edits','invoices','cancellations'])[1 + i % 20] AS flow) f
) s
-- the catalog's units first: written at the install, a run later upserts the same rows (their ids
-- stay the oldest while stock batches and orders take new ones)
ORDER BY s.flow NOT IN ('products', 'skus', 'prices'), s.i;
INSERT INTO messages (shop_id, flow, direction, unit_key, search_text, status, attempts, created_at,
                      updated_at)
SELECT :other, 'stock', 'erp_to_shopify', 'stock:' || i, 'sku-' || i, 'done', 1,
       now() - i * interval '1 minute', now() - i * interval '1 minute'
FROM generate_series(1, :n / 100) i;
INSERT INTO order_links (shop_id, shopify_order_id, shopify_order_name, nro_pedvenda, nro_empresa,
                         shopify_status, erp_status, currency, nfe_key, cancelled_at, needs_attention,
                         delivery_slot, slot_day, slot_time, created_at, updated_at)
SELECT :shop, 'gid://shopify/Order/' || (5000000 + n), '#' || (1000 + n),
       CASE WHEN n % 33 <> 0 THEN 700000 + n END, 1, 'paid', 'F', 'BRL',
       CASE WHEN n % 1000 <> 0 THEN lpad((35260000000000 + n)::text, 44, '0') END,  -- (a night: invoiced)
       CASE WHEN n % 37 = 0 THEN now() END,
       CASE WHEN n % 997 = 0 THEN 'orders: the ERP refused it' END,
       'Delivery-Date: ' || to_char(current_date + (n % 60 - 30), 'DD/MM/YYYY')
           || '; Delivery-Time: ' || lpad((8 + n % 12)::text, 2, '0') || '\\:00',
       current_date + (n % 60 - 30), lpad((8 + n % 12)::text, 2, '0') || '\\:00',
       now() - ((:n / 5 - n) * interval '157 seconds'), now() - ((:n / 5 - n) * interval '157 seconds')
FROM generate_series(1, :n / 5) n;
INSERT INTO webhook_inbox (webhook_id, event_id, topic, shop_domain, raw_body, headers, status, reason,
                           job_id, received_at, processed_at)
SELECT 'w-' || i, 'e-' || i, 'orders/updated', (SELECT domain FROM shops WHERE id = :shop),
       convert_to('{}', 'UTF8'), '{}', CASE WHEN i % 1000 = 0 THEN 'failed' ELSE 'processed' END,
       CASE WHEN i % 1000 = 0 THEN 'ValueError: handler bug' END, 'inbox-' || i,
       now() - ((:n - i) * interval '31.5 seconds'), now() - ((:n - i) * interval '31.5 seconds')
FROM generate_series(1, :n) i
"""

_SEEDED: dict[str, Any] = {}


@pytest.fixture
def database_url(pg_database_url) -> str:
    """Emptied once for the module, then kept: the seed is read by every test here."""
    if not _SEEDED.get("clean"):
        _truncate(pg_database_url)
        _SEEDED["clean"] = True
    return pg_database_url


@pytest.fixture
def shops(settings) -> Shops:
    """Shops A and B installed once for the module, each with staff of every role."""
    if "shops" not in _SEEDED:
        ids = []
        for domain in (SHOP_A, SHOP_B):
            shop_id = install(settings, domain, TokenSet.from_response(token_response()), actor="test")
            with session_scope(settings.database_url) as session:
                session.add_all(StaffRole(shop_id=shop_id, user_id=u, role=r.value) for r, u in USERS.items())
            ids.append(shop_id)
        _SEEDED["shops"] = Shops(*ids)
    return _SEEDED["shops"]


@pytest.fixture
def big(shops, settings):
    if "seeded" not in _SEEDED:
        engine = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in SEED.split(";\n"):
                conn.execute(text(statement), {"n": MESSAGES, "shop": shops.a, "other": shops.b})
            conn.execute(text("VACUUM ANALYZE messages"))
            conn.execute(text("VACUUM ANALYZE order_links"))
            conn.execute(text("VACUUM ANALYZE webhook_inbox"))
        engine.dispose()
        _SEEDED["seeded"] = True
    return shops


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """(statement, parameters) of every SELECT sent meanwhile."""
    seen: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "pg_catalog" not in statement:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _scans(node: dict, out: list[str], bound: int) -> None:
    if "Scan" in node["Node Type"] and node.get("Relation Name"):
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        read += node.get("Rows Removed by Index Recheck", 0)
        read *= node.get("Actual Loops", 1)
        if read > bound:
            out.append(
                f"{node['Node Type']} on {node['Relation Name']} {node.get('Index Name', '')}: {read} rows"
            )
    for child in node.get("Plans", []):
        _scans(child, out, bound)


def assert_bounded(url: str, seen: list[tuple[str, Any]], bound: int = ROWS_BOUND) -> None:
    assert seen, "no SQL captured"
    problems = []
    engine = create_engine(url)
    with engine.connect() as conn:
        jit_above = float(conn.execute(text("SHOW jit_above_cost")).scalar_one())
        for statement, params in seen:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).scalar_one()
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            found: list[str] = []
            _scans(plan["Plan"], found, bound)
            if plan["Plan"]["Total Cost"] >= jit_above or "JIT" in plan:
                found.append(f"cost {plan['Plan']['Total Cost']:.0f}: JIT-compiled")
            if found:
                problems.append(f"{' '.join(statement.split())[:200]}\n    " + "\n    ".join(found))
        conn.rollback()
    engine.dispose()
    assert not problems, "\n".join(problems)


def _get(client, path: str) -> list[tuple[str, Any]]:
    with captured() as seen:
        response = client.get(path, headers=headers(Role.ADMIN))
    assert response.status_code == 200, response.get_json()
    return seen


@pytest.mark.parametrize(
    "path",
    [
        "/api/flows/changes?since=x",  # the dashboard's 3 s poll
        "/api/flows",
        "/api/messages?q=%231102",  # an old order's name
        "/api/messages?q=7891234567890",  # a GTIN no message has
        "/api/orders?q=3526000001234",  # part of an NF-e key
        "/api/orders?q=2026-12-05",  # a delivery day (the slot's text, and as the slot writes it)
        "/api/orders?status=needs_attention",
        "/api/messages",
        # the dashboard's count links: its interrupted units, its done ones of the last 24 hours (a
        # flow with many, one with few: not the flow's every done message read back)
        "/api/messages?flow=orders&stuck=true",
        "/api/messages?stuck=true",
        "/api/messages?flow=stock&status=done&updated_since={since}",
        "/api/messages?flow=cancellations&status=done&updated_since={since}",
        # a catalog flow's units, the oldest ids of the ledger: not every newer message read first
        "/api/messages?flow=prices",
        "/api/messages?flow=products&status=skipped",
        "/api/messages?flow=prices&status=done&updated_since={since}",
        "/api/orders?status=in_erp",  # a night's few orders not invoiced yet among every order
        "/api/orders?q=12",  # an ERP order number shorter than a trigram: searched exactly
        "/api/orders",
        # a day's slots in the order they are picked (a sixtieth of the orders), and its next page
        "/api/orders?slot_day={today}",
        "/api/orders?slot_day={today}&after=13:00%7C9000",
        "/api/jobs/failed",  # a shop's failed webhooks among its every delivery
    ],
)
def test_pages_read_through_indexes(big, client, settings, path, monkeypatch):
    # A text search reads the newest ids in id order: as large a share of the ledger as at a million.
    monkeypatch.setattr(trace, "SEARCH_RECENT_IDS", trace.SEARCH_RECENT_IDS * MESSAGES // 1_000_000)
    since = quote((utcnow() - timedelta(hours=24)).isoformat())  # as /api/flows says finished_since
    today = utcnow().date().isoformat()
    assert_bounded(settings.database_url, _get(client, path.format(since=since, today=today)))


def test_order_page_reads_through_indexes(big, client, settings):
    with session_scope(settings.database_url) as session:
        link_id = session.execute(
            text("SELECT id FROM order_links WHERE shop_id = :s AND shopify_order_name = '#1102'"),
            {"s": big.a},
        ).scalar_one()
    seen = _get(client, f"/api/orders/{link_id}")
    assert_bounded(settings.database_url, seen)


def test_job_queries_read_through_indexes(big, settings):
    from jobs.invoices import _picking_applied
    from jobs.order_catch_up import _held_and_free, _stale
    from jobs.stock_pending import sold_since

    unit = SimpleNamespace(
        shop_id=big.a, event=SimpleNamespace(nro_pedvenda=700102), generation=0, message_id=0
    )
    with captured() as seen, session_scope(settings.database_url) as session:
        _picking_applied(session, unit, "3" * 44)
        _held_and_free(session, big.a)  # the orders catch-up, every few minutes per shop
        cutoff = utcnow() - timedelta(minutes=15)
        _stale(session, big.a, cutoff, waiting=False)  # its lost jobs, then its unpaid orders
        _stale(session, big.a, cutoff, waiting=True)
    with captured() as sold:
        sold_since(big.a, 1, utcnow() - timedelta(hours=1))
    assert_bounded(settings.database_url, seen + sold, bound=UNIT_BOUND)


def test_alert_queries_read_through_indexes(big, settings):
    """The alert run, every 15 minutes per shop with recipients: what changed since the last one
    (failed and parked messages, flagged orders, stopped schedules, failed webhooks) and the open
    totals; its fingerprints of what it told before, checked still open."""
    from jobs import alerts

    now = utcnow()
    with session_scope(settings.database_url) as session:
        told = {f"m{n}": "x" for n in range(1, 2000, 7)} | {f"w{n}": "x" for n in range(1000, 100_000, 1000)}
    with captured() as seen, session_scope(settings.database_url) as session:
        alerts.collect(session, big.a, now - alerts.FIRST_LOOK, now, told, "pt-BR")
        alerts.open_counts(session, big.a)
    assert_bounded(settings.database_url, seen)


def test_a_page_of_interrupted_units_asks_redis_a_few_times_not_once_a_row(big, client, monkeypatch):
    """Each row of a page asked Redis whether its job was lost, one round trip each (a page of 200
    waited ~0.2-0.6 s on a managed Redis 1 ms away): now the page's jobs in one pipeline."""
    import redis

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    response = client.get("/api/messages?stuck=true&limit=200", headers=headers(Role.ADMIN))
    rows = response.get_json()["messages"]
    assert len(rows) == 200 and all(r["stuck"] for r in rows)
    assert len(sent) <= 10, f"{len(sent)} Redis round trips for a page of {len(rows)} messages"


@pytest.mark.parametrize("path", ["/api/orders?q=zz", "/api/messages?q=ab", "/api/messages?q=12"])
def test_a_search_shorter_than_a_trigram_is_refused_not_a_read_of_every_row(big, client, path):
    """A substring of 1-2 characters is read through no index (pg_trgm's trigrams): "zz" read every
    order the shop ever had (0.4 s at 300,000), "ab" every message. The Orders page takes a shorter
    number as an ERP order number, exactly."""
    refused = client.get(path, headers=headers(Role.ADMIN))
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"] == {"q": "must be at least 3 characters"}
