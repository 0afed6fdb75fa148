"""The scheduler stopped, as a merchant sees it on the Flows page: a critical banner above the flows
says that no flow runs by itself and how it is started again, in the page's language, and a schedule
whose due run was not started is marked overdue; a scheduler that ticks shows neither."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from playwright.sync_api import expect
from sqlalchemy import select

from jobs.scheduler import HEARTBEAT_KEY
from ledger.db import session_scope
from ledger.models import Schedule, Shop, utcnow

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser


def _flow_row(page, flow: str):
    return (
        page.get_by_test_id("flows-table")
        .locator("s-table-row")
        .filter(has=page.get_by_test_id(f"counts-{flow}"))
    )


def _last_tick(fresh, ago: timedelta) -> None:
    """The scheduler's last tick `ago`, and the stock pass (*/3) it enqueued then the last one."""
    at = utcnow() - ago
    redis.Redis.from_url(fresh.settings.redis_url).set(HEARTBEAT_KEY, at.isoformat())
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        for row in db.scalars(select(Schedule).where(Schedule.shop_id == shop)):
            row.last_run_at = row.last_ended_at = at
            row.last_status = "ok"
        installed = db.get(Shop, shop)
        installed.installed_at = min(installed.installed_at or at, at)  # installed before that tick


def test_a_stopped_scheduler_is_said_above_the_flows_and_late_schedules_are_marked(open_page, fresh) -> None:
    first = open_page("/app/flows")  # installs the shop and its schedules
    expect(first.get_by_test_id("flows-table")).to_be_visible()
    expect(first.get_by_test_id("scheduler-stopped")).to_have_count(0)  # before the first tick
    expect(first.get_by_test_id("overdue")).to_have_count(0)
    first.context.close()
    _last_tick(fresh, timedelta(hours=3))

    page = open_page("/app/flows")
    banner = page.get_by_test_id("scheduler-stopped")
    expect(banner).to_have_attribute("tone", "critical")
    expect(banner).to_have_attribute("heading", "O agendador parou: nenhum fluxo roda sozinho")
    expect(banner).to_contain_text("não vão para a Shopify")
    expect(banner).to_contain_text("flask --app app cron")
    expect(_flow_row(page, "stock").get_by_test_id("overdue")).to_contain_text("Atrasada")
    screenshot(page, "flows-scheduler-stopped-pt-BR")

    english = open_page("/app/flows", locale="en")
    banner = english.get_by_test_id("scheduler-stopped")
    expect(banner).to_have_attribute("heading", "The scheduler stopped: no flow runs by itself")
    expect(banner).to_contain_text("start the scheduler process again")
    expect(_flow_row(english, "stock").get_by_test_id("overdue")).to_contain_text("Overdue")
    assert page.errors == [] and english.errors == []


def test_a_ticking_scheduler_shows_no_banner_and_nothing_overdue(open_page, fresh) -> None:
    first = open_page("/app/flows")
    expect(first.get_by_test_id("flows-table")).to_be_visible()
    first.context.close()
    _last_tick(fresh, timedelta(seconds=20))

    page = open_page("/app/flows", locale="en")
    expect(_flow_row(page, "stock").get_by_test_id("last-run")).to_be_visible()
    expect(page.get_by_test_id("scheduler-stopped")).to_have_count(0)
    expect(page.get_by_test_id("overdue")).to_have_count(0)
    assert page.errors == []
