"""Migration 0010: order links get `attention_words`; a row written before keeps its text and no
words (ledger.order_notes reads it as its text); downgrade drops the column."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from ledger import db
from ledger.schema import alembic_config


def test_a_link_written_before_keeps_its_note_and_has_no_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0009")
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
                "INSERT INTO order_links (shop_id, shopify_order_id, needs_attention, created_at, "
                "updated_at) VALUES (:s, 'gid://shopify/Order/1', 'cancellations: old text', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"s": shop_id},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT needs_attention, attention_words FROM order_links")).one()
    assert tuple(row) == ("cancellations: old text", None)
    command.downgrade(alembic_config(url), "0009")
    assert "attention_words" not in {c["name"] for c in inspect(engine).get_columns("order_links")}
    engine.dispose()
