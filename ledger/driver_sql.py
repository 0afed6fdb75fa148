"""SQLAlchemy Core statements compiled once and run on the driver's own cursor (the hot writes).

Why: on the paths that write thousands of rows (catalog cache, bulk message begins) or answer
hundreds of requests a second (the webhook receiver), SQLAlchemy's per-execution work (compile
cache lookup, per-row parameter processing: ~70-100 us a row) cost more than the database's.
The statement is still built with SQLAlchemy Core (the house rule); it is compiled once per
dialect, and each execution only binds values: `parameters` applies the bind processors
SQLAlchemy would (JSON, SQLite's datetime text) to one row; `execute_many` takes rows whose
values are already what the driver takes (`db_value`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for one dialect: the driver's SQL and how to bind a row to it."""

    sql: str
    positions: tuple[str, ...] | None  # None: the driver takes named parameters
    binds: frozenset[str]  # the names a row must carry
    constants: dict[str, Any]  # the statement's own literals (bound parameters that are not values)
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect, values: Collection[str]) -> DriverStatement:
        """`values`: the bind names each execution supplies; any other bound parameter is a constant."""
        compiled = statement.compile(dialect=dialect)
        processors = {}
        for name in compiled.params:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        constants = {k: v for k, v in compiled.params.items() if k not in values}
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        binds = frozenset(compiled.params) - frozenset(constants)
        return cls(compiled.string, positions, binds, constants, processors)

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        """One row's parameters as the driver takes them, bind processors applied."""
        bound = {**self.constants, **values}
        for name, processor in self.processors.items():
            bound[name] = processor(bound[name])
        if self.positions is None:
            return bound
        return tuple(bound[name] for name in self.positions)

    def rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Sequence[Any]:
        """Rows of `columns` values, already driver-ready, in the order the driver binds them."""
        if self.positions is not None:
            at = [columns.index(n) for n in self.positions]
            return rows if at == list(range(len(columns))) else [[r[i] for i in at] for r in rows]
        return [dict(zip(columns, row, strict=True)) for row in rows]


_compiled: dict[tuple[str, str], DriverStatement] = {}


def execute_many(
    connection: Connection,
    name: str,
    build: Callable[[Any], ClauseElement],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool = False,
) -> list[Any]:
    """Run the statement `build(dialect module)` gives (binds named after `columns`) once per
    row with the DBAPI cursor's executemany, compiled once per dialect and cached under `name`.

    Each row holds the values of `columns` in order, already as the driver takes them: JSON
    as text, times through `db_value`. Runs inside the connection's current transaction.
    `returning` (PostgreSQL only: psycopg pipelines the rows and keeps each one's result): the
    rows the statement's RETURNING gave, in order; otherwise an empty list.
    """
    if returning and connection.dialect.name != "postgresql":
        raise ValueError(f"{name}: executemany with RETURNING needs PostgreSQL (psycopg)")
    if not rows:
        return []
    dialect = connection.dialect
    key = (name, dialect.name)
    statement = _compiled.get(key)
    if statement is None:
        built = build(postgresql if dialect.name == "postgresql" else sqlite)
        statement = DriverStatement.compile(built, dialect, columns)
        if statement.binds != set(columns) or statement.constants:
            raise ValueError(f"{name}: statement binds {sorted(statement.binds | set(statement.constants))}, "
                             f"rows carry {sorted(columns)}")  # fmt: skip
        _compiled[key] = statement
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if not returning:
            cursor.executemany(statement.sql, statement.rows(columns, rows))
            return []
        cursor.executemany(statement.sql, statement.rows(columns, rows), returning=True)
        returned: list[Any] = []
        while True:
            returned.extend(cursor.fetchall())
            if not cursor.nextset():
                return returned
    finally:
        cursor.close()


def db_value(connection: Connection, column: Column[Any], value: Any) -> Any:
    """`value` as SQLAlchemy would hand it to this connection's driver for `column`."""
    dialect = connection.dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value
