"""Migration 0011: schedules get `last_job_id` and `cron_changed_at`; a row written before keeps
its cron and last run and has neither (the tick then has no earlier run to ask RQ about, and no
edit to start from); downgrade drops both."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from ledger import db
from ledger.schema import alembic_config


def test_a_schedule_written_before_keeps_its_run_and_has_no_job_id(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0010")
    engine = db.get_engine(url)
    with engine.begin() as conn:
        shop_id = conn.execute(
            text(
                "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                "('a.myshopify.com', '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO schedules (shop_id, flow, cron, enabled, last_run_at, last_status, updated_at) "
                "VALUES (:s, 'catalog_full', '0 5 * * *', 1, '2026-11-28 05:00:05', 'ok', CURRENT_TIMESTAMP)"
            ),
            {"s": shop_id},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT cron, last_status, last_job_id, cron_changed_at FROM schedules")
        ).one()
    assert tuple(row) == ("0 5 * * *", "ok", None, None)
    command.downgrade(alembic_config(url), "0010")
    columns = {c["name"] for c in inspect(engine).get_columns("schedules")}
    assert not columns & {"last_job_id", "cron_changed_at"} and "last_run_at" in columns
    engine.dispose()
