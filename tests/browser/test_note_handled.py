"""An order note no message stands behind (an invoice's capture warning: a refund owed) is marked
handled by an operator on the order's page itself, with a note: that note goes, the order's other
note stays; a viewer sees the notes without the action."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger import order_notes
from ledger.db import session_scope
from ledger.models import OrderLink

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

CAPTURE = "invoices: the NF-e total 120.00 is 20.00 above what the customer paid: refund 20.00"
FULFILLED = "SKU P1E1 (ERP line 1): fulfilled in Shopify before the ERP's picking cut it to 1"


def _noted(database_url: str, shop: int) -> int:
    """An invoiced order holding the capture warning and an order_edits (fulfilled lines) note, as
    jobs.invoices and jobs.order_edits leave them: no message behind either."""
    with session_scope(database_url) as db:
        gid = "gid://shopify/Order/1060"
        link = OrderLink(shop_id=shop, shopify_order_id=gid, shopify_order_name="#1060", nro_pedvenda=880060,
                         nro_empresa=1, shopify_status="PAID", erp_status="F", currency="BRL")  # fmt: skip
        db.add(link)
        order_notes.put(link, "invoices", CAPTURE)
        order_notes.put(link, "order_edits", FULFILLED, topic="fulfilled lines")
        db.flush()
        return link.id


def test_a_note_with_no_message_is_marked_handled_on_the_orders_page(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    order_id = _noted(database, shop_id(database, SHOP_DOMAIN))

    viewer = open_page(f"/app/orders/{order_id}", user="estoquista", locale="en")
    expect(viewer.locator("s-banner[tone=warning] s-paragraph")).to_have_count(2)
    expect(viewer.get_by_test_id("note-mark-handled")).to_have_count(0)

    page = open_page(f"/app/orders/{order_id}", locale="en")
    buttons = page.get_by_test_id("note-mark-handled")
    expect(buttons).to_have_count(2)
    expect(buttons.first).to_have_text("Mark as handled…")
    capture = page.locator("s-banner[tone=warning] s-paragraph", has_text="refund 20.00")
    capture.get_by_test_id("note-mark-handled").click()
    capture.get_by_role("button", name="Mark as handled").click()  # no note yet: asked for one
    field = capture.get_by_test_id("note-handled-field")
    expect(field).to_have_attribute("error", "Write how it was handled first")
    capture.get_by_label("How was it handled?").fill("refunded R$ 20,00 in Shopify")
    screenshot(page, "order-note-handled-en")
    capture.get_by_role("button", name="Mark as handled").click()

    expect(page.locator("s-banner[tone=warning] s-paragraph")).to_have_count(1)
    expect(page.locator("s-banner[tone=warning]")).to_contain_text("fulfilled in Shopify")
    with session_scope(database) as db:
        link = db.get(OrderLink, order_id)
        assert order_notes.note_of(link, "invoices") is None
        assert order_notes.note_of(link, "order_edits", topic="fulfilled lines") is not None

    pt = open_page(f"/app/orders/{order_id}", locale="pt-BR")
    expect(pt.get_by_test_id("note-mark-handled")).to_have_text("Marcar como resolvida…")
    expect(pt.locator("s-banner[tone=warning]")).to_contain_text("itens já processados")
    assert page.errors == [] and viewer.errors == [] and pt.errors == []
