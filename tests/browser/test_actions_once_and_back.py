"""An action's button sends one request however often it is clicked, and an item's Back link returns
to its list as it was filtered (Messages, Orders)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SHOP_DOMAIN
from .ledger_rows import done_message, invoiced_order, rejected_order, shop_id

pytestmark = pytest.mark.browser


def _posts(page, ending: str) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and ending in r.url else None)
    return sent


def test_mark_handled_double_clicked_closes_once_and_says_no_error(open_page, fresh) -> None:
    """A plain button sent the close twice: "marked as handled", then, red, "this message changed
    meanwhile" (the second POST answered 409)."""
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    mid = rejected_order(database, shop_id(database, SHOP_DOMAIN), "#1044", "Impostos somados ao total")
    page = open_page(f"/app/messages/{mid}")
    posts = _posts(page, "/handled")
    page.get_by_label("Como foi resolvida?").fill("lançado à mão como pedido 9001 do ERP")
    page.get_by_test_id("mark-handled").get_by_role("button", name="Marcar como resolvida").dblclick()
    expect(page.get_by_test_id("handled-note")).to_contain_text("pedido 9001")
    page.wait_for_timeout(1000)
    toasts = page.locator("#stand-in-toasts").inner_text()
    assert len(posts) == 1, (posts, toasts)
    assert "Mensagem marcada como resolvida" in toasts and "mudou enquanto isso" not in toasts, toasts


def test_retry_failed_double_clicked_sends_one_bulk_retry(open_page, fresh) -> None:
    """Two bulk retries answered "3 queued again" and "0 queued again", in either order."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    for n in range(3):
        rejected_order(database, shop, f"#10{n}0", "Impostos somados ao total")
    page = open_page("/app/messages", flow="orders")
    expect(page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")).to_have_count(3)
    posts = _posts(page, "retry-failed")
    page.get_by_role("button", name="Tentar de novo as mensagens com falha de Pedidos").dblclick()
    expect(page.locator("#stand-in-toasts")).to_contain_text("3 mensagem(ns) enfileirada(s) de novo")
    page.wait_for_timeout(1000)
    toasts = page.locator("#stand-in-toasts").inner_text()
    assert len(posts) == 1, (posts, toasts)
    assert "0 mensagem(ns)" not in toasts, toasts


def test_back_from_a_message_returns_to_the_list_as_filtered(open_page, fresh) -> None:
    """An operator working through "Orders / Failed" landed on every flow and status after each one."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    mid = rejected_order(database, shop, "#1044", "Impostos somados ao total")
    rejected_order(database, shop, "#1045", "CPF inválido")
    for n in range(5):
        done_message(database, shop, "prices", f"price:{n}")
    page = open_page("/app/messages", flow="orders", status="failed")
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name=f"#{mid}", exact=True).click()
    expect(page.get_by_test_id("mark-handled")).to_be_visible()
    page.get_by_role("link", name="← Voltar").click()
    expect(rows).to_have_count(2)
    assert "flow=orders" in page.url and "status=failed" in page.url, page.url
    assert "shop=" in page.url  # Shopify's own parameters kept as ever


def test_back_from_an_order_returns_to_the_list_as_searched(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    invoiced_order(database, shop, "#2001", 9001)
    invoiced_order(database, shop, "#2002", 9002)
    page = open_page("/app/orders", q="#2001")
    results = page.get_by_test_id("orders-results")
    expect(results.get_by_role("link", name="#2001", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name="#2002", exact=True)).to_have_count(0)
    results.get_by_role("link", name="#2001", exact=True).click()
    page.get_by_role("link", name="← Voltar").click()
    expect(results.get_by_role("link", name="#2001", exact=True)).to_be_visible()
    assert "q=%232001" in page.url, page.url
    expect(results.get_by_role("link", name="#2002", exact=True)).to_have_count(0)
