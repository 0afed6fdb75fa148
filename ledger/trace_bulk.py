"""trace.begin / trace.succeed for thousands of units at once (catalog loads, bulk operations).

Why: a bulk operation of 3,500 lines takes seconds; 3,500 single-row trace.begin calls took
longer than the operation itself (~40 s on SQLite). Same semantics as ledger.trace (one row per
unit, attempts counted, the previous error cleared, ids and payload replaced) in one
INSERT ... ON CONFLICT DO UPDATE run with the driver's executemany; success as one UPDATE per
distinct response.

The insert is compiled once per dialect and handed to the DBAPI cursor with values the driver
takes as they are (payloads encoded by orjson, times through the column's own bind processor):
SQLAlchemy's per-row parameter processing cost ~70-100 us a row, more than the database's work.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import bindparam, func, literal_column, null, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from ledger import trace
from ledger.driver_sql import db_value, execute_many
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, MessageStatus, utcnow

CHUNK = 1000


@dataclass(frozen=True)
class UnitStart:
    """What trace.begin would be given for one unit."""

    unit_key: str
    shopify_id: str | None = None
    erp_id: str | None = None
    search: Sequence[str] = ()
    request: dict[str, Any] = field(default_factory=dict)


def begin_many(
    session: Session,
    shop_id: int,
    flow: str,
    units: Sequence[UnitStart],
    *,
    direction: str = ERP_TO_SHOPIFY,
    job_id: str | None = None,
) -> list[int]:
    """One pending message per unit; the message ids in the order of `units`. Commit before any
    outside call is made for them (the caller owns the transaction). The unit a replay runs goes
    through trace.begin, which leaves it closed as handled if it was meanwhile (`trace.replaying`).
    `job_id`: as trace.begin's, by default the RQ job this runs in."""
    if not units:
        return []
    job_id = job_id if job_id is not None else trace.current_job_id()
    replayed = trace.replaying.get()
    if replayed is not None and replayed[:2] == (shop_id, flow):
        own = next((u for u in units if u.unit_key == replayed[2]), None)
        if own is not None:
            first = trace.begin(session, shop_id, flow, own.unit_key, direction, shopify_id=own.shopify_id,
                                erp_id=own.erp_id, search=own.search, request=own.request,
                                job_id=job_id).id  # fmt: skip
            rest = iter(begin_many(session, shop_id, flow, [u for u in units if u is not own],
                                   direction=direction, job_id=job_id))  # fmt: skip
            return [first if u is own else next(rest) for u in units]
    session.flush()
    connection = session.connection()
    now = db_value(connection, Message.__table__.c.updated_at, utcnow())
    rows = [
        (
            shop_id,
            flow,
            direction,
            u.unit_key,
            u.shopify_id,
            u.erp_id,
            trace.search_text([u.shopify_id, u.erp_id], u.search),
            MessageStatus.PENDING.value,
            1,
            orjson.dumps(u.request).decode(),
            job_id,
            now,
            now,
        )
        for u in units
    ]
    if connection.dialect.name == "postgresql":
        # Each row's RETURNING, pipelined: no lookup after. (A lookup by unit_key IN (...)
        # scanned the table once per key: 36.9 s for 35,000 messages begun at once, against
        # 1.75 s this way.)
        returned = execute_many(
            connection, "trace_bulk.begin_returning", _begin_returning, _BEGIN_COLUMNS, rows, returning=True
        )
        ids = {key: message_id for message_id, key in returned}
        return [ids[u.unit_key] for u in units]
    execute_many(connection, "trace_bulk.begin", _begin_statement, _BEGIN_COLUMNS, rows)
    ids = {}
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(units), CHUNK):
            keys = [u.unit_key for u in units[start : start + CHUNK]]
            # The same query as select(id, unit_key).where(... unit_key.in_(keys)), on the
            # driver's cursor: SQLAlchemy's row processing cost more than the lookup itself.
            marks = ", ".join("?" * len(keys))
            cursor.execute(
                f"SELECT id, unit_key FROM {Message.__tablename__} "
                f"WHERE shop_id = ? AND flow = ? AND unit_key IN ({marks})",
                (shop_id, flow, *keys),
            )
            ids.update({key: message_id for message_id, key in cursor.fetchall()})
    finally:
        cursor.close()
    return [ids[u.unit_key] for u in units]


# In the table's column order, which the compiled INSERT binds in: the rows go to the driver as built
# (driver_sql.DriverStatement.rows reorders every row otherwise).
_BEGIN_COLUMNS = (
    "shop_id", "flow", "direction", "unit_key", "shopify_id", "erp_id", "search_text", "status",
    "attempts", "request_payload", "job_id", "created_at", "updated_at",
)  # fmt: skip


def _begin_returning(dialect: Any) -> Insert:
    return _begin_statement(dialect).returning(Message.__table__.c.id, Message.__table__.c.unit_key)


def _begin_statement(dialect: Any) -> Insert:
    table = Message.__table__
    c = table.c
    stmt = dialect.insert(table).values(
        {name: bindparam(name, type_=c[name].type) for name in _BEGIN_COLUMNS}
    )
    return stmt.on_conflict_do_update(
        index_elements=[c.shop_id, c.flow, c.unit_key],
        set_={
            "attempts": c.attempts + literal_column("1"),
            "status": stmt.excluded.status,
            "direction": stmt.excluded.direction,
            "error_class": null(),
            "error_text": null(),
            "error_detail": null(),
            "finished_at": null(),
            "updated_at": stmt.excluded.updated_at,
            "shopify_id": func.coalesce(stmt.excluded.shopify_id, c.shopify_id),  # kept, as trace.begin
            "erp_id": func.coalesce(stmt.excluded.erp_id, c.erp_id),
            "search_text": stmt.excluded.search_text,
            "request_payload": stmt.excluded.request_payload,
            "job_id": stmt.excluded.job_id,
        },
    )


def restate_many(session: Session, message_ids: Sequence[int], units: Sequence[UnitStart]) -> None:
    """New request payloads (and search text) for messages already begun in this attempt: the
    same attempt, not a new one (begin_many would count another)."""
    now = utcnow()
    rows = [
        {
            "id": message_id,
            "request_payload": u.request,
            "search_text": trace.search_text([u.shopify_id, u.erp_id], u.search),
            "updated_at": now,
        }
        for message_id, u in zip(message_ids, units, strict=True)
    ]
    if rows:
        session.execute(update(Message), rows)


def skip_many(
    session: Session, message_ids: Sequence[int], reason: str, *, words: trace.Words | None = None
) -> None:
    """trace.skip for many messages at once (just begun: no detail of their own): skipped with why
    (and its words for the pages), finished now."""
    now = utcnow()
    said = {} if words is None else {"error_detail": {trace.SKIP: {"key": words[0], "params": words[1]}}}
    rows = [
        {
            "id": i,
            "status": MessageStatus.SKIPPED.value,
            "error_text": reason,
            "finished_at": now,
            "updated_at": now,
            **said,
        }
        for i in message_ids
    ]
    if rows:
        session.execute(update(Message), rows)


def succeed_many(session: Session, done: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Mark these messages done with their response (message id, response payload)."""
    now = utcnow()
    by_response: dict[str, list[int]] = defaultdict(list)
    for message_id, response in done:
        by_response[json.dumps(response, sort_keys=True)].append(message_id)
    for response, message_ids in by_response.items():
        for start in range(0, len(message_ids), CHUNK):
            session.execute(
                update(Message)
                .where(Message.id.in_(message_ids[start : start + CHUNK]))
                .values(
                    status=MessageStatus.DONE.value,
                    updated_at=now,
                    finished_at=now,
                    error_class=None,
                    error_text=None,
                    error_detail=null(),
                    response_payload=json.loads(response),
                )
                .execution_options(synchronize_session=False)
            )
