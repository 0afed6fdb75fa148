"""The shared leaky bucket on a real Redis: waits computed from the bucket state, no overspending."""

from __future__ import annotations

import threading

import pytest
import redis

from shopify_app.admin_api.client import build_client
from shopify_app.admin_api.executor import RetryPolicy
from shopify_app.admin_api.pacing import (
    DEFAULT_ESTIMATE,
    LEASE_SECONDS,
    BucketPacer,
    QueryCost,
    new_lease,
    parse_cost,
)
from tests.admin_api.conftest import BASE, SHOP, URL, FakeClock, cost_ext, gql_body


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
    own = new_lease(100)
    a.reserve(100, own)
    b.reserve(100)  # b's call is in flight: Shopify has not seen it yet
    assert a.reconcile(100, status(available=1500), own) == 1400
    assert a.state()["pending"] == 100


def test_estimate_over_reservation_is_refunded_without_throttle_status(redis_conn, clock):
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    first, second = new_lease(100), new_lease(100)
    pacer.reserve(100, first)
    pacer.reconcile(100, QueryCost(100, 12, None, None, None), first)
    assert pacer.state()["available"] == 1988
    pacer.reserve(100, second)
    pacer.reconcile(100, None, second)  # never reached Shopify: everything back
    assert pacer.state() == {**pacer.state(), "available": 1988, "pending": 0}


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


class JobTimeout(Exception):
    """What RQ's death penalty raises in the work horse (rq.timeouts.JobTimeoutException)."""


def test_a_reservation_whose_wait_the_job_timeout_cuts_short_is_given_back(redis_conn, http):
    """The job's timeout fires while the pacer sleeps for points (a catalog sync emptied the bucket):
    the reservation goes back at once, so Shopify's full bucket later reads as full."""
    clock = FakeClock()

    def timed_out(seconds: float) -> None:
        raise JobTimeout("Task exceeded maximum timeout value")

    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reconcile(0, status(available=0))
    client = build_client(SHOP, base_url=BASE, api_version="2026-10", extra_headers={"Host": SHOP},
                          token_provider=lambda refused: "tok", redis_conn=redis_conn,
                          retry=RetryPolicy(max_attempts=2), sleep=timed_out, clock=clock)  # fmt: skip
    with pytest.raises(JobTimeout):
        client.executor.query("ShopTimezone")
    assert pacer.state()["pending"] == 0
    clock.now += 600
    http.post(URL, json=gql_body({"shop": {"ianaTimezone": "America/Sao_Paulo"}}, available=2000))
    client.executor.pacer.sleep = clock.sleep
    client.executor.query("ShopTimezone")
    assert pacer.state()["pending"] == 0 and pacer.state()["available"] == pytest.approx(2000)


def test_a_reservation_the_job_timeout_interrupts_on_the_wire_is_given_back(redis_conn, http, clock):
    def timed_out(request, context):
        raise JobTimeout("Task exceeded maximum timeout value")

    http.post(URL, text=timed_out)
    client = build_client(SHOP, base_url=BASE, api_version="2026-10", extra_headers={"Host": SHOP},
                          token_provider=lambda refused: "tok", redis_conn=redis_conn, sleep=clock.sleep,
                          clock=clock)  # fmt: skip
    with pytest.raises(JobTimeout):
        client.executor.query("ShopTimezone")
    assert BucketPacer(redis_conn, SHOP, clock=clock).state()["pending"] == 0
    assert len(http.request_history) == 1


def test_a_reservation_never_settled_stops_counting_once_its_lease_lapses(redis_conn, clock):
    """A worker killed mid-call (SIGKILL: no finally) leaves its reservation behind. It counts as in
    flight for its lease only; a later re-base on Shopify's full bucket then reads full, and leaks
    never add up however busy the shop stays."""
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reserve(100)  # the killed call's
    assert pacer.reconcile(0, status(available=2000)) == 1900  # in flight: Shopify has not seen it
    clock.now += LEASE_SECONDS + 1
    assert pacer.state()["pending"] == 0
    assert pacer.reconcile(0, status(available=2000)) == 2000
    for _ in range(25):  # one killed call every 20 min, and the shop never idle for an hour
        pacer.reserve(100)
        clock.now += 1200
        pacer.reconcile(0, status(available=2000))
    assert pacer.reserve(10) == 0.0 and pacer.state()["pending"] == 10


def test_a_lease_counts_from_the_end_of_its_wait(redis_conn, clock):
    """A reservation that waits long for points (a big call from an empty bucket) is still in flight
    until LEASE_SECONDS after its wait ends, not LEASE_SECONDS after it was made."""
    pacer = BucketPacer(redis_conn, SHOP, clock=clock, sleep=clock.sleep)
    pacer.reconcile(0, status(available=0))
    assert pacer.reserve(1500) == pytest.approx(15)
    clock.now += LEASE_SECONDS + 10
    assert pacer.state()["pending"] == 1500
    clock.now += 10
    assert pacer.state()["pending"] == 0
