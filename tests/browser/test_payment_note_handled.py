"""The Orders page's "orders (payment)" note (a card authorisation voided after the order went to the
ERP) links an operator to its message, whose Mark as handled closes the note; a viewer sees the note
without the link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger import order_notes, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import OrderLink

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

TEXT = (
    "Order #1050 will not be paid as it stands: its card authorisation was voided in Shopify. ERP order "
    "880050 is still open, so the ERP would separate, invoice and deliver it unpaid: cancel it in the ERP "
    "(or cancel the order in Shopify), or collect the payment another way; a new payment or authorisation "
    "in Shopify clears this."
)


def _voided_in_erp(database_url: str, shop: int) -> int:
    """An order in the ERP, open, whose authorisation was voided: its note and its failed message, as
    jobs.order_payment_lost leaves them."""
    gid = "gid://shopify/Order/1050"
    words = ("payment_lost_in_erp", {"name": "#1050", "nro": 880050, "why": ("payment_lost_voided", {})})
    with session_scope(database_url) as db:
        link = OrderLink(shop_id=shop, shopify_order_id=gid, shopify_order_name="#1050", nro_pedvenda=880050,
                         nro_empresa=1, shopify_status="VOIDED", erp_status="L", currency="BRL")  # fmt: skip
        db.add(link)
        order_notes.put(link, "orders", TEXT, topic="payment", words=words)
        message = trace.begin(
            db, shop, "orders", "payment:1050", SHOPIFY_TO_ERP, shopify_id=gid, search=["#1050"]
        )
        trace.fail(db, message, Rejected(TEXT, system="app", code="PAYMENT_LOST", words=words))
        db.flush()
        return link.id


def test_the_payment_note_is_marked_handled_from_the_orders_page(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    order_id = _voided_in_erp(database, shop_id(database, SHOP_DOMAIN))

    viewer = open_page(f"/app/orders/{order_id}", user="estoquista", locale="en")
    expect(viewer.locator("s-banner[tone=warning] s-paragraph")).to_contain_text(
        "Orders (payment): Order #1050"
    )
    expect(viewer.get_by_test_id("note-mark-handled")).to_have_count(0)

    page = open_page(f"/app/orders/{order_id}", locale="en")
    link = page.get_by_test_id("note-mark-handled")
    expect(link).to_have_text("Mark as handled…")
    screenshot(page, "order-payment-note-en")
    link.click()
    form = page.get_by_test_id("mark-handled")
    expect(form).to_be_visible()
    page.get_by_label("How was it handled?").fill("ERP order 880050 cancelled; customer asked to pay again")
    form.get_by_role("button", name="Mark as handled").click()
    expect(page.get_by_test_id("handled-note")).to_contain_text("ERP order 880050 cancelled")

    page = open_page(f"/app/orders/{order_id}", locale="pt-BR")
    expect(page.locator("s-banner[tone=warning]")).to_have_count(0)
    with session_scope(database) as db:
        assert db.get(OrderLink, order_id).needs_attention is None
    assert page.errors == [] and viewer.errors == []
