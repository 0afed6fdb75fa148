"""The page's banners speak the page's language, not the API's English: the setup page with the ERP
unreachable, an unexpected error's explanation on a message's detail, a hand link refused (a number
another order holds), and any page that could not load (a known code in the catalogue's words, an
unknown one in a generic sentence with the API's own text folded away as a technical detail)."""

from __future__ import annotations

import json
import re
import socket

import pytest
from playwright.sync_api import expect

from ledger import mappings, trace
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import ErpConnection, OrderLink

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import invoiced_order, shop_id

pytestmark = pytest.mark.browser

# The API's English as it used to reach the banners ("the ERP (Consinco) could not be reached: ...").
ENGLISH = re.compile(r"\b(could not|reached|unreachable|answered with|already linked|no such|the ERP)\b")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _erp_down(fresh, shop: int) -> None:
    """A saved ERP connection to an address nothing listens on, and the store's link saved."""
    with session_scope(fresh.settings.database_url) as db:
        db.add(ErpConnection(shop_id=shop, base_url=f"http://127.0.0.1:{_closed_port()}/api", username="u",
                             password_enc=encrypt("p", fresh.settings.encryption_keys)))  # fmt: skip
        mappings.set_store_link(db, shop, 1, 1)


@pytest.mark.parametrize(
    ("locale", "button", "said"),
    [
        ("pt-BR", "Testar conexão", "O ERP (Consinco) não respondeu"),
        ("en", "Test connection", "The ERP (Consinco) could not be reached. Check its address"),
    ],
)
def test_setup_with_the_erp_down_says_so_in_the_pages_language(
    open_page, fresh, locale, button, said
) -> None:
    open_page("/app/setup", locale=locale)  # installs the shop
    _erp_down(fresh, shop_id(fresh.settings.database_url, SHOP_DOMAIN))
    page = open_page("/app/setup", locale=locale)
    page.get_by_role("button", name=button).click()
    result = page.get_by_test_id("erp-test-result").locator("s-banner")
    expect(result).to_contain_text(said)
    warning = page.locator("s-banner[tone=warning]").first
    expect(warning).to_contain_text(said)
    # the ERP's own words stay reachable, folded away as a technical detail
    detail = result.locator("details.technical")
    expect(detail).to_have_count(1)
    assert "ConnectionError" in detail.text_content()
    screenshot(page, f"setup-erp-down-{locale}")
    if locale == "pt-BR":
        texts = [result.inner_text(), warning.inner_text()]
        assert not [t for t in texts if ENGLISH.search(t)], texts


def test_an_unexpected_errors_explanation_names_no_unknown_system(open_page, fresh) -> None:
    """A bug (KeyError) has no system: its text is the technical message, not "Resposta do sistema (—)"."""
    open_page("/app/setup")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        message = trace.begin(db, shop, "stock", "stock:1:batch:0", ERP_TO_SHOPIFY, erp_id="1")
        trace.fail(db, message, KeyError("qty"))
        message_id = message.id
    page = open_page(f"/app/messages/{message_id}")
    banner = page.locator("s-banner[tone=critical]").first
    expect(banner).to_contain_text("KeyError")
    expect(banner).to_contain_text("Mensagem técnica:")
    assert "(—)" not in banner.inner_text(), banner.inner_text()


def test_a_number_another_order_holds_is_refused_in_the_pages_language(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    invoiced_order(database, shop, "#1002", 880012)
    with session_scope(database) as db:
        link = OrderLink(
            shop_id=shop, shopify_order_id="gid://shopify/Order/9001", shopify_order_name="#1001"
        )
        db.add(link)
        db.flush()
        order_id = link.id
    page = open_page(f"/app/orders/{order_id}")
    page.get_by_test_id("erp-order-number").locator("input").fill("880012")
    page.get_by_role("button", name="Vincular").click()
    answer = page.get_by_test_id("link-erp-answer")
    expect(answer.locator("s-banner")).to_contain_text(
        "O pedido 880012 do ERP já está vinculado ao pedido #1002"
    )
    screenshot(page, "order-link-taken-pt-BR")
    assert not ENGLISH.search(answer.inner_text()), answer.inner_text()


def test_a_page_that_could_not_load_says_the_code_in_the_pages_language(open_page, fresh) -> None:
    page = open_page("/app/messages/987654321")  # no such message: 404 not_found
    banner = page.locator("s-banner[tone=critical]").first
    expect(banner).to_contain_text("Não foi possível carregar")
    expect(banner).to_contain_text("Não encontrado")
    assert not ENGLISH.search(banner.inner_text()), banner.inner_text()


def test_an_unknown_code_is_a_generic_sentence_with_the_api_text_as_a_detail(open_page, fresh) -> None:
    page = open_page("/app/setup")
    body = json.dumps({"error": {"code": "kettle_boiled", "message": "the kettle boiled over"}})
    page.route(
        "**/api/audit**", lambda route: route.fulfill(status=500, content_type="application/json", body=body)
    )
    page.goto(fresh.page_url("/app/audit"))
    banner = page.locator("s-banner[tone=critical]").first
    expect(banner).to_contain_text("Não foi possível carregar")
    expect(banner).to_contain_text("Algo deu errado")
    detail = banner.locator("details.technical")
    assert "the kettle boiled over" in detail.text_content()
    assert "kettle" not in banner.inner_text()  # folded: the merchant reads the sentence
