"""What the pt-BR merchant reads: a refusal of the API in Portuguese, beside the field it is about;
a role granted with no user id stopped on the page; an order's long note wrapping under a short
badge, its flow named in Portuguese; the Flows page's watermark scopes in words, its table inside
its card at 768px, its chart's numbers formatted; the Messages page naming who said what."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from ledger import trace, watermarks
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import OrderLink

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

LONG = (
    "order #1008 ships from 3 ERP companies: company 1 (location Loja Centro - São Paulo): P39E1 (PAPEL "
    "HIGIENICO DONA BENTA 12 ROLOS - UN) x1; company 3 (location CD Campinas): P16E1 (PRESUNTO COZIDO "
    "PERDIGAO - KG) x1; company 5 (location Loja Norte): P77E1 (DETERGENTE LIQUIDO NEUTRO 500ML) x2"
)

ORDER = "gid://shopify/Order/46159"


def _refused_order(database: str, shop: int) -> tuple[int, int]:
    """A Shopify order the app stopped (several companies), as jobs.orders leaves it."""
    with session_scope(database) as db:
        link = OrderLink(
            shop_id=shop,
            shopify_order_id=ORDER,
            shopify_order_name="#1008",
            nro_empresa=1,
            shopify_status="PAID",
            total=Decimal("387.90"),
            currency="BRL",
        )
        db.add(link)
        db.flush()
        message = trace.begin(
            db, shop, "orders", "order:46159", SHOPIFY_TO_ERP, shopify_id=ORDER, search=["#1008"], request={}
        )
        trace.fail(db, message, Rejected(LONG, system="app", code="MULTI_COMPANY", detail={"companies": []}))
        return link.id, message.id


def _toasts(page) -> str:
    region = page.locator("#stand-in-toasts")
    return region.inner_text() if region.count() else ""


def test_a_long_order_note_wraps_under_a_short_badge_and_names_its_flow(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    order_id, _ = _refused_order(database, shop_id(database, SHOP_DOMAIN))
    page = open_page("/app/orders")
    notes = page.get_by_test_id("order-notes")
    expect(notes).to_have_count(1)
    expect(notes.locator("s-badge")).to_have_text("Precisa de atenção")
    expect(notes).to_contain_text(f"Pedidos: {LONG}")
    assert not notes.inner_text().startswith("orders:")
    screenshot(page, "orders-long-note-pt-BR")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the Orders page is {width}px wide at 1280px"

    page = open_page(f"/app/orders/{order_id}")
    banner = page.locator("s-banner[tone=warning]")
    # an owner is linked to the message whose Mark as handled closes it
    expect(banner.locator("s-paragraph")).to_have_text(f"Pedidos: {LONG} Marcar como resolvida…")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.errors == []


def test_the_app_stopping_an_order_is_told_as_the_apps_message(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    _, message_id = _refused_order(database, shop_id(database, SHOP_DOMAIN))
    page = open_page(f"/app/messages/{message_id}")
    banner = page.locator("s-banner[tone=critical]")
    expect(banner).to_have_attribute("heading", "Parado pela integração")
    expect(banner).to_contain_text("Mensagem do app:")
    assert "respondeu" not in banner.inner_text()
    assert page.errors == []


def test_granting_a_role_with_no_user_id_says_so_on_the_field_and_sends_nothing(open_page, fresh) -> None:
    page = open_page("/app/audit")
    roles = page.get_by_test_id("roles")
    expect(roles.locator("s-table")).to_be_visible()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}") if r.method == "PUT" else None)
    roles.locator("s-button", has_text="Dar papel").click()
    field = roles.locator("s-text-field[name=user_id]")
    expect(field).to_have_attribute("error", "Digite o ID Shopify do membro da equipe.")
    page.wait_for_timeout(300)
    assert sent == [] and _toasts(page).strip() == ""
    assert page.errors == []


def test_a_refusal_is_toasted_in_portuguese_and_its_field_marked(open_page, fresh) -> None:
    """PUT /api/mappings with both codes empty: 400 invalid, fields shopify_code and erp_code."""
    page = open_page("/app/mappings", kind="carrier")
    expect(page.locator("s-page")).to_have_attribute("heading", "De:Para")
    page.locator("s-button", has_text="Salvar").first.click()
    toast = page.locator("#stand-in-toasts")
    expect(toast).to_contain_text("Alguns campos não são válidos")
    assert "not valid" not in toast.inner_text()
    expect(page.locator("[name=shopify_code]")).to_have_attribute("error", "preencha este campo")
    expect(page.locator("[name=erp_code]")).to_have_attribute("error", "preencha este campo")


def test_removing_the_last_owner_is_refused_in_portuguese(open_page, fresh) -> None:
    page = open_page("/app/audit")
    roles = page.get_by_test_id("roles")
    remove = roles.locator("s-button", has_text="Remover")
    expect(remove).to_have_count(1)  # the shop's one owner, the sandbox user
    page.once("dialog", lambda dialog: dialog.accept())  # "Remover o papel de ...?": yes
    remove.click()
    toast = page.locator("#stand-in-toasts")
    expect(toast).to_contain_text("O último proprietário da loja não pode ser removido")
    assert "cannot" not in toast.inner_text()


def test_the_flows_page_names_watermark_scopes_and_fits_a_tablet(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    with session_scope(database) as db:
        watermarks.advance(db, shop, "prices", "1:2", at, 0, at)
        watermarks.advance(db, shop, "stock", "orders_closed", at, 0, at)
    page = open_page("/app/flows")
    expect(page.get_by_test_id("watermarks-prices")).to_contain_text("Empresa 1 / Segmento 2:")
    expect(page.get_by_test_id("watermarks-stock")).to_contain_text("Pedidos fechados:")
    assert "orders_closed" not in page.get_by_test_id("flows-table").inner_text()

    page.set_viewport_size({"width": 768, "height": 900})
    page.wait_for_timeout(200)
    screenshot(page, "flows-768-pt-BR")
    box = page.get_by_test_id("flows-table-scroll").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 768, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    axis = page.evaluate(
        """async () => {
      const chart = await import("/static/app/chart.js");
      const svg = chart.hourChart([{ label: "03:00", total: 7275, failed: 12 }], "t", (b) => b.label);
      return Array.from(svg.querySelectorAll("text, title")).map((e) => e.textContent);
    }"""
    )
    assert "7.275" in axis and "03:00: 7.275" in axis and "7275" not in axis, axis
    assert page.errors == []


def test_a_refused_setting_is_marked_on_its_field_and_named_in_words(open_page, fresh) -> None:
    """PUT /api/setup/settings names a refused setting by its key: its input had no name (the message
    not placed) and the toast said "seq_canal_venda: deve estar entre 1 e 999999"."""
    page = open_page("/app/setup")
    rules = page.locator("s-section").filter(has_text="Canal de venda e regras")
    field = rules.get_by_label("Canal de venda (seqCanalVenda)")
    expect(field).to_be_visible()
    field.fill("1000000")  # the API takes 1..999999
    rules.get_by_role("button", name="Salvar").click()
    toast = page.locator("#stand-in-toasts")
    expect(toast).to_contain_text("Alguns campos não são válidos")
    expect(rules.locator("[name=seq_canal_venda]")).to_have_attribute("error", "deve estar entre 1 e 999999")
    assert "seq_canal_venda" not in toast.inner_text()
    assert page.errors == []


NAMES = """async (names) => {
  const { fieldName } = await import("/static/app/api.js");
  return names.map((name) => [name, fieldName(name)]);
}"""


def test_every_setting_and_location_line_field_is_named_in_words(open_page, fresh) -> None:
    """A refusal's field with no input on the page is listed in the toast by its name in words: each
    setting (PUT /api/setup/settings names them by key), a location line's fields by line."""
    from shopify_app.api_settings import SETTINGS

    page = open_page("/app/setup")
    lines = ["mappings[1].nro_empresa", "mappings[0].location_id"]
    said = dict(page.evaluate(NAMES, [*SETTINGS, *lines]))
    assert [name for name, words in said.items() if words == name] == []
    assert said["seq_canal_venda"] == "Canal de venda (seqCanalVenda)"
    assert said["mappings[1].nro_empresa"] == "Empresa do ERP (linha 2)"
    assert said["mappings[0].location_id"] == "Local da Shopify (linha 1)"
    assert page.errors == []
