"""The Orders column the API fills from `captured_amount` holds what Shopify took for the order
(sales at checkout and captures of authorisations, refunds not taken off: jobs.invoices and
jobs.orders set it so), Shopify's own "Paid by customer": it is labelled so, not a bare "Pago"
that reads like a settled balance, and its help says how it differs from the authorised amount."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import SHOP_DOMAIN
from .ledger_rows import invoiced_order, shop_id

pytestmark = pytest.mark.browser

SAID = {
    "pt-BR": ("Pago pelo cliente", "reembolsos", "Autorizado: R$", "só reservado"),
    "en": ("Paid by customer", "refunds", "Authorized: R$", "only reserved"),
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_the_paid_column_says_what_its_amount_is(open_page, fresh, locale: str) -> None:
    heading, refunds, authorised, reserved = SAID[locale]
    page = open_page("/app/orders", locale=locale)
    link_id = invoiced_order(fresh.settings.database_url, shop_id(fresh.settings.database_url, SHOP_DOMAIN),
                             "#1002", 41)  # fmt: skip
    page.reload()
    header = page.locator("s-table-header").filter(has_text=heading)
    expect(header).to_have_count(1)
    expect(header.locator("[title]")).to_have_attribute("title", re.compile(refunds))
    slot = page.locator("s-table-row").filter(has_text="#1002").get_by_test_id("delivery-slot")
    said = "Agendamento" if locale == "pt-BR" else "Slot"  # the slot the customer chose, under the name
    expect(slot).to_have_text(f"{said}: Data de entrega: 05/12/2026; Horário de entrega: 08h às 12h")
    page.goto(fresh.page_url(f"/app/orders/{link_id}", locale=locale))
    line = page.get_by_test_id("order-summary-line")
    expect(line).to_contain_text(authorised)
    expect(page.get_by_test_id("order-money-help")).to_contain_text(reserved)
    expect(page.locator("s-table-row").filter(has_text="#1002")).to_contain_text(
        "152,40" if locale == "pt-BR" else "152.40"
    )
    assert page.errors == []
