"""flow_lock: one holder at a time; a dead holder's lock lapses with its TTL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from jobs.locks import LockBusy, flow_lock, is_locked, record_lock


def wait_until(predicate, limit: float = 15.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_second_holder_is_refused_and_lock_is_released(rconn):
    with flow_lock(1, "stock", conn=rconn):
        assert is_locked(1, "stock", conn=rconn)
        with pytest.raises(LockBusy), flow_lock(1, "stock", conn=rconn):
            pass
        with flow_lock(2, "stock", conn=rconn), flow_lock(1, "prices", conn=rconn):
            pass  # other shops and other flows are independent
    assert not is_locked(1, "stock", conn=rconn)
    with flow_lock(1, "stock", conn=rconn):
        pass


def test_heartbeat_keeps_a_live_holder_past_its_ttl(rconn):
    with flow_lock(1, "stock", ttl=0.6, conn=rconn):
        time.sleep(1.5)  # more than twice the TTL: only the heartbeat keeps it
        with pytest.raises(LockBusy), flow_lock(1, "stock", conn=rconn):
            pass


def test_lock_of_a_killed_holder_lapses_with_its_ttl(rconn, redis_server):
    holder = textwrap.dedent(
        f"""
        import os, redis
        from jobs.locks import flow_lock
        conn = redis.Redis.from_url({redis_server.url!r})
        with flow_lock(7, "orders", ttl=1, conn=conn):
            print("held", flush=True)
            os._exit(9)  # killed mid-job: no release, no more heartbeats
        """
    )
    proc = subprocess.run([sys.executable, "-c", holder], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9 and "held" in proc.stdout
    with pytest.raises(LockBusy), flow_lock(7, "orders", conn=rconn):
        pass
    assert wait_until(lambda: not is_locked(7, "orders", conn=rconn))
    with flow_lock(7, "orders", conn=rconn):
        pass


def test_record_lock_waits_then_gives_up(rconn):
    acquired = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with record_lock("shop:1:order:gid://shopify/Order/1", conn=rconn):
            acquired.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert acquired.wait(10)
    with pytest.raises(LockBusy), record_lock("shop:1:order:gid://shopify/Order/1", wait=0.2, conn=rconn):
        pass
    with record_lock("shop:1:order:gid://shopify/Order/2", conn=rconn):
        pass
    release.set()
    thread.join(10)
    with record_lock("shop:1:order:gid://shopify/Order/1", wait=2, conn=rconn):
        pass


def test_a_run_that_lost_its_flow_lock_moves_no_watermark(shop_id, rconn):
    """Redis restarted without its data while the run held the lock (or the heartbeat stalled
    past the TTL): another worker may take it and run too. This run's watermark advance is
    refused (transient: it is retried and re-reads from the old watermark), never interleaved."""
    from datetime import UTC, datetime

    from ledger import fence, watermarks
    from ledger.db import session_scope
    from ledger.errors import Transient

    def lost() -> bool:
        try:
            fence.check()
        except Transient:
            return True
        return False

    moment = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with flow_lock(shop_id, "stock", ttl=0.6, conn=rconn) as lock:
        with session_scope() as session:  # while it holds the lock, the watermark moves
            watermarks.advance(session, shop_id, "stock", "1", moment, 0, moment)
        rconn.delete(lock.name)  # what a Redis restart without persistence does to the key
        assert wait_until(lost, limit=5)
        with flow_lock(shop_id, "stock", conn=rconn):
            pass  # another worker could take it now
        with pytest.raises(Transient, match="lost the lock"), session_scope() as session:
            watermarks.advance(
                session, shop_id, "stock", "1", moment.replace(hour=13), 0, moment.replace(hour=13)
            )
    with session_scope() as session:
        assert watermarks.read(session, shop_id, "stock", "1").last_changed_at == moment
    assert not lost()  # outside the block nothing is fenced


def test_a_lock_left_by_a_dead_try_of_the_same_job_is_waited_for(rconn, monkeypatch):
    """Inside an RQ job the lock's token names the job: held by an earlier try of this very job
    (its worker died) it is DeadRunHoldsLock (transient, retried once it lapsed); held by anyone
    else, or by this job itself in this process, it is LockBusy as ever."""
    from types import SimpleNamespace

    from jobs.locks import DeadRunHoldsLock
    from ledger import locks
    from ledger.errors import Transient

    monkeypatch.setattr(locks, "get_current_job", lambda: SimpleNamespace(id="stock-tick-1"))
    name = "lock:flow:1:stock"
    rconn.set(name, "stock-tick-1/0f0f", px=60_000)  # the dead try's token
    with pytest.raises(DeadRunHoldsLock) as waiting, flow_lock(1, "stock", conn=rconn):
        pass
    assert isinstance(waiting.value, Transient) and waiting.value.words[0] == "flow_lock_dead_try"
    rconn.set(name, "run-now-1/0f0f", px=60_000)  # another job's run (a manual one), alive
    with pytest.raises(LockBusy) as busy, flow_lock(1, "stock", conn=rconn):
        pass
    assert not isinstance(busy.value, DeadRunHoldsLock)
    rconn.delete(name)
    with flow_lock(1, "stock", conn=rconn) as held:
        assert rconn.get(name).decode().startswith("stock-tick-1/")  # this try's token names the job
        with pytest.raises(LockBusy), flow_lock(1, "stock", conn=rconn):
            pass  # held by this very try: busy, not a dead one
    assert not held.owned()
