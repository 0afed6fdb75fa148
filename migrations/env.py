"""Alembic environment: the URL is DATABASE_URL (or the connection handed in by ledger.schema)."""

from __future__ import annotations

from alembic import context

from ledger.db import get_engine
from ledger.models import Base
from settings import get_settings

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = get_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Batch mode rebuilds a SQLite table (copy, DROP, rename): with foreign keys on, the
            # DROP deletes every child row through ON DELETE CASCADE. Off for the migration (a
            # PRAGMA outside any transaction), on again before the connection goes back to the pool.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            try:
                # sqlite3 runs DDL outside any transaction unless one is open: a migration stopped
                # midway (Ctrl-C, "database is locked") kept what it had done under the previous
                # version, and the upgrade run again stopped on it. In one transaction, as on PostgreSQL.
                conn.exec_driver_sql("BEGIN")
                _run(conn, transactional_ddl=True)
                conn.commit()
            finally:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
            return
        _run(conn)
        conn.commit()


def _run(connection, **options) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, **options)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
