"""Locks on the shared Redis so workers on many machines never run the same work twice at once.

In the ledger (not jobs/) because the web app takes one too: linking an ERP order by hand holds
the EventoPedido poller's flow lock (`ledger.order_link_by_hand`), and shopify_app never imports
jobs. `jobs.locks` re-exports it for the flows.

`flow_lock(shop_id, flow)` guards one flow for one shop. It holds a redis-py Lock with a short
TTL that a heartbeat thread keeps extending while the work runs: a worker killed mid-job
stops extending, and the lock frees itself when the TTL lapses, so a rerun can finish the
job. `record_lock(key)` is the per-record variant (one order, one product) with a brief wait.

A flow lock taken inside an RQ job carries the job's id in its token. RQ runs a job whose work
horse was killed (the OOM killer, a deploy) again 10 s later under the same id, while the dead
try's lock still has up to FLOW_LOCK_TTL to live: that retry finding the lock held by its own
id is not a concurrent run to skip quietly, it is waiting for its own dead try, so flow_lock
raises DeadRunHoldsLock (Transient: RQ runs it again once the lock lapsed; RETRY_INTERVALS add up
to well past the TTL). A different holder (a manual run while the tick comes) is LockBusy.

The fence (ledger.fence) asks Redis whether the lock is still this run's token at every
watermark advance: the heartbeat notices a lost lock only at its next beat. A flow lock's block is
also one run for the fence's ERP check (`fence.erp_run`: no ERP cursor moves once the shop's ERP
connection moved to another ERP since the run built its ERP client).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.lock import Lock
from rq import get_current_job

from ledger import fence
from ledger.errors import Transient
from ledger.kv import get_redis

log = logging.getLogger(__name__)

FLOW_LOCK_TTL = 60.0
RECORD_LOCK_TTL = 30.0


class LockBusy(RuntimeError):
    """Another worker holds the lock; the caller skips or re-enqueues itself."""


class DeadRunHoldsLock(Transient):
    """The flow lock is held by an earlier try of this very RQ job whose worker died mid-run: the
    lock lapses within its TTL, and RQ runs the job again after it (not a run to skip as busy)."""


# The tokens of the locks this process holds now: a token naming the current job that is not among
# them is a dead try's (the same job cannot hold one lock twice in one process otherwise).
_HELD_TOKENS: set[str] = set()
_HELD_GUARD = threading.Lock()


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


def _still_owned(lock: Lock) -> bool:
    """Whether Redis holds this lock's token under its name now (one GET); Redis unreachable
    counts as not: the run cannot know another has not taken it."""
    try:
        return bool(lock.owned())
    except RedisError:
        log.warning("locks: could not ask Redis whether %s is still held", lock.name, exc_info=True)
        return False


def _acquire(lock: Lock, *, blocking: bool, blocking_timeout: float | None) -> str:
    """Take the lock; its token. Raises LockBusy when someone holds it (past the wait)."""
    token = _token()
    if not lock.acquire(blocking=blocking, blocking_timeout=blocking_timeout, token=token):
        raise LockBusy(f"{lock.name} is held by another worker")
    return token


@contextmanager
def _held(lock: Lock, ttl: float, token: str) -> Iterator[Lock]:
    """The block under the taken lock: its heartbeat, its fence, its release."""
    with _HELD_GUARD:
        _HELD_TOKENS.add(token)
    heartbeat = _Heartbeat(lock, ttl)
    heartbeat.start()
    try:
        with fence.guarded(str(lock.name), lambda: heartbeat.lost.is_set() or not _still_owned(lock)):
            yield lock
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        with _HELD_GUARD:
            _HELD_TOKENS.discard(token)
        try:
            lock.release()
        except LockError:
            log.warning("locks: %s had already expired when released", lock.name)


def _job_id() -> str | None:
    job = get_current_job()
    return job.id if job is not None else None


def _token() -> str:
    """A unique token; inside an RQ job "<job id>/<random>", so a retry can tell its dead try's."""
    job_id = _job_id()
    return f"{job_id}/{uuid.uuid4().hex}" if job_id else uuid.uuid4().hex


def _held_by_dead_try(lock: Lock) -> bool:
    """Whether the lock's holder is an earlier try of the current RQ job (not one this process holds)."""
    job_id = _job_id()
    if job_id is None:
        return False
    try:
        raw = lock.redis.get(lock.name)
    except RedisError:
        return False
    holder = raw.decode() if isinstance(raw, bytes) else raw
    if not holder or not holder.startswith(f"{job_id}/"):
        return False
    with _HELD_GUARD:
        return holder not in _HELD_TOKENS


def _lock(conn: Redis, name: str, ttl: float) -> Lock:
    # thread_local=False: the heartbeat thread must see the token the holder acquired with.
    return conn.lock(name, timeout=ttl, thread_local=False)


@contextmanager
def flow_lock(
    shop_id: int, flow: str, ttl: float = FLOW_LOCK_TTL, conn: Redis | None = None
) -> Iterator[Lock]:
    """Hold the (shop, flow) lock for the duration of the block.

    Raises:
        DeadRunHoldsLock: an earlier try of this same RQ job died holding it (Transient: RQ runs
            this one again after the lock lapsed).
        LockBusy: another run is running this flow for this shop right now.
    """
    lock = _lock(conn or get_redis(), f"{fence.FLOW_LOCKS}{shop_id}:{flow}", ttl)
    try:
        token = _acquire(lock, blocking=False, blocking_timeout=None)
    except LockBusy as busy:
        if _held_by_dead_try(lock):
            raise DeadRunHoldsLock(
                f"the {flow} flow of shop {shop_id} is still locked by an earlier try of this run whose "
                f"worker died; it waits for the lock to lapse (up to {ttl:.0f} s) and is tried again"
            ).worded("flow_lock_dead_try") from busy
        raise
    with _held(lock, ttl, token) as held, fence.erp_run():  # the run's ERP connection, noted
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
    with _held(lock, ttl, _acquire(lock, blocking=True, blocking_timeout=wait)) as held:
        yield held


def is_locked(shop_id: int, flow: str, conn: Redis | None = None) -> bool:
    """Whether a flow is running for a shop right now (for the dashboard)."""
    return bool((conn or get_redis()).exists(f"{fence.FLOW_LOCKS}{shop_id}:{flow}"))
