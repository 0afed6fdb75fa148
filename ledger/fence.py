"""The run's fence: whether the flow lock it holds is still its own.

A flow lock (jobs.locks.flow_lock) lives in Redis with a TTL a heartbeat keeps extending. When
Redis restarts without its data, or the heartbeat stalls past the TTL, another worker may take
the lock while this run goes on. The run then must not move its watermark: the heartbeat's
"lost" test is registered here for the block the lock guards (the heartbeat's flag, or Redis
asked whether the lock still holds this run's token: the heartbeat notices only at its next
beat, up to a third of the TTL later, a Redis error counting as lost), and
ledger.watermarks.advance checks it, so the run ends transient (retried, re-reading from the old
watermark) instead.

The ERP connection moving under a run is the same kind of thing. ledger.setup_moves.erp_moved
forgets the shop's ERP cursors so the next run reads the new ERP from the start; a run that was
reading the old ERP would write its cursor back at the old ERP's read time, and the new ERP would
be read only from there (its prices, stock, products never reaching Shopify). So a flow lock opens
an `erp_run` slot, the ERP client notes in it the connection's move count it was built with
(`note_erp`, erp.factory.for_shop), and ledger.watermarks.advance checks it (`check_erp`) in the
transaction that moves the cursor, the connection's row locked (PostgreSQL) so a move commits
either before (the run ends transient, writing nothing) or after (the move forgets what it wrote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import Transient
from ledger.models import ErpConnection

_LOST: ContextVar[tuple[tuple[str, Callable[[], bool]], ...]] = ContextVar("fence_lost", default=())
# The run's {shop id: the ERP connection's move count its ERP client was built with} (None: no run)
_ERP: ContextVar[dict[int, int] | None] = ContextVar("fence_erp", default=None)


@contextmanager
def guarded(name: str, lost: Callable[[], bool]) -> Iterator[None]:
    """While the block runs, `lost()` true means the lock `name` is no longer this run's."""
    token = _LOST.set((*_LOST.get(), (name, lost)))
    try:
        yield
    finally:
        _LOST.reset(token)


FLOW_LOCKS = "lock:flow:"  # the names of the flow locks (ledger.locks.flow_lock)


def check(prefix: str = "") -> None:
    """Raise Transient when a lock this run holds was lost (before it commits what the lock guards);
    `prefix`: only the locks whose name starts so (FLOW_LOCKS: a flow run's, not an order's record
    lock, whose jobs check their own before each ERP call: jobs.orders.ensure_held)."""
    for name, lost in _LOST.get():
        if name.startswith(prefix) and lost():
            line = (f"lost the lock {name} while running (Redis restarted, or the run stalled): another run "
                    "may hold it now; this one stops and is retried")  # fmt: skip
            raise Transient(line).worded("flow_lock_lost")


@contextmanager
def erp_run() -> Iterator[None]:
    """The block is one run (a flow lock's): what its ERP clients were built with is noted there.
    A block inside another run's (a second flow lock) is part of that run."""
    if _ERP.get() is not None:
        yield
        return
    token = _ERP.set({})
    try:
        yield
    finally:
        _ERP.reset(token)


def note_erp(shop_id: int, moves: int) -> None:
    """The run built an ERP client of the shop's connection as it stood after `moves` moves (the
    first client's count is kept: a later one seeing another means the connection moved)."""
    noted = _ERP.get()
    if noted is not None:
        noted.setdefault(shop_id, moves)


def check_erp(session: Session, shop_id: int) -> None:
    """Raise Transient when the shop's ERP connection moved to another ERP since the run built its
    ERP client (nothing noted: the run read no ERP of the shop, nothing to check). The connection's
    row is locked for share until the caller's commit: a move waits for it, then forgets what it
    wrote."""
    noted = (_ERP.get() or {}).get(shop_id)
    if noted is None:
        return
    stmt = select(ErpConnection.moves).where(ErpConnection.shop_id == shop_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    now = session.scalar(stmt)
    if now is not None and now != noted:
        line = ("the ERP connection changed during the run; the next run reads the new ERP from the start "
                "(nothing this run read is kept as read)")  # fmt: skip
        raise Transient(line).worded("erp_moved_during_run")
