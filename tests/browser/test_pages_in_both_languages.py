"""Every page renders in pt-BR and in English with no untranslated catalogue key on screen,
no script error, and a screenshot in test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from shopify_app.frontend import I18N_DIR

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import done_message, invoiced_order, parked_order, shop_id

pytestmark = pytest.mark.browser

PAGES = {  # path -> (pt-BR heading, en heading)
    "/app/setup": ("Configuração", "Setup"),
    "/app/mappings": ("De:Para", "Mappings"),
    "/app/flows": ("Fluxos", "Flows"),
    "/app/messages": ("Mensagens", "Messages"),
    "/app/orders": ("Pedidos", "Orders"),
    "/app/audit": ("Auditoria e papéis", "Audit and roles"),
}
KEYS = set(json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8")))
KEY_LIKE = re.compile(r"\b[a-z_]+\.[a-z_]+(?:\.[a-z_A-Z]+)?\b")


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_every_page_in(locale: str, open_page, fresh) -> None:
    which = 0 if locale == "pt-BR" else 1
    first = open_page("/app/setup", locale=locale)  # installs the shop
    expect(first.locator("s-page")).to_have_attribute("heading", PAGES["/app/setup"][which])
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    database = fresh.settings.database_url
    parked_id = parked_order(database, shop, "#1001", "payment_method", "pix")
    done_message(database, shop, "stock", "stock:ARZ-1:1", erp_id="ARZ-1")
    order_id = invoiced_order(database, shop, "#1002", 880012)

    for path, headings in PAGES.items():
        page = open_page(path, locale=locale)
        expect(page.locator("s-page")).to_have_attribute("heading", headings[which])
        expect(page.locator("s-spinner")).to_have_count(0)
        text = page.locator("body").inner_text()
        assert not [k for k in KEY_LIKE.findall(text) if k in KEYS], f"untranslated keys on {path}"
        screenshot(page, f"{path.rsplit('/', 1)[-1]}-{locale}")
        assert page.errors == []

    page = open_page(f"/app/messages/{parked_id}", locale=locale)
    create = ("Criar o De:Para de pix", "Create the mapping for pix")[which]
    expect(page.get_by_role("link", name=create)).to_be_visible()
    screenshot(page, f"message-detail-{locale}")

    page = open_page(f"/app/orders/{order_id}", locale=locale)
    expect(page.get_by_text("35261112345678000195550010000012341000012345").first).to_be_visible()
    expect(page.get_by_text("ARZ-5")).to_be_visible()
    screenshot(page, f"order-detail-{locale}")
