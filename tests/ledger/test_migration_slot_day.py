"""Migration 0021: order links get the slot's day and start, filled from the slot text kept before
(0018's), on SQLite and on PostgreSQL (where the index is built CONCURRENTLY); downgrade drops them.
The migration's own copy of the parse reads the slots as ledger.slot_day does."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from ledger.schema import alembic_config
from ledger.slot_day import slot_start

SLOTS = {
    "gid://shopify/Order/1": "Delivery-Date: 05/12/2026; Delivery-Time: 1:00 PM - 2:00PM",
    "gid://shopify/Order/2": "Data de retirada: 2026/12/06",
    "gid://shopify/Order/3": "Horário: 8h às 12h",  # no day
    "gid://shopify/Order/4": None,
}


def _upgrade_with_slots(url: str) -> None:
    command.upgrade(alembic_config(url), "0020")
    engine = create_engine(url)
    with engine.begin() as conn:
        shop_id = conn.execute(
            text(
                "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                "('a.myshopify.com', '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            )
        ).scalar_one()
        for gid, slot in SLOTS.items():
            conn.execute(
                text(
                    "INSERT INTO order_links (shop_id, shopify_order_id, delivery_slot, created_at, "
                    "updated_at) VALUES (:s, :gid, :slot, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"s": shop_id, "gid": gid, "slot": slot},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT shopify_order_id, slot_day, slot_time FROM order_links")).all()
    found = {gid: (date.fromisoformat(str(day)) if day else None, start) for gid, day, start in rows}
    assert found == {
        "gid://shopify/Order/1": (date(2026, 12, 5), "13:00"),
        "gid://shopify/Order/2": (date(2026, 12, 6), None),
        "gid://shopify/Order/3": (None, None),
        "gid://shopify/Order/4": (None, None),
    }
    assert "ix_order_links_slot_day" in {i["name"] for i in inspect(engine).get_indexes("order_links")}
    command.downgrade(alembic_config(url), "0020")
    assert "slot_day" not in {c["name"] for c in inspect(engine).get_columns("order_links")}
    engine.dispose()


def test_links_kept_before_get_their_slots_day_on_sqlite(tmp_path: Path) -> None:
    _upgrade_with_slots(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_links_kept_before_get_their_slots_day_on_postgresql(empty_pg_database_url: str) -> None:
    _upgrade_with_slots(empty_pg_database_url)


@pytest.mark.parametrize(
    "slot",
    [
        "Delivery-Date: 05/12/2026; Delivery-Time: 13:00 - 14:00",
        "Data de entrega: 5-12-26; Horário de entrega: 8h às 12h",
        "Pickup-Date: 2026/12/06; Pickup-Time: 10h30",
        "Delivery-Date: 06/12/2026; Delivery-Time: 12 am",
        "Entrega: 31/02/2026 10:00; 01/03/2026 9H",
        "sem data",
    ],
)
def test_the_migrations_parse_reads_as_the_apps(slot: str) -> None:
    path = Path(__file__).parents[2] / "migrations" / "versions" / "0021_order_link_slot_day.py"
    spec = importlib.util.spec_from_file_location("migration_0021", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._start(slot) == slot_start(slot)
