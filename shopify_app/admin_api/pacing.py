"""Cost-aware pacing: one leaky bucket per shop, shared by every worker through Redis.

Shopify meters each app+store pair with a leaky bucket (Standard: 2000 points, restoring 100/s)
and refuses a query whose *requested* cost exceeds what is available (THROTTLED). Sleeping a
fixed time wastes capacity; retrying on THROTTLED wastes calls. So before each call a worker
reserves the call's estimated cost in the shared bucket with one atomic Lua script: the bucket
may go into debt, and the script answers how long this caller must wait until its points have
restored. Reservations queue fairly (FIFO; the two lanes below) and two workers can never spend
the same points.

After the answer, `reconcile` hands back what the estimate over-reserved and, when Shopify sent
its `throttleStatus`, re-bases the bucket on Shopify's own figures minus the reservations still
in flight (which Shopify has not seen yet).

Two lanes, so an order never queues behind a catalog sync. A catalog flow (products, SKUs,
prices, stock, bulk polling, reconciliation) runs many calls in a row for minutes and keeps the
bucket near empty; an order read arriving then would wait for its whole requested cost to
restore behind it. So a BACKGROUND caller keeps a reserve floor (`SHOPIFY_BACKGROUND_FLOOR`, a
fraction of the bucket's maximum, 30% by default): its reservation waits until the bucket still
holds the floor after it, and background traffic oscillates around the floor instead of 0. A
FOREGROUND caller (orders, edits, invoices, cancellations: anything webhook-driven or
merchant-facing) reserves with floor 0 as before, so it spends the floor at once and waits only
for what its own cost needs beyond it; background callers then wait until the floor is back.
Both lanes draw on the one level, so every reservation is counted once. A foreground call may
overtake background calls already waiting: they planned to leave the floor behind them, so as
long as foreground calls take no more than the floor meanwhile, Shopify still admits them. Their
points, taken off the level when they reserved, are not in Shopify's bucket until they send: a
foreground reservation is admitted against the level with them added back (the shop's queued set:
background reservations scored by when they send), or an order read waited behind every catalog
read still waiting (two of 500 points: 9 s, Shopify holding the 600 it needed). Should foreground
calls take more than the floor meanwhile, a background call Shopify then refuses (THROTTLED) is
paced again on Shopify's own figures: the catalog yields, never the order. The
floor is capped at `max - cost`, so a background call larger than `max - floor` still runs
(from a fuller bucket) instead of waiting for a level the bucket cannot reach. The floor only
acts on `reserve`: `reconcile` (refunds, re-basing on Shopify's figures) is lane-blind.

Reservations in flight are leases, so one never settled cannot shrink the bucket for good. Each
reservation is a member of the shop's lease set (a ZSET next to the bucket hash: "<id>|<cost>",
scored by when it lapses: the moment its wait ends plus LEASE_SECONDS, four times the transport's
timeout), and `pending` is the sum of the live members, computed by each script after dropping the
lapsed ones. `reconcile` ends its own lease by name (a lease that lapsed already is not subtracted
twice). In the process, the executor settles a reservation on every way out of a call (an answer,
a network error, or any other exception: RQ's job timeout raised while the pacer sleeps or while
the call is on the wire), and `acquire` gives back a reservation whose wait was interrupted. A
worker killed outside Python (SIGKILL, the machine gone) leaves its lease behind: it stops counting
once it lapses. A single running sum of pending, refreshed with the hash's TTL by every call, kept
such a leak for as long as the shop had traffic.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis

log = logging.getLogger(__name__)

STANDARD_MAXIMUM = 2000.0
STANDARD_RESTORE_RATE = 100.0
STATE_TTL_SECONDS = 3600
# A query Shopify has never priced for us: assume a large one rather than get throttled.
DEFAULT_ESTIMATE = 100.0

Lane = Literal["foreground", "background"]
FOREGROUND: Lane = "foreground"
BACKGROUND: Lane = "background"
LANES: tuple[Lane, ...] = (FOREGROUND, BACKGROUND)
# The share of the bucket's maximum background callers leave for foreground ones (Standard: 600
# points, enough for an order read's requested 526, its lines' properties read since session 36,
# while a catalog sync runs; 25% before, 500 points for its 474).
DEFAULT_BACKGROUND_FLOOR = 0.3

# How long a reservation counts as in flight once its wait is over (its call's answer, settled by
# `reconcile`, comes within the transport's 30 s timeout): then it lapses (module docstring).
LEASE_SECONDS = 120.0

# The reservations in flight: the live members of the lease set (KEYS[2]), each "<id>|<cost>",
# lapsed ones dropped first. `now` and `max` are the script's locals.
_PENDING = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local pending = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  pending = pending + math.min(max, tonumber(string.match(member, '|([^|]*)$')) or 0)
end
"""

# KEYS[1] bucket hash, KEYS[2] lease set, KEYS[3] the background reservations still waiting to be
# sent (a ZSET of lease members scored by when they send). ARGV: cost, now, default_max,
# default_rate, ttl, floor (a fraction of the maximum to leave in the bucket after this reservation;
# 0 for foreground), lease (its member), lease seconds. Returns the wait.
_RESERVE = (
    """
local s = redis.call('HMGET', KEYS[1], 'available', 'max', 'rate', 'ts')
local cost = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local max = tonumber(s[2]) or tonumber(ARGV[3])
local rate = tonumber(s[3]) or tonumber(ARGV[4])
local avail = tonumber(s[1]) or max
local ts = tonumber(s[4]) or now
"""
    + _PENDING
    + """
if now > ts then
  avail = math.min(max, avail + (now - ts) * rate)
  ts = now
end
if cost > max then cost = max end
local floor = tonumber(ARGV[6]) * max
if cost + floor > max then floor = max - cost end
-- Background reservations still waiting are not in Shopify's bucket yet: a foreground one is
-- admitted against the level they left (each planned to leave the floor behind it), not queued
-- behind their debt.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local queued = 0
if floor == 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    queued = queued + math.min(max, tonumber(string.match(member, '|([^|]*)$')) or 0)
  end
end
avail = avail - cost
pending = pending + cost
local wait = 0
if avail + queued < floor then wait = (floor - avail - queued) / rate end
redis.call('ZADD', KEYS[2], now + wait + tonumber(ARGV[8]), ARGV[7])
if floor > 0 and wait > 0 then
  redis.call('ZADD', KEYS[3], now + wait, ARGV[7])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
end
redis.call('HSET', KEYS[1], 'available', tostring(avail), 'max', tostring(max), 'rate', tostring(rate),
  'ts', tostring(ts), 'pending', tostring(pending))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return tostring(wait)
"""
)

# KEYS[1] bucket hash, KEYS[2] lease set, KEYS[3] waiting background reservations. ARGV: reserved,
# actual (-1 unknown), shopify_available
# (-1 unknown), shopify_max, shopify_rate, now, ttl, lease (its member; '' for none). Returns the
# new available (string).
_RECONCILE = (
    """
local s = redis.call('HMGET', KEYS[1], 'available', 'max', 'rate', 'ts')
local reserved = tonumber(ARGV[1])
local actual = tonumber(ARGV[2])
local remote = tonumber(ARGV[3])
local now = tonumber(ARGV[6])
local max = tonumber(s[2]) or tonumber(ARGV[4])
local rate = tonumber(s[3]) or tonumber(ARGV[5])
local avail = tonumber(s[1]) or max
local ts = tonumber(s[4]) or now
if ARGV[8] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[8])
  redis.call('ZREM', KEYS[3], ARGV[8])
end
"""
    + _PENDING
    + """
if now > ts then
  avail = math.min(max, avail + (now - ts) * rate)
  ts = now
end
if remote >= 0 then
  max = tonumber(ARGV[4])
  rate = tonumber(ARGV[5])
  avail = remote - pending
elseif actual >= 0 then
  avail = avail + (reserved - actual)
else
  avail = avail + reserved
end
avail = math.min(max, avail)
redis.call('HSET', KEYS[1], 'available', tostring(avail), 'max', tostring(max), 'rate', tostring(rate),
  'ts', tostring(ts), 'pending', tostring(pending))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
if pending > 0 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7])) end
return tostring(avail)
"""
)


def bucket_key(shop: str) -> str:
    """The Redis key of a shop's cost bucket (also what shop/redact deletes)."""
    return f"shopify:bucket:{shop}"


def leases_key(shop: str) -> str:
    """The Redis key of a shop's reservations in flight (a ZSET; also deleted by shop/redact)."""
    return f"shopify:bucket:{shop}:leases"


def queued_key(shop: str) -> str:
    """The Redis key of a shop's background reservations still waiting to be sent (a ZSET; also
    deleted by shop/redact)."""
    return f"shopify:bucket:{shop}:queued"


def new_lease(cost: float) -> str:
    """A reservation's name in the lease set, carrying its cost (the scripts sum them)."""
    return f"{uuid.uuid4().hex}|{float(cost)!r}"


@dataclass(frozen=True)
class QueryCost:
    """`extensions.cost` of one answer, as Shopify reports it."""

    requested: float | None
    actual: float | None
    maximum_available: float | None
    currently_available: float | None
    restore_rate: float | None

    @property
    def has_status(self) -> bool:
        return None not in (self.maximum_available, self.currently_available, self.restore_rate)


def parse_cost(extensions: dict[str, Any] | None) -> QueryCost | None:
    """The cost block of a response's `extensions`, or None when the answer carries none."""
    cost = (extensions or {}).get("cost")
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus") or {}

    def num(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) else None

    return QueryCost(
        requested=num(cost.get("requestedQueryCost")),
        actual=num(cost.get("actualQueryCost")),
        maximum_available=num(status.get("maximumAvailable")),
        currently_available=num(status.get("currentlyAvailable")),
        restore_rate=num(status.get("restoreRate")),
    )


class BucketPacer:
    """The shared leaky bucket of one shop, seen from one lane. `floor` is the fraction of the
    maximum this caller's reservations leave in the bucket (0 = foreground; see the module doc).
    `clock` / `sleep` are injectable so tests never sleep."""

    def __init__(
        self,
        conn: redis.Redis,
        shop: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        maximum: float = STANDARD_MAXIMUM,
        restore_rate: float = STANDARD_RESTORE_RATE,
        floor: float = 0.0,
    ) -> None:
        if not 0.0 <= floor < 1.0:
            raise ValueError(f"the reserve floor is a fraction of the bucket in [0, 1), not {floor}")
        self.conn = conn
        self.floor = floor
        self.shop = shop
        self.clock = clock
        self.sleep = sleep
        self.default_maximum = maximum
        self.default_restore_rate = restore_rate
        self.bucket_key = bucket_key(shop)
        self.leases_key = leases_key(shop)
        self.queued_key = queued_key(shop)
        self.cost_key = "shopify:cost"
        self._reserve = conn.register_script(_RESERVE)
        self._reconcile = conn.register_script(_RECONCILE)

    def estimate(self, operation: str) -> float:
        """Points to reserve for `operation`: its last requested cost (Shopify admits a query only
        when the bucket holds its requested cost), else a conservative default."""
        raw = self.conn.hget(self.cost_key, operation)
        return float(raw) if raw is not None else DEFAULT_ESTIMATE

    def remember(self, operation: str, cost: QueryCost) -> None:
        """Record what Shopify charged, for the next estimate of the same operation."""
        if cost.requested is not None:
            self.conn.hset(self.cost_key, operation, str(cost.requested))

    def reserve(self, cost: float, lease: str | None = None) -> float:
        """Reserve `cost` points now, under `lease` (`new_lease(cost)`, what `reconcile` ends; None:
        one that only lapses); the seconds the caller must wait before sending (for a background
        caller: until the bucket still holds its floor after the call)."""
        wait = self._reserve(
            keys=[self.bucket_key, self.leases_key, self.queued_key],
            args=[
                cost,
                self.clock(),
                self.default_maximum,
                self.default_restore_rate,
                STATE_TTL_SECONDS,
                self.floor,
                lease or new_lease(cost),
                LEASE_SECONDS,
            ],
        )
        return float(wait)

    def acquire(self, cost: float, lease: str | None = None) -> float:
        """Reserve `cost` and wait just long enough for the bucket to hold it. Returns the wait.
        A wait cut short by an exception (RQ's job timeout) gives the reservation back."""
        lease = lease or new_lease(cost)
        wait = self.reserve(cost, lease)
        if wait > 0:
            log.debug(
                "shopify pacer: shop=%s waits %.3fs for %.0f points (floor %.2f)",
                self.shop,
                wait,
                cost,
                self.floor,
            )
            try:
                self.sleep(wait)
            except BaseException:
                self.reconcile(cost, None, lease)
                raise
        return wait

    def reconcile(self, reserved: float, cost: QueryCost | None, lease: str | None = None) -> float:
        """Settle a reservation (`reserved` points under `lease`; 0 and None: a re-base alone) with
        what Shopify reported (None: the call never reached Shopify)."""
        actual = cost.actual if cost and cost.actual is not None else -1.0
        if cost is not None and cost.has_status:
            remote = (cost.currently_available, cost.maximum_available, cost.restore_rate)
        else:
            remote = (-1.0, self.default_maximum, self.default_restore_rate)
        available = self._reconcile(
            keys=[self.bucket_key, self.leases_key, self.queued_key],
            args=[
                reserved,
                actual,
                remote[0],
                remote[1],
                remote[2],
                self.clock(),
                STATE_TTL_SECONDS,
                lease or "",
            ],
        )
        return float(available)

    def state(self) -> dict[str, float]:
        """The stored bucket (for the dashboard and tests); `pending`: the leases live now."""
        raw = self.conn.hgetall(self.bucket_key)
        found = {k.decode(): float(v) for k, v in raw.items()}
        live = self.conn.zrangebyscore(self.leases_key, f"({self.clock()}", "+inf")
        found["pending"] = sum(float(m.decode().rsplit("|", 1)[1]) for m in live)
        return found
