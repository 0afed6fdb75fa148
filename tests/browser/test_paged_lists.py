"""The Orders and Messages pages read their lists page by page (widgets.pagedList): past the
first 50, "Load more" brings the next ones. Before, the Orders page drew the first page only,
and order 51 and older could not be listed, even under Needs attention."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SHOP_DOMAIN
from .ledger_rows import done_message, order_links, shop_id

pytestmark = pytest.mark.browser


def test_orders_past_the_first_page_are_reached_with_load_more(open_page, fresh) -> None:
    page = open_page("/app/orders", locale="en")
    expect(page.get_by_test_id("orders-results")).to_contain_text("No orders found.")
    names = order_links(fresh.settings.database_url, shop_id(fresh.settings.database_url, SHOP_DOMAIN), 51)
    page.reload()
    rows = page.get_by_test_id("orders-results").locator("s-table-body s-table-row")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("orders-results")).not_to_contain_text(names[0])  # the oldest
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(51)
    expect(rows.last).to_contain_text(names[0])
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)  # nothing older


def test_messages_past_the_first_page_are_reached_with_load_more(open_page, fresh) -> None:
    page = open_page("/app/messages", locale="en")
    expect(page.get_by_test_id("messages-results")).to_be_visible()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    ids = [done_message(fresh.settings.database_url, shop, "products", f"product:{n}") for n in range(51)]
    page.reload()
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(51)
    expect(rows.last).to_have_attribute("data-message-id", str(min(ids)))  # the oldest
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
