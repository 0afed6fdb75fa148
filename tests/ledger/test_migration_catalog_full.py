"""Migration 0007: a shop installed before the daily full catalog sweep existed gets its schedule
(a new install gets it from ledger.schedules), stopped as the shop's skus schedule is."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from ledger import db
from ledger.schedules import DEFAULT_SCHEDULES
from ledger.schema import alembic_config


def test_shops_installed_before_get_the_full_sweep_schedule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0006")
    engine = db.get_engine(url)
    with engine.begin() as conn:
        for domain, enabled, status in (("a", True, "ok"), ("b", False, "uninstalled"), ("c", False, None)):
            shop_id = conn.execute(
                text(
                    "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                    "(:d, '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"d": f"{domain}.myshopify.com"},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO schedules (shop_id, flow, cron, enabled, last_status, updated_at) "
                    "VALUES (:s, 'skus', '*/15 * * * *', :e, :st, CURRENT_TIMESTAMP)"
                ),
                {"s": shop_id, "e": enabled, "st": status},
            )

    command.upgrade(alembic_config(url), "head")

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.domain, c.cron, c.enabled, c.last_status FROM schedules c JOIN shops s "
                "ON s.id = c.shop_id WHERE c.flow = 'catalog_full' ORDER BY s.domain"
            )
        ).all()
    cron = DEFAULT_SCHEDULES["catalog_full"]
    assert [tuple(r) for r in rows] == [
        ("a.myshopify.com", cron, 1, None),
        ("b.myshopify.com", cron, 0, "uninstalled"),  # a reinstall turns it back on with the rest
        ("c.myshopify.com", cron, 0, None),  # the merchant stopped the catalog: stays stopped
    ]
    command.downgrade(alembic_config(url), "0006")
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM schedules WHERE flow = 'catalog_full'")).scalar_one()
    assert left == 0
    engine.dispose()
