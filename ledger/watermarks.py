"""Where each flow stands in the ERP's change stream (DtaHorAlteracao + page).

The cursor only moves forward, and never past the time the run started: a record changed
while the run was reading may not have been seen, so the next run re-reads from the run's
start. Reads overlap the boundary (`since_with_overlap`); flows dedupe the overlap with
digests. The caller owns the transaction: the watermark advances in the same commit as the
batch the target accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger import fence
from ledger.models import Watermark, as_utc, utcnow

# The flows whose watermarks are positions in the ERP's change stream (every scope of each)...
ERP_CURSOR_FLOWS = ("products", "skus", "prices", "stock", "order_events")
# ...but for this one, a cursor over the ledger's own rows (jobs.stock_pending.CLOSED_SCOPE).
LEDGER_CURSOR = ("stock", "orders_closed")


def of_erp(flow: str, scope: str) -> bool:
    """Whether the (flow, scope) cursor is a position in the ERP's change stream (forgotten when
    the connection moves to another ERP: ledger.setup_moves.erp_moved)."""
    return flow in ERP_CURSOR_FLOWS and (flow, scope) != LEDGER_CURSOR


@dataclass(frozen=True)
class WatermarkState:
    """A flow's position: the change time safely reached (None: from the beginning) and the page in it."""

    last_changed_at: datetime | None
    page: int = 0

    def key(self) -> tuple[datetime, int]:
        return (self.last_changed_at or datetime.min.replace(tzinfo=UTC), self.page)


def read(session: Session, shop_id: int, flow: str, scope: str = "") -> WatermarkState:
    """The current position; a flow that never ran starts from the beginning."""
    row = _row(session, shop_id, flow, scope)
    if row is None:
        return WatermarkState(None, 0)
    return WatermarkState(_utc(row.last_changed_at), row.page)


def advance(
    session: Session,
    shop_id: int,
    flow: str,
    scope: str,
    changed_at: datetime,
    page: int,
    run_started_at: datetime,
) -> WatermarkState:
    """Move the cursor to (changed_at, page) if that is forward; return where it stands now.

    `changed_at` later than `run_started_at` is clamped to the run's start (page 0 there). The
    row is locked (PostgreSQL) while compared, so two runs cannot move it backwards together.

    Raises:
        Transient: the run lost the flow lock it holds, or (a cursor in the ERP's change stream,
            `of_erp`) the shop's ERP connection moved to another ERP since the run built its ERP
            client (ledger.fence): the cursor is not written, the next run reads the new ERP whole.
    """
    fence.check()  # a run that lost its flow lock moves nothing: another may be running
    if of_erp(flow, scope):  # nor one that read an ERP the shop's connection has moved away from
        fence.check_erp(session, shop_id)
    changed_at, run_started_at = _utc(changed_at), _utc(run_started_at)
    assert changed_at is not None and run_started_at is not None
    if changed_at > run_started_at:
        changed_at, page = run_started_at, 0
    row = _row(session, shop_id, flow, scope, lock=True)
    if row is None:
        _insert_missing(session, shop_id, flow, scope)
        row = _row(session, shop_id, flow, scope, lock=True)
        assert row is not None
    current = WatermarkState(_utc(row.last_changed_at), row.page)
    wanted = WatermarkState(changed_at, page)
    if wanted.key() <= current.key():
        return current
    row.last_changed_at = changed_at
    row.page = page
    row.updated_at = utcnow()
    session.flush()
    return wanted


def since_with_overlap(state: WatermarkState, overlap: timedelta) -> datetime | None:
    """The `since` of the next read: the boundary minus `overlap` (None: read everything)."""
    if state.last_changed_at is None:
        return None
    return state.last_changed_at - overlap


def reset(session: Session, shop_id: int, flow: str, scope: str | None = None) -> int:
    """Forget the position (one scope, or every scope when None) so the next run reads all; rows removed."""
    stmt = delete(Watermark).where(Watermark.shop_id == shop_id, Watermark.flow == flow)
    if scope is not None:
        stmt = stmt.where(Watermark.scope == scope)
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    session.flush()
    return result.rowcount or 0


def _row(session: Session, shop_id: int, flow: str, scope: str, lock: bool = False) -> Watermark | None:
    stmt = select(Watermark).where(
        Watermark.shop_id == shop_id, Watermark.flow == flow, Watermark.scope == scope
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _insert_missing(session: Session, shop_id: int, flow: str, scope: str) -> None:
    """Create the row if no one else did meanwhile (INSERT ... ON CONFLICT DO NOTHING)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Watermark).values(
        shop_id=shop_id, flow=flow, scope=scope, last_changed_at=None, page=0, updated_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["shop_id", "flow", "scope"]))


def _utc(value: datetime | None) -> datetime | None:
    """A caller's time as aware UTC (a naive one taken as UTC)."""
    return None if value is None else as_utc(value)
