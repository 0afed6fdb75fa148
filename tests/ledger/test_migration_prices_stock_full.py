"""Migration 0015: a shop installed before the daily price and stock sweeps existed gets their
schedules (a new install gets them from ledger.schedules), each stopped as the shop's prices or
stock schedule is."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from ledger import db
from ledger.schedules import DEFAULT_SCHEDULES
from ledger.schema import alembic_config

SHOPS = (  # domain, (prices enabled, its last status), (stock enabled, its last status)
    ("a", (True, "ok"), (True, None)),
    ("b", (False, "uninstalled"), (False, "uninstalled")),
    ("c", (True, "failed"), (False, None)),  # the merchant stopped its stock flow alone
)


def test_shops_installed_before_get_the_price_and_stock_sweep_schedules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0014")
    engine = db.get_engine(url)
    with engine.begin() as conn:
        for domain, *flows in SHOPS:
            shop_id = conn.execute(
                text(
                    "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                    "(:d, '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"d": f"{domain}.myshopify.com"},
            ).scalar_one()
            for flow, (enabled, status) in zip(("prices", "stock"), flows, strict=True):
                conn.execute(
                    text(
                        "INSERT INTO schedules (shop_id, flow, cron, enabled, last_status, updated_at) "
                        "VALUES (:s, :f, '*/5 * * * *', :e, :st, CURRENT_TIMESTAMP)"
                    ),
                    {"s": shop_id, "f": flow, "e": enabled, "st": status},
                )

    command.upgrade(alembic_config(url), "head")

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.domain, c.flow, c.cron, c.enabled, c.last_status FROM schedules c JOIN shops s "
                "ON s.id = c.shop_id WHERE c.flow IN ('prices_full', 'stock_full') ORDER BY s.domain, c.flow"
            )
        ).all()
    prices, stock = DEFAULT_SCHEDULES["prices_full"], DEFAULT_SCHEDULES["stock_full"]
    assert [tuple(r) for r in rows] == [
        ("a.myshopify.com", "prices_full", prices, 1, None),
        ("a.myshopify.com", "stock_full", stock, 1, None),
        ("b.myshopify.com", "prices_full", prices, 0, "uninstalled"),  # a reinstall turns them back on
        ("b.myshopify.com", "stock_full", stock, 0, "uninstalled"),
        ("c.myshopify.com", "prices_full", prices, 1, None),
        ("c.myshopify.com", "stock_full", stock, 0, None),  # stopped as its stock flow is
    ]
    command.downgrade(alembic_config(url), "0014")
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM schedules WHERE flow IN ('prices_full', 'stock_full')")
        ).scalar_one()
    assert left == 0
    engine.dispose()
