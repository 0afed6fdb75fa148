"""The shared leaky bucket on a real Redis: waits computed from the bucket state, no overspending."""

from __future__ import annotations

import threading

import pytest
import redis

from shopify_app.admin_api.pacing import DEFAULT_ESTIMATE, BucketPacer, QueryCost, parse_cost
from tests.admin_api.conftest import SHOP, URL, FakeClock, cost_ext, gql_body


def status(available: float, actual: float | None = 10, requested: float = 10) -> QueryCost:
    return QueryCost(
        requested=requested,
        actual=actual,
        maximum_available=2000,
        currently_available=available,
        restore_rate=100,
    )


def test_parse_cost_reads_extensions():
    cost = parse_cost(cost_ext(requested=52, actual=12, available=1948))
    assert cost == QueryCost(52, 12, 2000, 1948, 100)
    assert cost.has_status
    assert parse_cost(None) is None
    assert parse_cost({}) is None


def test_a_fresh_bucket_is_full_and_does_not_wait(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    assert pacer.acquire(100) == 0
    assert clock.sleeps == []
    assert pacer.state()["available"] == 1900


def test_waits_exactly_until_the_bucket_holds_the_cost(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reconcile(0, status(available=30))  # Shopify says 30 points are left
    assert pacer.acquire(80) == pytest.approx(0.5)  # 50 missing at 100/s
    assert clock.sleeps == [pytest.approx(0.5)]


def test_time_restores_points_at_the_restore_rate(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reconcile(0, status(available=0))
    clock.now += 0.7  # 70 points restored
    assert pacer.reserve(100) == pytest.approx(0.3)


def test_restoration_never_exceeds_the_maximum(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reconcile(0, status(available=1990))
    clock.now += 3600
    pacer.reserve(0)
    assert pacer.state()["available"] == 2000


def test_reconcile_rebases_on_shopify_minus_reservations_in_flight(redis_conn, clock):
    a = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    b = BucketPacer(
        redis.Redis(connection_pool=redis_conn.connection_pool), SHOP, clock=clock, sleep=clock.sleep
    )
    a.reserve(100)
    b.reserve(100)  # b's call is in flight: Shopify has not seen it yet
    assert a.reconcile(100, status(available=1500)) == 1400
    assert a.state()["pending"] == 100


def test_estimate_over_reservation_is_refunded_without_throttle_status(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reserve(100)
    pacer.reconcile(100, QueryCost(100, 12, None, None, None))
    assert pacer.state()["available"] == 1988
    pacer.reserve(100)
    pacer.reconcile(100, None)  # never reached Shopify: everything back
    assert pacer.state()["available"] == 1988


def test_two_workers_sharing_redis_do_not_spend_the_same_points(redis_server, clock):
    """30 reservations of 100 points from two clients at one instant: 20 fit, the rest queue 1 s apart."""
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = redis.Redis.from_url(redis_server.url)
        pacer = BucketPacer(conn, SHOP, clock=clock, sleep=lambda s: None)
        for _ in range(15):
            wait = pacer.reserve(100)
            with lock:
                waits.append(wait)
        conn.close()

    redis.Redis.from_url(redis_server.url).flushall()
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([0.0] * 20 + [float(n) for n in range(1, 11)])


def test_client_reserves_the_last_requested_cost_of_the_operation(client, http, redis_conn, clock):
    http.post(
        URL,
        [
            {"json": gql_body({"job": {"id": "j", "done": True}}, requested=2, actual=1, available=30)},
            {"json": gql_body({"job": {"id": "j", "done": True}}, requested=2, actual=1, available=28)},
        ],
    )
    pacer = client.executor.pacer
    assert pacer.estimate("Job") == DEFAULT_ESTIMATE
    client.job("j")
    assert pacer.estimate("Job") == 2
    assert pacer.state()["available"] == 30
    client.job("j")
    assert clock.sleeps == []  # 30 available, 2 needed: no wait


def test_client_waits_for_the_bucket_before_sending(client, http, redis_conn, clock):
    http.post(URL, json=gql_body({"job": {"id": "j", "done": True}}, requested=50, actual=50, available=10))
    client.job("j")  # learns the cost (50) and the bucket (10 left)
    client.job("j")
    assert clock.sleeps == [pytest.approx(0.4)]


def test_fake_clock_is_the_only_time_source(clock: FakeClock):
    clock.sleep(1.5)
    assert clock() == 1_000_001.5
