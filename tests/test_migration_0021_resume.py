"""Migration 0021 adds two columns, fills them, then builds its index CONCURRENTLY (its docstring:
"an interrupted build (left INVALID) is dropped and built again by the next upgrade"). The
autocommit block commits the added columns before the build; a build stopped midway (a deploy
timeout, Ctrl-C) leaves the version at 0020 with the columns there: the next upgrade adds only the
columns missing, so running it again finishes it (it stopped on adding them again)."""

from __future__ import annotations

import threading
import time

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from ledger.schema import alembic_config, behind_head


@pytest.fixture
def at_0020(empty_pg_database_url: str) -> str:
    command.upgrade(alembic_config(empty_pg_database_url), "0020")
    return empty_pg_database_url


def test_an_0021_upgrade_stopped_during_its_index_build_is_finished_by_running_it_again(at_0020: str) -> None:
    url = at_0020
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    writer = create_engine(url, isolation_level="REPEATABLE READ")
    failure: dict = {}

    def upgrade() -> None:
        try:
            command.upgrade(alembic_config(url), "0021")
        except Exception as exc:  # the build cancelled: what a deploy's timeout leaves
            failure["exc"] = exc

    with writer.connect() as busy:
        # a transaction of the running app, its snapshot older than the build: CREATE INDEX
        # CONCURRENTLY waits for it to end before it finishes (a long report, a bulk job)
        busy.execute(text("SELECT count(*) FROM shops"))
        thread = threading.Thread(target=upgrade, daemon=True)
        thread.start()
        with admin.connect() as conn:
            pid = None
            for _ in range(200):
                pid = conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND query ILIKE 'CREATE INDEX CONCURRENTLY%'"
                    )
                ).scalar()
                if pid:
                    break
                time.sleep(0.05)
            assert pid, "the index build never started"
            conn.execute(text("SELECT pg_cancel_backend(:p)"), {"p": pid})  # the deploy's timeout / Ctrl-C
        thread.join(timeout=30)
        busy.rollback()
    assert "exc" in failure
    with admin.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        columns = set(
            conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'order_links'")
            ).scalars()
        )
    assert version == "0020" and {"slot_day", "slot_time"} <= columns  # the stopped run's state

    try:
        command.upgrade(alembic_config(url), "head")  # the deploy run again
    finally:
        admin.dispose()
        writer.dispose()
    assert behind_head(url) is None  # at head
    with create_engine(url).connect() as conn:
        valid = conn.execute(
            text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = 'ix_order_links_slot_day'"
            )
        ).scalar_one()
    assert valid
