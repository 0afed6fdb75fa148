"""A refusal the merchant settled outside the app is closed from its message: the note is asked
for, the message shows who closed it and why, and the buttons go."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope
from ledger.models import Message

from .conftest import SHOP_DOMAIN, screenshot
from .ledger_rows import rejected_order, shop_id

pytestmark = pytest.mark.browser


def test_mark_a_refused_order_handled_with_a_note(open_page, fresh) -> None:
    open_page("/app/setup")  # installs the shop
    database = fresh.settings.database_url
    mid = rejected_order(database, shop_id(database, SHOP_DOMAIN), "#1044", "Impostos somados ao total")

    page = open_page(f"/app/messages/{mid}", locale="en")
    form = page.get_by_test_id("mark-handled")
    expect(form).to_be_visible()
    form.get_by_role("button", name="Mark as handled").click()  # no note: asked for one
    expect(page.get_by_text("Write how it was handled first")).to_be_visible()
    page.get_by_label("How was it handled?").fill("entered by hand as ERP order 9001")
    form.get_by_role("button", name="Mark as handled").click()
    expect(page.get_by_test_id("handled-note")).to_contain_text("entered by hand as ERP order 9001")
    expect(page.get_by_test_id("mark-handled")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    screenshot(page, "message-handled-en")
    with session_scope(database) as db:
        assert db.get(Message, mid).status == "skipped"
    assert page.errors == []
