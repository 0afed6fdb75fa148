"""The daily sweeps migrations 0007 (catalog_full) and 0015 (prices_full, stock_full) add to every
shop were rows with no run and no new start: the first tick after the deploy ran every shop's three
whole reads of the ERP at once, whatever the hour (what an install's new start avoids since). They
start at the upgrade now, and first run at their next due time."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from ledger.models import utcnow
from ledger.schedules import DAILY, DEFAULT_SCHEDULES
from ledger.schema import alembic_config

SHOP = (
    "INSERT INTO shops (id, domain, scopes, status, settings, created_at, updated_at, iana_timezone) "
    "VALUES (1, 'a.myshopify.com', '', 'active', '{}', :at, :at, 'America/Sao_Paulo')"
)
SCHEDULE = (
    "INSERT INTO schedules (shop_id, flow, cron, enabled, last_run_at, last_status, updated_at) "
    "VALUES (1, :flow, :cron, true, :at, 'ok', :at)"
)


def test_the_daily_sweeps_an_upgrade_adds_wait_for_their_next_due_time(
    env, empty_pg_database_url, redis_conn
):
    url = empty_pg_database_url
    env.setenv("DATABASE_URL", url)
    command.upgrade(alembic_config(url), "0006")  # a shop of the release at 0006, run every day since
    now = utcnow()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(SHOP), {"at": now})
        for flow in ("products", "skus", "prices", "stock", "order_events", "orders", "reconcile"):
            conn.execute(text(SCHEDULE), {"flow": flow, "cron": DEFAULT_SCHEDULES[flow], "at": now})
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        added = conn.execute(text("SELECT flow FROM schedules WHERE cron_changed_at IS NOT NULL")).scalars()
        assert set(added) == {"catalog_full", "prices_full", "stock_full"}
    engine.dispose()
    from jobs import scheduler

    ran = scheduler.tick(utcnow())  # the first tick after the deploy
    assert not [job for job in ran if any(f"-{flow}-" in job for flow in DAILY)], ran
