"""Migration 0005 builds its indexes CONCURRENTLY on PostgreSQL, each committed on its own: a build
stopped midway (a deploy timeout, Ctrl-C) leaves the version at 0004 with some indexes built and the
one being built INVALID. Running the upgrade again finishes it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from ledger import trace
from ledger.schema import alembic_config


@pytest.fixture
def at_0004(empty_pg_database_url: str) -> str:
    command.upgrade(alembic_config(empty_pg_database_url), "0004")
    return empty_pg_database_url


def _state(url: str) -> tuple[dict[str, bool], str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('messages', 'order_links')"
            )
        ).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return {name: valid for name, valid in rows}, version


def test_an_upgrade_stopped_midway_is_finished_by_running_it_again(at_0004: str) -> None:
    engine = create_engine(at_0004, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(text("CREATE INDEX CONCURRENTLY ix_messages_shop_id ON messages (shop_id, id)"))
        # the build that was stopped: a concurrent build that fails leaves its index INVALID
        with Session(conn) as session:  # two messages of one shop: a unique index on shop_id fails
            # the shops table as 0004 left it (the model has columns later revisions add)
            shop_id = session.execute(
                text(
                    "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) "
                    "VALUES ('a.myshopify.com', '', 'active', '{}', now(), now()) RETURNING id"
                )
            ).scalar_one()
            trace.begin(session, shop_id, "orders", "order:1", "shopify_to_erp")
            trace.begin(session, shop_id, "orders", "order:2", "shopify_to_erp")
            session.commit()
        with pytest.raises(Exception, match="could not create unique index"):
            conn.execute(text("CREATE UNIQUE INDEX CONCURRENTLY ix_messages_open ON messages (shop_id)"))
    engine.dispose()
    indexes, version = _state(at_0004)
    assert version == "0004" and indexes["ix_messages_shop_id"] and not indexes["ix_messages_open"]

    command.upgrade(alembic_config(at_0004), "0005")
    indexes, version = _state(at_0004)
    assert version == "0005"
    assert all(indexes.values()) and "ix_messages_open" in indexes and "ix_messages_search" not in indexes
