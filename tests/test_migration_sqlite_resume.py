"""On SQLite (the development/demo ledger) alembic ran each migration in its own transaction and
sqlite3 ran DDL outside any open transaction: a migration stopped midway kept the DDL done so far
while its version stayed the previous one, and running the upgrade again stopped on what was there
(migrations/env.py now opens the transaction)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import event, text

from ledger import db
from ledger.schema import alembic_config


def test_a_sqlite_upgrade_stopped_during_0005_is_finished_by_running_it_again(tmp_path):
    url = f"sqlite:///{tmp_path}/dev.db"
    command.upgrade(alembic_config(url), "0004")
    engine = db.get_engine(url)
    seen = []

    def ctrl_c(conn, cursor, statement, *args):  # Ctrl-C (or a deploy timeout) during the 3rd index build
        if statement.lstrip().upper().startswith("CREATE INDEX"):
            seen.append(statement)
            if len(seen) == 3:
                raise KeyboardInterrupt

    event.listen(engine, "before_cursor_execute", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        command.upgrade(alembic_config(url), "0005")
    event.remove(engine, "before_cursor_execute", ctrl_c)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    command.upgrade(alembic_config(url), "head")  # the upgrade run again


def test_a_sqlite_upgrade_failing_in_0023_is_finished_by_running_it_again(tmp_path):
    url = f"sqlite:///{tmp_path}/dev.db"
    command.upgrade(alembic_config(url), "0022")
    engine = db.get_engine(url)

    def busy(conn, cursor, statement, *args):  # the UPDATE after the ADD COLUMN fails (database is locked)
        if statement.startswith("UPDATE erp_connections SET verified_at"):
            raise RuntimeError("database is locked")

    event.listen(engine, "before_cursor_execute", busy)
    with pytest.raises(RuntimeError):
        command.upgrade(alembic_config(url), "0023")
    event.remove(engine, "before_cursor_execute", busy)
    command.upgrade(alembic_config(url), "head")
