"""Two lanes on the shared bucket (real Redis): background callers keep a reserve floor, so a
foreground call (an order) never queues behind a catalog sync."""

from __future__ import annotations

import pytest
import redis

from settings import ConfigurationError, Settings
from shopify_app.admin_api import build_client, for_shop
from shopify_app.admin_api.pacing import DEFAULT_BACKGROUND_FLOOR, BucketPacer, QueryCost, new_lease
from tests.admin_api.conftest import BASE, SHOP, URL, FakeClock, gql_body

FLOOR = 0.25  # 500 of Standard's 2000 points
ORDER_READ = 526.0  # OrderForErp's requested cost: what a foreground order read reserves


def status(available: float) -> QueryCost:
    return QueryCost(
        requested=10, actual=10, maximum_available=2000, currently_available=available, restore_rate=100
    )


def pacers(conn: redis.Redis, clock: FakeClock, floor: float = FLOOR) -> tuple[BucketPacer, BucketPacer]:
    """(background, foreground) views of one shop's bucket."""
    background = BucketPacer(conn, SHOP, clock=clock, sleep=clock.sleep, floor=floor)
    foreground = BucketPacer(conn, SHOP, clock=clock, sleep=clock.sleep)
    return background, foreground


def drain(pacer: BucketPacer, calls: int, cost: float = 15.0) -> None:
    """A catalog sync: `calls` calls in a row, each waiting for the bucket (the clock moves)."""
    for _ in range(calls):
        pacer.acquire(cost)


def test_background_waits_to_keep_the_floor_while_foreground_does_not(redis_conn, clock):
    background, foreground = pacers(redis_conn, clock)
    background.reconcile(0, status(available=600))
    assert background.reserve(150) == pytest.approx(0.5)  # 450 would be left: 50 short of 500
    assert foreground.reserve(150) == 0  # 300 left after it: enough for a foreground call
    assert background.state()["available"] == pytest.approx(300)


def test_a_drained_bucket_makes_an_order_wait_only_without_the_floor(redis_conn, clock):
    """The same catalog drain (2000 calls of 15 points, 30,000 points: ~5 minutes at 100/s) with
    and without lanes (the default floor: 600 points); then the order read arrives while one
    catalog call is still waiting."""
    background, foreground = pacers(redis_conn, clock, DEFAULT_BACKGROUND_FLOOR)
    drain(background, 2000)
    assert sum(clock.sleeps) > 250  # the drain ran at the restore rate, so the bucket is at its floor
    background.reserve(15)  # a second catalog worker has reserved and is waiting to send
    assert foreground.reserve(ORDER_READ) == 0  # the order goes at once
    # ...and the catalog steps back until the floor is back: 585 - 526 = 59 left, 59 - 15 = 44.
    assert background.reserve(15) == pytest.approx((600 - (59 - 15)) / 100)

    redis_conn.flushall()
    today = FakeClock()
    single_lane = BucketPacer(redis_conn, SHOP, clock=today, sleep=today.sleep)
    drain(single_lane, 2000)
    single_lane.reserve(15)
    assert single_lane.reserve(ORDER_READ) == pytest.approx((15 + ORDER_READ) / 100)  # ~4.9 s queued


def test_an_order_read_does_not_queue_behind_catalog_reads_still_waiting_to_be_sent(redis_conn, clock):
    """Two catalog workers each wait to send a 500-point read (their points taken off the level at
    once): the order read waited behind both (9 s), though Shopify's bucket, which has seen neither
    yet, held the 600 it needs. It goes at once; the next one waits for what its own cost needs."""
    background, foreground = pacers(redis_conn, clock, 0.3)
    assert background.reserve(1400) == 0  # a sync sent: 600 left, the floor
    waits = [background.reserve(500), background.reserve(500)]
    assert waits == [pytest.approx(5.0), pytest.approx(10.0)]
    assert foreground.reserve(ORDER_READ) == 0
    assert foreground.reserve(ORDER_READ) == pytest.approx((ORDER_READ - (600 - ORDER_READ)) / 100)
    clock.now += 5.0  # the first catalog read sends: its points count as spent, as Shopify's will
    level = 600 - 2 * ORDER_READ + 500 - 500  # the second catalog read still stands aside
    assert foreground.reserve(100) == pytest.approx((100 - level) / 100)


def test_a_foreground_call_larger_than_the_floor_waits_only_for_its_own_excess(redis_conn, clock):
    background, foreground = pacers(redis_conn, clock)
    drain(background, 300)
    assert foreground.reserve(700) == pytest.approx(2.0)  # 500 at hand, 200 more to restore


def test_the_floor_is_capped_so_a_large_background_call_still_runs(redis_conn, clock):
    background, _ = pacers(redis_conn, clock)
    assert background.reserve(1800) == 0  # 1800 + 500 > 2000: the floor becomes 200, met from full
    assert background.state()["available"] == pytest.approx(200)
    clock.now += 18  # full again
    assert background.reserve(2500) == 0  # more than the bucket holds: capped at 2000, floor 0
    assert background.state()["available"] == pytest.approx(0)
    # From an empty bucket it waits until the whole bucket has restored: long, never forever.
    assert background.reserve(1800) == pytest.approx(20.0)


def test_reconcile_is_the_same_for_both_lanes(redis_conn, clock):
    background, foreground = pacers(redis_conn, clock)
    behind, ahead = new_lease(100), new_lease(100)
    background.reserve(100, behind)
    foreground.reserve(100, ahead)  # the foreground call is in flight: Shopify has not seen it yet
    assert background.reconcile(100, status(available=1500), behind) == 1400
    assert background.state()["pending"] == 100
    assert foreground.reconcile(100, QueryCost(100, 12, None, None, None), ahead) == 1488  # refund 88
    assert foreground.state()["pending"] == 0


def test_a_floor_outside_0_to_1_is_refused(redis_conn):
    with pytest.raises(ValueError, match="fraction"):
        BucketPacer(redis_conn, SHOP, floor=1.0)
    with pytest.raises(ValueError, match="lane"):
        build_client(
            SHOP,
            base_url="http://x",
            api_version="2026-10",
            token_provider=lambda _refused: "t",
            lane="urgent",
        )


def test_for_shop_puts_a_client_in_its_lane_with_the_configured_floor(env, redis_conn):
    env.setenv("SHOPIFY_BASE_URL", "http://sandbox.example:8701")
    assert for_shop(SHOP, redis=redis_conn, token_provider=lambda _refused: "t").executor.pacer.floor == 0
    catalog = for_shop(SHOP, redis=redis_conn, token_provider=lambda _refused: "t", lane="background")
    assert catalog.executor.pacer.floor == 0.3
    env.setenv("SHOPIFY_BACKGROUND_FLOOR", "0.4")
    catalog = for_shop(SHOP, redis=redis_conn, token_provider=lambda _refused: "t", lane="background")
    assert catalog.executor.pacer.floor == 0.4
    assert catalog.bulk.executor is catalog.executor  # bulk polling runs in the client's lane


@pytest.mark.parametrize("raw", ["abc", "1", "-0.1", "nan"])
def test_a_bad_background_floor_setting_is_refused(monkeypatch, raw):
    monkeypatch.setenv("SHOPIFY_BACKGROUND_FLOOR", raw)
    with pytest.raises(ConfigurationError, match="SHOPIFY_BACKGROUND_FLOOR"):
        Settings.from_env()


def test_a_background_client_sends_once_its_floor_is_kept(redis_conn, http, clock):
    """Through the executor: the learned cost is reserved against the floor before sending."""
    http.post(URL, json=gql_body({"job": {"id": "j", "done": True}}, requested=50, actual=50, available=520))
    catalog = build_client(
        SHOP,
        base_url=BASE,
        api_version="2026-10",
        token_provider=lambda _refused: "t",
        redis_conn=redis_conn,
        sleep=clock.sleep,
        clock=clock,
        lane="background",
    )
    catalog.job("j")  # learns the cost (50) and the bucket (520 left)
    catalog.job("j")
    assert clock.sleeps == [pytest.approx(1.3)]  # 520 - 50 = 470: 130 short of the default 600 floor
