"""The Orders page lists a day's delivery and pickup slots in the order the store picks them (the
08:00 window before the 13:00 one, a pickup with no time last), not in the order they were placed:
the day is picked in its field, or with Today / Tomorrow (the shop's day, America/Sao_Paulo in the
sandbox), "Load more" pages on through the day, and "All days" goes back to the newest first."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope

from .conftest import SHOP_DOMAIN
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser


def _shop_today() -> date:
    """The shop's day now, read when a test runs (at import, a run crossing midnight in Sao Paulo
    expected yesterday's Today)."""
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def _slots(day: date, tomorrow: date) -> dict[str, str | None]:
    """name: the slot as obsPedido names it, in the order they were placed."""
    return {
        "#6001": f"Delivery-Date: {day:%d/%m/%Y}; Delivery-Time: 1:00 PM - 2:00PM",
        "#6002": f"Data de retirada: {day:%d/%m/%Y}",
        "#6003": f"Data de entrega: {day.day}-{day.month}-{day:%y}; Horário de entrega: 08h às 12h",
        "#6004": f"Data de entrega: {tomorrow:%d/%m/%Y}; Horário de entrega: 07h às 09h",
        "#6005": None,
    }


def _seed(database_url: str, shop: int, slots: dict[str, str | None]) -> None:
    from ledger.models import OrderLink

    with session_scope(database_url) as db:
        for n, (name, slot) in enumerate(slots.items()):
            db.add(
                OrderLink(
                    shop_id=shop,
                    shopify_order_id=f"gid://shopify/Order/{8100 + n}",
                    shopify_order_name=name,
                    delivery_slot=slot,
                )
            )


def _names(page, count: int) -> list[str]:
    """The listed orders' names, once `count` rows are drawn (the list's answer came)."""
    rows = page.get_by_test_id("orders-results").locator("s-table-body s-table-row")
    expect(rows).to_have_count(count)
    return [re.search(r"#\d+", text)[0] for text in rows.all_inner_texts()]


def test_a_days_orders_are_listed_in_the_order_they_are_picked(open_page, fresh) -> None:
    # a browser a day ahead of the shop for most of the day: Today / Tomorrow are the shop's days
    shop_today = _shop_today()
    day = shop_today + timedelta(days=3)  # not today nor tomorrow, whatever the day the suite runs
    tomorrow = shop_today + timedelta(days=1)
    page = open_page("/app/orders", locale="pt-BR", timezone_id="Pacific/Kiritimati")
    _seed(
        fresh.settings.database_url, shop_id(fresh.settings.database_url, SHOP_DOMAIN), _slots(day, tomorrow)
    )
    page.reload()
    assert _names(page, 5) == ["#6005", "#6004", "#6003", "#6002", "#6001"]  # newest first
    page.get_by_label("Dia da entrega ou retirada").fill(day.isoformat())
    page.get_by_label("Dia da entrega ou retirada").press("Enter")  # "change": the day is asked for
    expect(page).to_have_url(re.compile(f"slot_day={day.isoformat()}"))
    written = day.strftime("%d").lstrip("0") + " de "  # "sábado, 8 de dezembro de 2026"
    expect(page.get_by_test_id("orders-day-line")).to_contain_text(re.compile(f"{written}\\w+ de {day.year}"))
    assert _names(page, 3) == ["#6003", "#6001", "#6002"]
    expect(page.get_by_label("Dia da entrega ou retirada")).to_have_value(day.isoformat())

    page.get_by_test_id("orders-day-line").get_by_role("link", name="Todos os dias").click()
    expect(page).not_to_have_url(re.compile("slot_day"))
    assert _names(page, 5) == ["#6005", "#6004", "#6003", "#6002", "#6001"]

    page.get_by_role("button", name="Amanhã").click()
    expect(page).to_have_url(re.compile(f"slot_day={tomorrow.isoformat()}"))
    assert _names(page, 1) == ["#6004"]
    page.get_by_role("button", name="Hoje").click()
    expect(page).to_have_url(re.compile(f"slot_day={shop_today.isoformat()}"))
    expect(page.get_by_test_id("orders-results")).to_contain_text("Nenhum pedido agendado para este dia.")
    assert page.errors == []


def test_load_more_pages_on_through_the_day(open_page, fresh) -> None:
    """Past a page, the day's next slots follow in picking order (the `after` cursor)."""
    from ledger.models import OrderLink

    day = _shop_today() + timedelta(days=3)
    page = open_page("/app/orders", locale="en", slot_day=day.isoformat())
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        for n in range(52):  # placed latest-slot first: the id order is the reverse of the picking
            hour = 20 - n // 4
            db.add(
                OrderLink(
                    shop_id=shop,
                    shopify_order_id=f"gid://shopify/Order/{8200 + n}",
                    shopify_order_name=f"#{7000 + n}",
                    delivery_slot=f"Delivery-Date: {day:%d/%m/%Y}; Delivery-Time: {hour:02d}:00",
                )
            )
    page.reload()
    rows = page.get_by_test_id("orders-results").locator("s-table-body s-table-row")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(52)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    times = [re.search(r"Delivery-Time: (\d\d:\d\d)", text)[1] for text in rows.all_inner_texts()]
    assert times == sorted(times) and times[0] == "08:00" and times[-1] == "20:00"
    assert page.errors == []
