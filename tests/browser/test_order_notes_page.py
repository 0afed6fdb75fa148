"""The Orders page shows every flow's note on an order, one per flow (ledger.order_notes): an edit
NOT applied in the ERP and an invoice's capture warning both, in the list and in the detail."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger import order_notes
from ledger.db import session_scope
from ledger.models import OrderLink

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import invoiced_order, shop_id

pytestmark = pytest.mark.browser

EDIT = "order_edits: Shopify edit of #1002 NOT applied in the ERP: ERP order 880012 is invoiced"
CAPTURE = "invoices: the NF-e total 152.40 is 7.60 above what the customer paid or authorised"


def test_an_order_with_two_flows_notes_shows_both(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    order_id = invoiced_order(database, shop_id(database, SHOP_DOMAIN), "#1002", 880012)
    with session_scope(database) as db:
        link = db.get(OrderLink, order_id)
        order_notes.put(link, "order_edits", EDIT)
        order_notes.put(link, "invoices", CAPTURE)

    # One short badge, then each note in wrapping text, its flow named from the catalogue.
    edit = "Order edits: " + EDIT.removeprefix("order_edits: ")
    capture = "Invoicing (NF-e): " + CAPTURE.removeprefix("invoices: ")
    page = open_page("/app/orders", locale="en")
    notes = page.get_by_test_id("order-notes")
    expect(notes.locator("s-badge")).to_have_text("Needs attention")
    expect(notes.locator(".order-note")).to_have_text([edit, capture])

    page = open_page(f"/app/orders/{order_id}", locale="en")
    banner = page.locator("s-banner[tone=warning]")
    # an owner may close each (no message behind either: on the note itself, test_note_handled.py)
    closing = " Mark as handled…"
    expect(banner.locator("s-paragraph")).to_have_text([edit + closing, capture + closing])
    screenshot(page, "order-notes-en")
    assert page.errors == []
