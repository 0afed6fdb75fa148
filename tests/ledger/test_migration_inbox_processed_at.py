"""Migration 0025: webhook inbox rows kept `rejected` (their body unreadable) or dismissed since
(`processed`) without a processed_at get their receipt's time, so the retention deletes them and
the alert e-mails tell the rejected ones; rows with a time, and open ones, are left as they were."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from ledger.schema import alembic_config

RECEIVED = "2026-12-01 10:00:00"
DONE = "2026-12-01 10:00:05"
ROWS = {  # webhook id: (status, processed_at)
    "rejected": ("rejected", None),
    "dismissed": ("processed", None),
    "processed": ("processed", DONE),
    "open": ("received", None),
}


def _upgrade_with_rows(url: str) -> None:
    command.upgrade(alembic_config(url), "0024")
    engine = create_engine(url)
    with engine.begin() as conn:
        for webhook_id, (status, processed_at) in ROWS.items():
            conn.execute(
                text(
                    "INSERT INTO webhook_inbox (webhook_id, topic, shop_domain, raw_body, headers, status, "
                    "received_at, processed_at) VALUES (:w, 'orders/paid', 'a.myshopify.com', :body, '{}', "
                    ":status, :received, :processed)"
                ),
                {
                    "w": webhook_id,
                    "body": b"{",
                    "status": status,
                    "received": RECEIVED,
                    "processed": processed_at,
                },
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT webhook_id, processed_at FROM webhook_inbox")).all()
    engine.dispose()
    found = {webhook_id: str(at)[:19] if at else None for webhook_id, at in rows}
    assert found == {"rejected": RECEIVED, "dismissed": RECEIVED, "processed": DONE, "open": None}


def test_unreadable_and_dismissed_deliveries_get_a_time_on_sqlite(tmp_path: Path) -> None:
    _upgrade_with_rows(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_unreadable_and_dismissed_deliveries_get_a_time_on_postgresql(empty_pg_database_url: str) -> None:
    _upgrade_with_rows(empty_pg_database_url)
