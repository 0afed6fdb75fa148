"""Migration 0026: audit events keep the names of the people in them. The events written before
are named from the roles table as it is at the upgrade (what the page showed): a staff actor and a
role event's "user:<id>" target, per shop; the app's own actors never (a roles row "system" named
by an admin before staff ids had to be numbers names nobody)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from ledger.schema import alembic_config

EVENTS = [  # (shop, actor, target)
    (1, "2", "settings"),
    (1, "1", "user:2"),
    (1, "system", "user:1"),
    (1, "7", "settings"),  # a person with no roles row (removed before the upgrade)
    (2, "2", "settings"),  # another shop's staff member 2
]


def _upgrade_with_rows(url: str) -> None:
    command.upgrade(alembic_config(url), "0025")
    engine = create_engine(url)
    with engine.begin() as conn:
        for shop_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO shops (id, domain, scopes, status, settings, installed_at, created_at, "
                    "updated_at) VALUES (:i, :d, '', 'active', '{}', :t, :t, :t)"
                ),
                {"i": shop_id, "d": f"s{shop_id}.myshopify.com", "t": "2026-12-01"},
            )
        for shop_id, user_id, name in (
            (1, "2", "Maria Souza"),
            (1, "1", None),
            (1, "system", "Carlos"),
            (2, "2", "Bia"),
        ):
            conn.execute(
                text(
                    "INSERT INTO staff_roles (shop_id, user_id, role, name, updated_at) "
                    "VALUES (:s, :u, 'admin', :n, '2026-12-01')"
                ),
                {"s": shop_id, "u": user_id, "n": name},
            )
        for shop_id, actor, target in EVENTS:
            conn.execute(
                text(
                    "INSERT INTO audit_events (shop_id, shop_domain, actor, action, target, created_at) "
                    "VALUES (:s, :d, :a, 'x.changed', :t, '2026-12-01')"
                ),
                {"s": shop_id, "d": f"s{shop_id}.myshopify.com", "a": actor, "t": target},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT shop_id, actor, target, actor_name, target_name FROM audit_events ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "2", "settings", "Maria Souza", None),
        (1, "1", "user:2", None, "Maria Souza"),
        (1, "system", "user:1", None, None),
        (1, "7", "settings", None, None),
        (2, "2", "settings", "Bia", None),
    ]


def test_earlier_events_are_named_from_the_roles_table_on_sqlite(tmp_path: Path) -> None:
    _upgrade_with_rows(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_earlier_events_are_named_from_the_roles_table_on_postgresql(empty_pg_database_url: str) -> None:
    _upgrade_with_rows(empty_pg_database_url)
