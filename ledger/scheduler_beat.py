"""The scheduler's heartbeat: each tick's time in Redis, and whether the scheduler stopped.

Written by jobs.scheduler.tick, read by the Flows page (shopify_app.api_flows) and
`/healthz/scheduler` (app.py): here, so the web side reads the key the jobs write without
importing jobs. With no tick nothing runs by itself, not even the alert e-mail that would tell of
it. No expiry: a scheduler stopped for days must not read as one that never ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis

from ledger.models import as_utc, utcnow

HEARTBEAT_KEY = "scheduler:last_tick"  # each tick's wall time, ISO 8601
# The tick runs every minute (rq cron; on the webhooks queue, which a worker serves first; done in
# under 50 s): none for 3 minutes is two ticks missed and a third late, not a slow one.
SCHEDULER_STOPPED_AFTER = timedelta(minutes=3)


def beat(conn: Redis) -> None:
    """Record that a tick runs now: the wall time (not the `now` a tick is handed).

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    conn.set(HEARTBEAT_KEY, utcnow().isoformat())


def last_tick(conn: Redis) -> datetime | None:
    """When the scheduler last ticked (its heartbeat); None when no tick ever wrote it.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    raw = conn.get(HEARTBEAT_KEY)
    if raw is None:
        return None
    return as_utc(datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw))


def is_stopped(last_tick_at: datetime | None, now: datetime) -> bool:
    """Whether the scheduler stopped: it ticked once, but not in the last SCHEDULER_STOPPED_AFTER.
    Before a first tick (a fresh install, the demo starting, the tests) nothing says it should have."""
    return last_tick_at is not None and now - last_tick_at > SCHEDULER_STOPPED_AFTER
