"""The Orders page names the fiscal document by its model (an NFC-e, model 65, is not an NF-e) and
marks an NF-e the ERP cancelled with its order; the "Invoiced" filter leaves that order out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope
from ledger.models import OrderLink, utcnow

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import invoiced_order, shop_id

pytestmark = pytest.mark.browser

NFCE = "35261153464097000150650010000000011078840990"  # digits 21-22: 65


def test_a_consumer_receipt_is_named_an_nfce(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    order_id = invoiced_order(database, shop_id(database, SHOP_DOMAIN), "#1003", 3)
    with session_scope(database) as db:
        link = db.get(OrderLink, order_id)
        link.nfe_key, link.nfe_number, link.nfe_series, link.nfe_model = NFCE, "1", "1", None  # from the key

    page = open_page(f"/app/orders/{order_id}")
    expect(page.get_by_test_id("order-summary-line")).to_contain_text("NFC-e nº 1 série 1")
    expect(page.get_by_test_id("order-summary-line")).not_to_contain_text("NF-e nº")
    expect(page.locator("s-table-header", has_text="Chave da NFC-e")).to_have_count(1)
    expect(page.get_by_test_id("nfe-key")).to_contain_text("NFC-e")
    assert page.errors == []

    page = open_page(f"/app/orders/{order_id}", locale="en")
    expect(page.get_by_test_id("order-summary-line")).to_contain_text("NFC-e no. 1 series 1")
    expect(page.locator("s-table-header", has_text="NFC-e key")).to_have_count(1)
    screenshot(page, "order-nfce-en")
    assert page.errors == []


def test_an_nfe_cancelled_in_the_erp_is_marked_and_not_listed_as_invoiced(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    invoiced = invoiced_order(database, shop, "#1004", 4)
    cancelled = invoiced_order(database, shop, "#1006", 6)
    with session_scope(database) as db:  # as jobs.cancellations.to_shopify leaves it: the key kept
        link = db.get(OrderLink, cancelled)
        link.nfe_key = link.nfe_key[:-1] + "6"
        link.erp_status, link.shopify_status, link.cancelled_at = "C", "REFUNDED", utcnow()
    cancelled_key = link.nfe_key

    page = open_page("/app/orders", status="invoiced")
    results = page.get_by_test_id("orders-results")
    expect(results).to_contain_text("#1004")
    expect(results).not_to_contain_text("#1006")

    page = open_page("/app/orders", status="cancelled")
    key = page.get_by_test_id("nfe-key")
    expect(key).to_contain_text(cancelled_key)
    expect(key.locator("s-badge")).to_have_text("NF-e cancelada")

    page = open_page(f"/app/orders/{cancelled}", locale="en")
    expect(page.get_by_test_id("order-summary-line")).to_contain_text(
        "NF-e no. 1234 series 1 (NF-e cancelled)"
    )
    expect(page.get_by_test_id("nfe-key").locator("s-badge")).to_have_text("NF-e cancelled")
    screenshot(page, "order-nfe-cancelled-en")

    page = open_page(f"/app/orders/{invoiced}")
    expect(page.get_by_test_id("nfe-key")).to_contain_text("NF-e")
    expect(page.get_by_test_id("nfe-key").locator("s-badge")).to_have_count(0)
    expect(page.get_by_test_id("order-summary-line")).to_contain_text("NF-e nº 1234 série 1")
    assert page.errors == []
