"""The fence: a run whose flow lock Redis lost (restart without data) must not move its watermark."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.locks import flow_lock
from ledger import watermarks
from ledger.db import session_scope
from ledger.errors import Transient


def test_a_run_whose_lock_redis_lost_and_another_run_took_does_not_advance(shop_id, rconn):
    started = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with flow_lock(shop_id, "stock", conn=rconn):  # run A
        rconn.flushall()  # Redis restarted without its data: A's lock is gone
        # run B (another worker) takes it at once; A goes on and commits its batch: the fence must
        # stop it (it holds no lock now), not wait for the heartbeat's next beat
        with flow_lock(shop_id, "stock", conn=rconn), session_scope() as session, pytest.raises(Transient):
            watermarks.advance(session, shop_id, "stock", "", started, 1, started)


def test_a_redis_error_asking_for_the_lock_counts_as_lost(shop_id, rconn, monkeypatch):
    """The fence asks Redis at the advance: Redis not answering, the run cannot know its lock is
    still its own, so it moves nothing (transient) rather than commit beside another run."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    started = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with flow_lock(shop_id, "stock", conn=rconn) as lock:
        with session_scope() as session:  # held and Redis answering: it moves
            watermarks.advance(session, shop_id, "stock", "", started, 1, started)

        def unreachable() -> bool:
            raise RedisConnectionError("Redis down")

        monkeypatch.setattr(lock, "owned", unreachable)
        with session_scope() as session, pytest.raises(Transient) as refused:
            watermarks.advance(session, shop_id, "stock", "", started.replace(hour=13), 1, started)
        assert refused.value.words[0] == "flow_lock_lost"
    with session_scope() as session:
        assert watermarks.read(session, shop_id, "stock", "").last_changed_at == started
