"""ledger.driver_sql: Core statements compiled once, run on the driver's cursor, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, create_engine, select

from ledger.driver_sql import DriverStatement, db_value, execute_many

META = MetaData()
ROWS = Table(
    "driver_sql_rows",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("seen_at", DateTime(timezone=True)),
)


def _insert(dialect):
    return dialect.insert(ROWS).values(
        id=bindparam("id"), name=bindparam("name"), seen_at=bindparam("seen_at")
    )


@pytest.fixture
def engine(any_database_url):
    engine = create_engine(any_database_url)
    META.drop_all(engine)
    META.create_all(engine)
    yield engine
    META.drop_all(engine)
    engine.dispose()


def test_execute_many_writes_rows_given_in_any_column_order(engine):
    when = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        seen = db_value(conn, ROWS.c.seen_at, when)
        # columns listed in another order than the statement binds them
        execute_many(
            conn, "test.insert", _insert, ("name", "seen_at", "id"), [("a", seen, 1), ("b", seen, 2)]
        )
    with engine.connect() as conn:
        rows = conn.execute(select(ROWS.c.id, ROWS.c.name, ROWS.c.seen_at).order_by(ROWS.c.id)).all()
    assert [(r.id, r.name) for r in rows] == [(1, "a"), (2, "b")]
    assert all(r.seen_at.replace(tzinfo=r.seen_at.tzinfo or UTC) == when for r in rows)


def test_rows_that_do_not_carry_every_bind_are_refused(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="statement binds"):
        execute_many(conn, "test.short", _insert, ("id", "name"), [(1, "a")])


def test_parameters_apply_bind_processors_and_constants(engine):
    statement = ROWS.insert().values(id=bindparam("id"), name="fixed", seen_at=bindparam("seen_at"))
    compiled = DriverStatement.compile(statement, engine.dialect, ("id", "seen_at"))
    assert compiled.binds == {"id", "seen_at"} and list(compiled.constants.values()) == ["fixed"]
    when = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        cursor.execute(compiled.sql, compiled.parameters({"id": 7, "seen_at": when}))
        raw.driver_connection.commit()
    finally:
        raw.close()
    with engine.connect() as conn:
        row = conn.execute(select(ROWS.c.name, ROWS.c.seen_at).where(ROWS.c.id == 7)).one()
    assert row.name == "fixed" and row.seen_at.replace(tzinfo=row.seen_at.tzinfo or UTC) == when
