"""A reconciliation report's message shows the report in readable sections (orders missing on
either side, totals that differ, stock differing per location, the catalog out of step) in the
page's language, not its JSON; the JSON stays, closed, for support."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger import drift, trace
from ledger.db import session_scope

from .conftest import SHOP_DOMAIN
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

ORDERS = {
    "checked": 12,
    "missing_in_erp": [
        {"order": "gid://shopify/Order/7001", "name": "#1002", "nro_pedvenda": 55, "why": "not found"}
    ],
    "missing_in_erp_count": 1,
    "missing_in_shopify": [],
    "missing_in_shopify_count": 0,
    "totals_differ": [
        {
            "order": "gid://shopify/Order/7002",
            "name": "#1003",
            "nro_pedvenda": 56,
            "shopify": "152.40",
            "erp": "150.00",
            "erp_basis": "vlrTotalAtendido",
        }
    ],
    "totals_differ_count": 1,
    "status_differs": [],
    "status_differs_count": 0,
    "missing_in_ledger": [],
    "missing_in_ledger_count": 0,
    "in_flight_count": 2,
}
STOCK = {
    "locations": [
        {
            "nro_empresa": 3,
            "location_id": "gid://shopify/Location/1",
            "checked": 40,
            "bound_with_stock": 120,
            "differ": [{"sku": "ARZ-5", "erp": "10", "shopify": 7}],
            "differ_count": 1,
        }
    ],
    "sample": 40,
}
CATALOG = {
    "missing_in_shopify": ["FEIJ-1"],
    "missing_in_shopify_count": 1,
    # a row's explanation with its words beside it (shopify_app.reconcile_words): said by the API
    "orphan_bindings": [
        {"sku": "P6E1", "why": "not in the ERP", "why_words": [{"key": "recon_not_in_erp", "params": {}}]}
    ],
    "orphan_bindings_count": 1,
    "shopify_checked": 40,
    "shopify_differs": [],
    "shopify_differs_count": 0,
    "prices_differ": [],
    "prices_differ_count": 0,
}
SAID = {
    "pt-BR": [
        "Relatório de conciliação",
        "Pedidos que faltam no ERP: 1",
        "Totais de pedido diferentes (Shopify × ERP): 1",
        "Empresa 3: 1 SKU(s) com estoque diferente (40 de 120 SKUs conferidos hoje)",
        "SKUs ativos no ERP que não estão na Shopify: 1",
        "Relatório em JSON (técnico)",
    ],
    "en": [
        "Reconciliation report",
        "Orders missing in the ERP: 1",
        "Order totals that differ (Shopify vs ERP): 1",
        "Company 3: 1 SKU(s) with different stock (40 of 120 SKUs checked today)",
        "Active ERP SKUs not in Shopify: 1",
        "Report as JSON (technical)",
    ],
}


def _report(database_url: str, shop: int) -> int:
    report = {
        "shop": SHOP_DOMAIN,
        "generated_at": "2026-11-28T09:00:00+00:00",
        "since": "2026-11-26T09:00:00+00:00",
        "orders": ORDERS,
        "stock": STOCK,
        "catalog": CATALOG,
    }
    from jobs.reconcile import summary

    report["summary"] = summary(report)
    with session_scope(database_url) as db:
        message = trace.begin(db, shop, "reconcile", "report:2026-11-28", "both")
        trace.succeed(db, message, response=report)
        message.error_text = drift.line(drift.findings(report))
        return message.id


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_the_report_reads_in_sections(open_page, fresh, locale: str) -> None:
    page = open_page("/app/messages", locale=locale)
    message_id = _report(fresh.settings.database_url, shop_id(fresh.settings.database_url, SHOP_DOMAIN))
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale=locale))
    report = page.get_by_test_id("reconcile-report")
    for text in SAID[locale]:
        expect(report).to_contain_text(text)
    totals = report.get_by_test_id("recon-orders-totals_differ")
    totals.locator("summary").click()
    expect(totals).to_contain_text("#1003")
    expect(totals).to_contain_text("152.40")
    expect(totals.get_by_role("link", name="#1003")).to_have_attribute("href", "shopify://admin/orders/7002")
    orphans = report.get_by_test_id("recon-catalog-orphan_bindings")
    orphans.locator("summary").click()
    expect(orphans).to_contain_text("não está no ERP" if locale == "pt-BR" else "not in the ERP")
    for words in ("why_words", "object Object", "recon_not_in_erp"):  # the words are no column of their own
        expect(orphans).not_to_contain_text(words)
    expect(page.get_by_text('"missing_in_erp_count"')).to_be_hidden()  # the JSON: closed
    assert "{" not in page.locator("s-page").inner_text().split(SAID[locale][-1])[0]
    assert page.errors == []
