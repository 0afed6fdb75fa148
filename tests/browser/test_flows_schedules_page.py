"""The Flows page's schedules and chart as a merchant reads them: the chart's hours in the store's
time zone, a schedule switched off says so and is switched back on from its row, the full catalog
sweep says what it does and where its messages are, and a cron expression fits its field."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from jobs import variant_quota
from ledger import trace
from ledger import variant_quota as ledger_quota
from ledger.db import session_scope
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Schedule, utcnow

from .conftest import SHOP_DOMAIN, api_call, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

SHOP_ZONE = ZoneInfo("America/Sao_Paulo")  # the sandbox shop's ianaTimezone


# The width of the field's text, and the room the field has for it (inside its padding).
TEXT_AND_ROOM = """input => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [context.measureText(input.value).width, room];
}"""


def _row(page, name: str):
    return page.get_by_test_id("flows-table").locator("s-table-row").filter(has_text=name)


def _flow_row(page, flow: str):
    """The flow's row by its name (a label is also text in another row: "Prices" in the help of the
    full price sweep)."""
    return (
        page.get_by_test_id("flows-table")
        .locator("s-table-row")
        .filter(has=page.get_by_test_id(f"counts-{flow}"))
    )


def _enabled(database_url: str, shop: int, flow: str) -> bool:
    with session_scope(database_url) as db:
        return (
            db.scalars(select(Schedule).where(Schedule.shop_id == shop, Schedule.flow == flow)).one().enabled
        )


def test_the_chart_reads_hours_in_the_stores_time_zone(open_page, fresh) -> None:
    page = open_page("/app/flows", timezone_id="Asia/Tokyo")  # 12 h ahead of São Paulo
    expect(page.get_by_test_id("messages-total")).to_be_visible()
    metrics = api_call(page, "GET", "/api/flows/metrics?hours=24")
    assert metrics["status"] == 200, metrics
    hours = [p["hour"] for p in json.loads(metrics["body"])["per_hour"]]
    expected = [
        datetime.fromisoformat(hour.replace("Z", "+00:00")).astimezone(SHOP_ZONE).strftime("%H:%M")
        for i, hour in enumerate(hours)
        if i % 6 == 0
    ]
    ticks = (
        page.locator("svg.chart")
        .first.locator(":scope > text")
        .evaluate_all("all => all.map((e) => e.textContent)")
    )
    assert ticks[1:] == expected, (ticks, expected)  # the first text is the scale's maximum


def test_a_schedule_switched_off_says_so_and_is_switched_on_from_its_row(open_page, fresh) -> None:
    page = open_page("/app/flows")
    full = _row(page, "Catálogo completo")
    expect(full.get_by_test_id("schedule-off")).to_have_count(0)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)

    full.get_by_role("button", name="Desligar a execução agendada de Catálogo completo").click()
    expect(full.get_by_test_id("schedule-off")).to_have_text("desligada")
    assert _enabled(fresh.settings.database_url, shop, "catalog_full") is False
    screenshot(page, "flows-schedule-off-pt-BR")

    full.get_by_role("button", name="Ligar a execução agendada de Catálogo completo").click()
    expect(full.get_by_test_id("schedule-off")).to_have_count(0)
    assert _enabled(fresh.settings.database_url, shop, "catalog_full") is True
    assert page.errors == []


def test_a_viewer_sees_a_schedule_off_but_cannot_switch_it(open_page, fresh) -> None:
    owner = open_page("/app/flows")
    answer = api_call(owner, "PUT", "/api/flows/prices/schedule", {"cron": "*/5 * * * *", "enabled": False})
    assert answer["status"] == 200, answer

    viewer = open_page("/app/flows", user="estoquista", locale="en")
    prices = _flow_row(viewer, "prices")
    expect(prices.get_by_test_id("schedule-off")).to_have_text("off")
    expect(prices.get_by_role("button", name="Switch on the scheduled runs of Prices")).to_have_count(0)


def test_the_full_catalog_sweep_says_what_it_does_and_has_no_counts_of_its_own(open_page, fresh) -> None:
    page = open_page("/app/flows")
    full = _row(page, "Catálogo completo")
    expect(full.get_by_test_id("flow-help-catalog_full")).to_contain_text("apagadas no ERP")
    expect(full.get_by_test_id("flow-help-catalog_full")).to_contain_text("diária por padrão")
    assert "diário)" not in full.inner_text()
    counts = page.get_by_test_id("counts-catalog_full")
    expect(counts.locator("[data-count]")).to_have_count(0)  # its messages are products' and SKUs'
    expect(counts.locator("s-link")).to_have_count(2)
    counts.locator("s-link").filter(has_text="SKUs").click()
    page.wait_for_url("**flow=skus**")

    english = open_page("/app/flows", locale="en")
    full = _row(english, "Full catalog sweep")
    expect(full.get_by_test_id("flow-help-catalog_full")).to_contain_text("deleted in the ERP")
    assert "(daily)" not in full.inner_text()


@pytest.mark.parametrize("width", [1400, 1024])
def test_a_cron_expression_fits_its_field(open_page, fresh, width: int) -> None:
    first = open_page("/app/flows")  # installs the shop and its schedules
    expect(first.get_by_label("Agenda de Produtos")).to_be_visible()
    first.context.close()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:  # every row says how its last run ended
        for row in db.scalars(select(Schedule).where(Schedule.shop_id == shop)):
            row.last_status, row.last_run_at, row.last_ended_at = "ok", utcnow(), utcnow()

    page = open_page("/app/flows")
    page.set_viewport_size({"width": width, "height": 900})
    expect(page.get_by_test_id("last-run").first).to_be_visible()
    for flow, cron in (("Produtos", "*/15 * * * *"), ("Conciliação", "0 6 * * *")):
        field = page.get_by_label(f"Agenda de {flow}")
        expect(field).to_have_value(cron)
        widths = field.evaluate(TEXT_AND_ROOM)
        assert widths[0] <= widths[1], (flow, widths)  # the whole expression shows, none scrolled away


def test_shopifys_daily_limit_on_new_variants_is_said_above_the_flows(open_page, fresh) -> None:
    """New products held by Shopify's daily limit on new variants (jobs.variant_quota): a banner
    above the flows says how many wait and when the app tries again, in the page's language, and
    links to their messages."""
    page = open_page("/app/flows")
    expect(page.get_by_test_id("flows-table")).to_be_visible()
    expect(page.get_by_test_id("variant-quota")).to_have_count(0)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        until = ledger_quota.hold(db, shop)
        for seq in (5, 7, 9):
            message = trace.begin(db, shop, "products", f"product:{seq}", ERP_TO_SHOPIFY)
            trace.fail(db, message, variant_quota.waiting_error(until))

    page = open_page("/app/flows")
    banner = page.get_by_test_id("variant-quota")
    expect(banner).to_contain_text("3 produto(s) esperam para ser criados na Shopify")
    expect(banner).to_contain_text("O app tenta de novo sozinho depois de")
    screenshot(page, "flows-variant-quota-pt-BR")
    banner.locator("s-link").click()
    page.wait_for_url("**flow=products**")
    assert "status=retrying" in page.url
    reasons = page.get_by_test_id("failure-reason")  # each message says why, in the page's language
    expect(reasons).to_have_count(3)
    expect(reasons.first).to_contain_text("1.000 novas por dia")

    english = open_page("/app/flows", locale="en")
    expect(english.get_by_test_id("variant-quota")).to_contain_text(
        "3 product(s) wait to be created in Shopify"
    )
    assert page.errors == [] and english.errors == []


def _cron_host(page):
    """The products flow's schedule field itself (its label finds the input inside)."""
    return page.locator("s-text-field.cron-field").filter(has=page.get_by_label("Agenda de Produtos"))


def test_a_schedule_being_typed_outlives_the_pages_own_refresh(open_page, fresh) -> None:
    """The table is drawn again on every change of any flow and every 30 s: an expression typed and
    not saved yet went back to the saved one under the admin's hands, and so did one refused with its
    error on the field."""
    page = open_page("/app/flows", clock=True)
    field = page.get_by_label("Agenda de Produtos")
    expect(field).to_have_value("*/15 * * * *")
    field.fill("*/5 * * * *")
    before = page.get_by_test_id("updated-at").inner_text()
    page.clock.fast_forward(31_000)  # past the page's full read
    expect(page.get_by_test_id("updated-at")).not_to_have_text(before)
    expect(page.get_by_label("Agenda de Produtos")).to_have_value("*/5 * * * *")

    field = page.get_by_label("Agenda de Produtos")
    field.fill("61 * * * *")
    cell = page.locator("div").filter(has=field).last
    cell.get_by_role("button", name="Salvar agenda").click()
    expect(_cron_host(page)).to_have_attribute("error", re.compile("61"))
    before = page.get_by_test_id("updated-at").inner_text()
    page.clock.fast_forward(31_000)
    expect(page.get_by_test_id("updated-at")).not_to_have_text(before)
    expect(page.get_by_label("Agenda de Produtos")).to_have_value("61 * * * *")
    expect(_cron_host(page)).to_have_attribute("error", re.compile("61"))

    page.get_by_label("Agenda de Produtos").fill("*/5 * * * *")
    page.locator("div").filter(has=page.get_by_label("Agenda de Produtos")).last.get_by_role(
        "button", name="Salvar agenda"
    ).click()
    expect(page.locator("#stand-in-toasts")).to_contain_text("Salvo")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as session:
        cron = session.scalar(
            select(Schedule.cron).where(Schedule.shop_id == shop, Schedule.flow == "products")
        )
    assert cron == "*/5 * * * *"
    page.clock.fast_forward(31_000)
    expect(page.get_by_label("Agenda de Produtos")).to_have_value("*/5 * * * *")
    expect(_cron_host(page)).not_to_have_attribute("error", re.compile("."))
