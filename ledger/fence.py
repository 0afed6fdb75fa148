"""The run's fence: whether the flow lock it holds is still its own.

A flow lock (jobs.locks.flow_lock) lives in Redis with a TTL a heartbeat keeps extending. When
Redis restarts without its data, or the heartbeat stalls past the TTL, another worker may take
the lock while this run goes on. The run then must not move its watermark: the heartbeat's
"lost" test is registered here for the block the lock guards (the heartbeat's flag, or Redis
asked whether the lock still holds this run's token: the heartbeat notices only at its next
beat, up to a third of the TTL later, a Redis error counting as lost), and
ledger.watermarks.advance checks it, so the run ends transient (retried, re-reading from the old
watermark) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ledger.errors import Transient

_LOST: ContextVar[tuple[tuple[str, Callable[[], bool]], ...]] = ContextVar("fence_lost", default=())


@contextmanager
def guarded(name: str, lost: Callable[[], bool]) -> Iterator[None]:
    """While the block runs, `lost()` true means the lock `name` is no longer this run's."""
    token = _LOST.set((*_LOST.get(), (name, lost)))
    try:
        yield
    finally:
        _LOST.reset(token)


def check() -> None:
    """Raise Transient when a lock this run holds was lost (before it commits what the lock guards)."""
    for name, lost in _LOST.get():
        if lost():
            line = (f"lost the lock {name} while running (Redis restarted, or the run stalled): another run "
                    "may hold it now; this one stops and is retried")  # fmt: skip
            raise Transient(line).worded("flow_lock_lost")
