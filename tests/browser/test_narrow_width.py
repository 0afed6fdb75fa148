"""A phone's width (Shopify's admin on a phone, 375 px): no page scrolls sideways.

A wide table scrolls inside its own `.table-scroll` wrapper (an element of the app, so it holds
with Shopify's Polaris as with the local stand-in, whatever either draws inside `s-table`), and
long unbroken text (the ERP address example, an NF-e key, a staff id) breaks inside its box. The
Setup page scrolled 440 px wide, Messages 559, Orders 768 and Audit 591.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOP_DOMAIN, connect_erp, screenshot
from tests.browser.ledger_rows import invoiced_order, parked_order, shop_id

pytestmark = pytest.mark.browser

PHONE = 375

# The document's width against the window's, and what sticks out past the window's right edge
# (the deepest elements only: their ancestors stick out because of them).
MEASURE = """() => {
  const width = window.innerWidth;
  const wide = Array.from(document.querySelectorAll("#app *"))
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .filter((e) => !Array.from(e.children).some((c) => c.getBoundingClientRect().right > width + 1))
    .filter((e) => !e.closest(".table-scroll"))
    .slice(0, 5)
    .map((e) => `${e.localName}.${e.className}: ${(e.textContent || "").trim().slice(0, 60)}`);
  return { scroll: document.documentElement.scrollWidth, width, wide };
}"""

# Every table of the app's own pages sits in a wrapper that scrolls it.
UNWRAPPED = """() => Array.from(document.querySelectorAll("#app s-table"))
  .filter((t) => !t.parentElement || !t.parentElement.classList.contains("table-scroll"))
  .map((t) => (t.textContent || "").trim().slice(0, 60))"""

# What each page shows once loaded (its tables drawn).
READY = {
    "setup": "[data-testid=setup-steps] s-badge",
    "mappings": "[data-testid=unmapped] s-table-row",
    "flows": "[data-testid=flows-table]",
    "messages": "[data-testid=messages-results] s-table-row[data-message-id]",
    "orders": "[data-testid=nfe-key]",
    "audit": "[data-testid=audit] s-table-row >> nth=1",
    "order": "[data-testid=nfe-key]",
    "message": "[data-testid=shopify-gid]",
}


def _ledger(page, fresh) -> dict[str, int]:
    """A parked order, an invoiced one (a 44-digit NF-e key), and the ERP connection saved (an
    audit event with its address)."""
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    connect_erp(page, fresh)
    return {
        "message": parked_order(database, shop, "#1001", "payment_method", "pix"),
        "order": invoiced_order(database, shop, "#1002", 880012),
    }


@pytest.mark.parametrize(
    "path", ["setup", "mappings", "flows", "messages", "orders", "audit", "order", "message"]
)
def test_no_page_scrolls_sideways_on_a_phone(open_page, fresh, path: str) -> None:
    ids = _ledger(open_page("/app/setup"), fresh)  # the first page installs the shop
    url = {"order": f"/app/orders/{ids['order']}", "message": f"/app/messages/{ids['message']}"}.get(
        path, f"/app/{path}"
    )
    page = open_page(url)
    page.set_viewport_size({"width": PHONE, "height": 800})
    expect(page.locator(READY[path]).first).to_be_attached()
    expect(page.locator("#app s-spinner")).to_have_count(0)
    screenshot(page, f"narrow-{path}")
    measured = page.evaluate(MEASURE)
    assert measured["scroll"] <= measured["width"], measured
    assert page.evaluate(UNWRAPPED) == []
    assert page.errors == []
