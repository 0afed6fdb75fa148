"""A reconciliation report's message shows the report in readable sections (orders missing on
either side, totals that differ, stock differing per location, the catalog out of step) in the
page's language, not its JSON; the JSON stays, closed, for support."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

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
    "waiting_variant_quota": [  # jobs.reconcile._quota_row: its product waits for Shopify's daily limit
        {
            "sku": "P9E1",
            "message": "product:9",
            "why": "waiting for Shopify's daily limit on new variants: the products flow sends it again by "
            "itself after 2026-11-28 10:31 UTC",
            "why_words": [{"key": "recon_variant_quota", "params": {"until": "2026-11-28 10:31 UTC"}}],
        }
    ],
    "waiting_variant_quota_count": 1,
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
        "SKUs ativos no ERP aguardando o limite diário de novas variantes da Shopify (enviados de novo "
        "sozinhos; veja as mensagens): 1",
        "Relatório em JSON (técnico)",
    ],
    "en": [
        "Reconciliation report",
        "Orders missing in the ERP: 1",
        "Order totals that differ (Shopify vs ERP): 1",
        "Company 3: 1 SKU(s) with different stock (40 of 120 SKUs checked today)",
        "Active ERP SKUs not in Shopify: 1",
        "Active ERP SKUs waiting for Shopify's daily limit on new variants (sent again by themselves; see "
        "their messages): 1",
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
    expect(totals).to_contain_text("R$\xa0152,40" if locale == "pt-BR" else "R$152.40")  # money, not "152.40"
    expect(totals.get_by_role("link", name="#1003")).to_have_attribute("href", "shopify://admin/orders/7002")
    orphans = report.get_by_test_id("recon-catalog-orphan_bindings")
    orphans.locator("summary").click()
    expect(orphans).to_contain_text("não está no ERP" if locale == "pt-BR" else "not in the ERP")
    for words in ("why_words", "object Object", "recon_not_in_erp"):  # the words are no column of their own
        expect(orphans).not_to_contain_text(words)
    quota = report.get_by_test_id("recon-catalog-waiting_variant_quota")
    quota.locator("summary").click()
    expect(quota).to_contain_text("P9E1")
    expect(quota).to_contain_text(
        "o fluxo de produtos a envia de novo sozinho depois de 2026-11-28 10:31 UTC"
        if locale == "pt-BR"
        else "the products flow sends it again by itself after 2026-11-28 10:31 UTC"
    )
    expect(page.get_by_text('"missing_in_erp_count"')).to_be_hidden()  # the JSON: closed
    assert "{" not in page.locator("s-page").inner_text().split(SAID[locale][-1])[0]
    assert page.errors == []


# Rows as the jobs write them (jobs.reconcile: _compare, _heavier, _held_row, _unknown_erp_orders,
# _stock, _shopify_state; jobs.reconcile_prices.price_differs): the same key is money in one list,
# a quantity, an ERP status or a product's status in another.
def _cells_report() -> dict:
    from decimal import Decimal

    from jobs import reconcile_price_lists
    from jobs.reconcile import summary
    from jobs.reconcile_prices import Expected, price_differs
    from ledger.words import beside, stored

    heavier = beside(
        "why",
        "weighed item(s) picked heavier (ARZ-5 1.500 kg -> 1.620 kg): the ERP charges 1.50 more; by design "
        "Shopify keeps its price, not charged above what was authorised",
        (
            "recon_heavier",
            {
                "picks": [
                    stored(("recon_heavier_pick", {"sku": "ARZ-5", "ordered": "1.500", "served": "1.620"}))
                ],
                "more": {"money": "1.50"},
            },
        ),
    )
    expected = Expected(Decimal("9.49"), None, "price:55")
    price = price_differs("FEIJ-1", "gid://shopify/ProductVariant/77", expected, "1234.5", "12.00")
    assert price is not None
    report = {
        "shop": SHOP_DOMAIN,
        "generated_at": "2026-11-28T06:00:00+00:00",
        "since": "2026-11-21T06:00:00+00:00",
        "orders": {
            "checked": 1234,
            "missing_in_ledger": [{"order": "gid://shopify/Order/9001", "name": "#1001", "total": "2345.60"}],
            "missing_in_ledger_count": 1,
            "held_in_app": [
                {"order": "gid://shopify/Order/9005", "name": "#1005", "status": "parked", "why": "x"}
            ],
            "held_in_app_count": 1,
            "totals_differ": [
                {
                    "order": "gid://shopify/Order/9002",
                    "name": "#1002",
                    "nro_pedvenda": 880012,
                    "shopify": "1234.50",
                    "erp": "1236.00",
                    "erp_basis": "vlrTotalAtendido",
                    **heavier,
                    "by_design": True,
                },
                {
                    "order": "gid://shopify/Order/9004",
                    "name": "#1004",
                    "nro_pedvenda": 880014,
                    "shopify": "89.90",
                    "tips": "5.00",
                    "gift_cards": "10.00",
                    "erp": "79.90",
                    "erp_basis": "vlrTotalPedido",
                },
            ],
            "totals_differ_count": 1,
            "totals_differ_by_design_count": 1,
            "status_differs": [
                {
                    "order": "gid://shopify/Order/9003",
                    "name": "#1003",
                    "nro_pedvenda": 880013,
                    "erp": "F",
                    "shopify_cancelled": False,
                    "invoices_message": {"status": "failed", "why": "no NF-e key"},
                },
            ],
            "status_differs_count": 1,
            "unknown_in_erp": [{"nro_pedvenda": "880099", "events": 1200}],
        },
        "stock": {
            "locations": [
                {
                    "nro_empresa": 1,
                    "checked": 58,
                    "bound_with_stock": 60,
                    "differ": [{"sku": "ARZ-5", "erp": "12.5", "shopify": 1200}],
                    "differ_count": 1,
                },
            ],
        },
        "catalog": {
            "shopify_checked": 40,
            "shopify_differs": [
                {
                    "sku": "MAC-2",
                    "product": "gid://shopify/Product/5",
                    "shopify": "DRAFT",
                    "erp": "ACTIVE",
                    **beside(
                        "why",
                        "not for sale in Shopify while the ERP sells it",
                        ("recon_not_for_sale_in_shopify", {}),
                    ),
                },
            ],
            "shopify_differs_count": 1,
            "prices_differ": [price],
            "prices_differ_count": 1,
            "list_prices_differ": [
                {
                    "sku": "ARZ-5",
                    "variant": "gid://shopify/ProductVariant/7",
                    "market": "Sul",
                    "price_list": "gid://shopify/PriceList/3",
                    "shopify": "none",
                    "erp": "5.50",
                    "shopify_compare_at": "none",
                    "erp_compare_at": "none",
                    **beside("why", *reconcile_price_lists.MISSING),
                    **beside("fix", *reconcile_price_lists.SENT_AGAIN),
                },
            ],
            "list_prices_differ_count": 1,
        },
    }
    report["summary"] = summary(report)
    return report


CELLS = {
    "pt-BR": {
        "totals_differ": ["R$ 89,90", "R$ 79,90", "R$ 5,00", "R$ 10,00", "Total do pedido"],
        "totals_differ_by_design": [
            "#1002",
            "R$ 1.234,50",
            "R$ 1.236,00",
            "Total atendido",
            "como previsto",
        ],
        "missing_in_ledger": ["R$ 2.345,60"],
        "held_in_app": ["Parada"],
        "status_differs": ["Faturado", "Falhou"],
        "unknown_in_erp": ["1.200"],
        "stock": ["12,5", "1.200"],
        "shopify_differs": ["Rascunho", "Ativo"],
        "prices_differ": ["R$ 1.234,50", "R$ 9,49", "R$ 12,00", "nenhum"],
        "list_prices_differ": [
            "Sul",
            "R$ 5,50",
            "nenhum preço fixo na lista do mercado",
            "enviado de novo à lista",
        ],
    },
    "en": {
        "totals_differ": ["R$89.90", "R$79.90", "R$5.00", "R$10.00", "Order total"],
        "totals_differ_by_design": ["#1002", "R$1,234.50", "R$1,236.00", "Total served", "by design"],
        "missing_in_ledger": ["R$2,345.60"],
        "held_in_app": ["Parked"],
        "status_differs": ["Invoiced", "Failed"],
        "unknown_in_erp": ["1,200"],
        "stock": ["12.5", "1,200"],
        "shopify_differs": ["Draft", "Active"],
        "prices_differ": ["R$1,234.50", "R$9.49", "R$12.00", "none"],
        "list_prices_differ": [
            "Sul",
            "R$5.50",
            "no fixed price on the market's list",
            "sent again to the list",
        ],
    },
}
# Codes and raw amounts a merchant must not read in a cell (pt-BR: a dot is no decimal separator).
RAW = {
    "pt-BR": {
        "1234.50",
        "1236.00",
        "89.90",
        "79.90",
        "2345.60",
        "12.5",
        "9.49",
        "12.00",
        "F",
        "parked",
        "failed",
        "DRAFT",
        "ACTIVE",
        "none",
        "vlrTotalAtendido",
        "vlrTotalPedido",
    },
    "en": {
        "1234.50",
        "89.90",
        "F",
        "parked",
        "failed",
        "DRAFT",
        "ACTIVE",
        "vlrTotalAtendido",
        "vlrTotalPedido",
    },
}
BY_DESIGN = {
    "pt-BR": (
        "Totais de pedido diferentes (Shopify × ERP): 1",
        "Totais maiores no ERP propositalmente (pesáveis: separados com mais peso, a Shopify mantém o "
        "preço; com menos peso, o desconto arredondado para cima por unidade): 1",
    ),
    "en": (
        "Order totals that differ (Shopify vs ERP): 1",
        "Totals higher in the ERP by design (weighed items: picked heavier, Shopify keeps its price; picked "
        "lighter, its discount rounded up per unit): 1",
    ),
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_the_report_cells_read_in_the_page_language(open_page, fresh, locale: str) -> None:
    """Amounts as money, quantities and counts as numbers, the ERP's status letter, a product's
    status and the ERP's total field by name, in the page's language; every column headed by a
    label, not a key; a total higher by design listed apart, so a list's count is its rows'."""
    db_url = fresh.settings.database_url
    page = open_page("/app/messages", locale=locale)
    with session_scope(db_url) as db:
        report = _cells_report()
        message = trace.begin(db, shop_id(db_url, SHOP_DOMAIN), "reconcile", "report:2026-11-28", "both")
        trace.succeed(db, message, response=report)
        message.error_text = drift.line(drift.findings(report))
        message_id = message.id
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale=locale))
    shown = page.get_by_test_id("reconcile-report")
    expect(shown).to_be_visible()
    lists = {
        name: shown.get_by_test_id(f"recon-{section}-{name}")
        for section, names in (
            (
                "orders",
                (
                    "totals_differ",
                    "totals_differ_by_design",
                    "missing_in_ledger",
                    "held_in_app",
                    "status_differs",
                    "unknown_in_erp",
                ),
            ),
            ("catalog", ("shopify_differs", "prices_differ", "list_prices_differ")),
        )
        for name in names
    } | {"stock": shown.get_by_test_id("recon-stock-1")}
    for name, details in lists.items():
        details.locator("summary").click()
        cells = [c.replace("\xa0", " ").strip() for c in details.locator("s-table-cell").all_inner_texts()]
        for text in CELLS[locale][name]:
            assert any(text in c for c in cells), (name, text, cells)
        assert sorted(RAW[locale] & set(cells)) == [], (name, cells)
        headers = details.locator("s-table-header").all_inner_texts()
        assert [h for h in headers if "_" in h or h.startswith("erp") or h == "events"] == [], (name, headers)
        assert not [c for c in cells if "{" in c], (name, cells)  # no object as JSON
    # The count over a list is its rows': the by-design row is listed apart, under its own heading.
    differ, by_design = BY_DESIGN[locale]
    expect(lists["totals_differ"].locator("summary")).to_have_text(differ)
    expect(lists["totals_differ"].locator("s-table-row")).to_have_count(1)  # #1004's
    expect(lists["totals_differ"]).not_to_contain_text("#1002")
    expect(lists["totals_differ_by_design"].locator("summary")).to_have_text(by_design)
    assert "by_design" not in shown.inner_text()
    assert page.errors == []


LEFT_OUT = {
    "pt-BR": (
        "Pedidos que o ERP ou a Shopify não mostraram inteiros (não comparados hoje; o próximo relatório os "
        "consulta de novo): 1",
        "o ERP recusou a consulta do pedido 880021: Pedido bloqueado; não comparado hoje",
        "1 registro(s) de estoque da empresa 1 não puderam ser lidos",
        "2 vínculo(s) cujo SKU a leitura de SKUs do ERP não listou não são dados como fora do ERP",
        "1 registro(s) de SKU do ERP não puderam ser lidos",
        "500 de 730 pedido(s) ainda abertos no ERP, mais antigos que a janela, conferidos hoje",
    ),
    "en": (
        "Orders the ERP or Shopify would not show whole (not compared today; the next report looks them up "
        "again): 1",
        "the ERP refused to show order 880021: Pedido bloqueado; not compared today",
        "1 stock record(s) of company 1 could not be read",
        "2 binding(s) whose SKU the ERP's SKU read did not list are not reported as not in the ERP",
        "1 SKU record(s) of the ERP could not be read",
        "500 of 730 order(s) still open in the ERP, older than the window, compared today",
    ),
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_what_the_report_left_out_is_said_in_the_page_language(open_page, fresh, locale: str) -> None:
    """An order the ERP would not show (listed, not compared), a location's stock records and the
    catalog's SKU records the client could not read, and bindings a read not proven whole did not
    list: each said on the page, as the job wrote them (jobs.reconcile)."""
    from erp.errors import ErpRejected
    from jobs import reconcile

    refused = ErpRejected("Pedido bloqueado", codigo="PEDIDO_BLOQUEADO", status=422)
    row = {"order": "gid://shopify/Order/9021", "name": "#1021", "nro_pedvenda": 880021,
           **reconcile._not_shown(880021, refused)}  # fmt: skip
    unread = reconcile._stock_unread(1, 1)
    location = {"nro_empresa": 1, "location_id": "gid://shopify/Location/1", "checked": 3,
                "bound_with_stock": 3, "differ": [], "differ_count": 0, **unread}  # fmt: skip
    catalog = {**CATALOG, **reconcile._unproven_note(2, "no hasNext"), **reconcile._unread_note(1)}
    orders = {**ORDERS, "not_checked": [row], "not_checked_count": 1, "open_in_erp_read": 500,
              "open_in_erp_count": 730}  # fmt: skip
    report = {"shop": SHOP_DOMAIN, "generated_at": "2026-11-28T09:00:00+00:00",
              "since": "2026-11-26T09:00:00+00:00", "orders": orders,
              "stock": {"locations": [location], "sample": 40}, "catalog": catalog}  # fmt: skip
    report["summary"] = reconcile.summary(report)
    db_url = fresh.settings.database_url
    page = open_page("/app/messages", locale=locale)
    with session_scope(db_url) as db:
        message = trace.begin(db, shop_id(db_url, SHOP_DOMAIN), "reconcile", "report:2026-11-28", "both")
        trace.succeed(db, message, response=report)
        message_id = message.id
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale=locale))
    shown = page.get_by_test_id("reconcile-report")
    shown.get_by_test_id("recon-orders-not_checked").locator("summary").click()
    for text in LEFT_OUT[locale]:
        expect(shown).to_contain_text(text)
    assert page.errors == []


def test_an_operator_sets_the_listed_stock_to_the_erps_figure_from_the_report(open_page, fresh) -> None:
    """Under a company's differing levels an operator (not a viewer) finds the fix, says when to use
    it, and clicking it opens the fix's own stock message, carrying the SKUs the report listed."""
    from ledger import mappings
    from ledger.models import Message

    page = open_page("/app/messages", locale="en")  # the shop installed, its first staff member the owner
    viewer = open_page("/app/messages", user="estoquista", locale="en")  # nobody gave Ana a role: viewer
    database_url = fresh.settings.database_url
    shop = shop_id(database_url, SHOP_DOMAIN)
    with session_scope(database_url) as db:
        mappings.set_location_mapping(db, shop, 3, "gid://shopify/Location/1")  # the one the report read
    message_id = _report(database_url, shop)
    viewer.goto(fresh.page_url(f"/app/messages/{message_id}", user="estoquista", locale="en"))
    stock = viewer.get_by_test_id("recon-stock-3")
    stock.locator("summary").click()
    expect(stock).to_contain_text("ARZ-5")
    expect(viewer.get_by_test_id("recon-stock-fix-3")).to_have_count(0)

    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale="en"))
    stock = page.get_by_test_id("recon-stock-3")
    stock.locator("summary").click()
    fix = page.get_by_test_id("recon-stock-fix-3")
    expect(fix).to_contain_text("a sale made since this report is never given back")
    fix.locator("s-button", has_text="Set these 1 level(s) to the ERP's figure").click()
    expect(page.locator("#stand-in-toasts")).to_contain_text("Asked: 1 level(s) to the ERP's figure")
    with session_scope(database_url) as db:
        [asked] = db.scalars(select(Message).where(Message.unit_key == f"stock:3:fix:{message_id}")).all()
        assert asked.flow == "stock" and asked.request_payload["skus"] == ["ARZ-5"]
        asked_id = asked.id
    page.wait_for_url(f"**/app/messages/{asked_id}*")
    expect(page.get_by_test_id("detail-subject")).to_be_visible()
    assert page.errors == []


def test_an_earlier_attempts_report_is_said_so_never_nothing_out_of_place(open_page, fresh) -> None:
    """The day's report found drift; a run again failed part-way (a bug, a killed worker): the
    message is failed and still holds the earlier attempt's report. The page says so and does not
    read it as "nothing out of place" above its drift rows (the API counts a done report's alone)."""
    from ledger.errors import Rejected

    page = open_page("/app/messages", locale="en")
    url = fresh.settings.database_url
    message_id = _report(url, shop_id(url, SHOP_DOMAIN))
    with session_scope(url) as db:
        message = trace.get_message(db, message_id)
        trace.begin(db, message.shop_id, "reconcile", message.unit_key, "both")  # the run again
        trace.fail(db, message, Rejected("boom", system="app", code="BUG"))
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale="en"))
    report = page.get_by_test_id("reconcile-report")
    expect(report.get_by_test_id("recon-earlier")).to_contain_text("An earlier attempt's report")
    expect(report).to_contain_text("#1003")  # its rows still shown
    expect(report.get_by_test_id("recon-nothing")).to_have_count(0)
    assert page.errors == []
