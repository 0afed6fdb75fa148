"""Locks on the shared Redis so workers on many machines never run the same work twice at once.

In the ledger (not jobs/) because the web app takes one too: linking an ERP order by hand holds
the EventoPedido poller's flow lock (`ledger.order_link_by_hand`), and shopify_app never imports
jobs. `jobs.locks` re-exports it for the flows.

`flow_lock(shop_id, flow)` guards one flow for one shop. It holds a redis-py Lock with a short
TTL that a heartbeat thread keeps extending while the work runs: a worker killed mid-job
stops extending, and the lock frees itself when the TTL lapses, so a rerun can finish the
job. `record_lock(key)` is the per-record variant (one order, one product) with a brief wait.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from ledger import fence
from ledger.kv import get_redis

log = logging.getLogger(__name__)

FLOW_LOCK_TTL = 60.0
RECORD_LOCK_TTL = 30.0


class LockBusy(RuntimeError):
    """Another worker holds the lock; the caller skips or re-enqueues itself."""


class _Heartbeat(threading.Thread):
    """Extends the lock's TTL every third of it until stopped (or the process dies)."""

    def __init__(self, lock: Lock, ttl: float) -> None:
        super().__init__(name=f"lock-heartbeat:{lock.name}", daemon=True)
        self.lock = lock
        self.ttl = ttl
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.ttl / 3):
            try:
                self.lock.extend(self.ttl, replace_ttl=True)
            except LockNotOwnedError:
                log.error("locks: lost %s (expired before it was extended)", self.lock.name)
                self.lost.set()
                return
            except Exception:
                log.warning("locks: could not extend %s; will try again", self.lock.name, exc_info=True)


@contextmanager
def _held(lock: Lock, ttl: float, *, blocking: bool, blocking_timeout: float | None) -> Iterator[Lock]:
    if not lock.acquire(blocking=blocking, blocking_timeout=blocking_timeout):
        raise LockBusy(f"{lock.name} is held by another worker")
    heartbeat = _Heartbeat(lock, ttl)
    heartbeat.start()
    try:
        with fence.guarded(str(lock.name), heartbeat.lost.is_set):
            yield lock
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        try:
            lock.release()
        except LockError:
            log.warning("locks: %s had already expired when released", lock.name)


def _lock(conn: Redis, name: str, ttl: float) -> Lock:
    # thread_local=False: the heartbeat thread must see the token the holder acquired with.
    return conn.lock(name, timeout=ttl, thread_local=False)


@contextmanager
def flow_lock(
    shop_id: int, flow: str, ttl: float = FLOW_LOCK_TTL, conn: Redis | None = None
) -> Iterator[Lock]:
    """Hold the (shop, flow) lock for the duration of the block.

    Raises:
        LockBusy: another worker is running this flow for this shop right now.
    """
    lock = _lock(conn or get_redis(), f"lock:flow:{shop_id}:{flow}", ttl)
    with _held(lock, ttl, blocking=False, blocking_timeout=None) as held:
        yield held


def record_key(key: str) -> str:
    return f"lock:record:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


@contextmanager
def record_lock(
    key: str, ttl: float = RECORD_LOCK_TTL, wait: float = 5.0, conn: Redis | None = None
) -> Iterator[Lock]:
    """Hold a per-record lock (e.g. "shop:1:order:gid://shopify/Order/9"), waiting up to `wait` s.

    Raises:
        LockBusy: still held by someone else after `wait` seconds.
    """
    lock = _lock(conn or get_redis(), record_key(key), ttl)
    with _held(lock, ttl, blocking=True, blocking_timeout=wait) as held:
        yield held


def is_locked(shop_id: int, flow: str, conn: Redis | None = None) -> bool:
    """Whether a flow is running for a shop right now (for the dashboard)."""
    return bool((conn or get_redis()).exists(f"lock:flow:{shop_id}:{flow}"))
