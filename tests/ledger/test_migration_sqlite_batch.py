"""Migrations on SQLite (the embedded default, the demo) never lose rows through a table rebuild.

Alembic's batch mode rebuilds a SQLite table (copy, DROP, rename); with foreign keys on, the DROP
deletes every child row through ON DELETE CASCADE. migrations/env.py turns them off for the run
and on again after."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from ledger import db
from ledger.schema import alembic_config


def test_downgrading_a_batch_migration_of_shops_keeps_every_child_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = db.get_engine(url)  # the ledger's engine (foreign keys on), as env.py uses
    with engine.begin() as conn:
        shop_id = conn.execute(
            text(
                "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                "('a.myshopify.com', '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO mappings (shop_id, kind, shopify_code, erp_code, updated_at) "
                "VALUES (:s, 'payment_method', 'pix', '7', CURRENT_TIMESTAMP)"
            ),
            {"s": shop_id},
        )
    command.downgrade(alembic_config(url), "0005")  # 0006 drops shops.iana_timezone in batch mode
    with engine.connect() as conn:
        shops = conn.execute(text("SELECT count(*) FROM shops")).scalar_one()
        mappings = conn.execute(text("SELECT count(*) FROM mappings")).scalar_one()
        foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
    assert (shops, mappings) == (1, 1)
    assert foreign_keys == 1  # the pooled connection has them on again
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mappings")).scalar_one() == 1
