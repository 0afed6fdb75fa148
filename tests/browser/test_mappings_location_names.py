"""De:Para "Company <-> location" names each Shopify location by its name there (its gid a muted
detail beside it), for every role; a location Shopify does not list (gone) keeps its gid alone."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope
from ledger.mappings import set_location_mapping

from .conftest import SHOP_DOMAIN, api_call, screenshot
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

GONE = "gid://shopify/Location/999999"


@pytest.mark.parametrize("user", ["owner", "estoquista"])
def test_a_location_line_shows_the_locations_name(open_page, fresh, user: str) -> None:
    page = open_page("/app/setup")  # installs the shop
    locations = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    first = locations[0]
    database = fresh.settings.database_url
    with session_scope(database) as db:
        shop = shop_id(database, SHOP_DOMAIN)
        set_location_mapping(db, shop, 1, first["id"], "Descrição da loja")
        set_location_mapping(db, shop, 2, GONE)

    page = open_page("/app/mappings", user=user, kind="location")
    listed = page.get_by_test_id("mappings-table")
    named = listed.get_by_test_id("shopify-name")
    expect(named).to_have_count(1)
    expect(named).to_contain_text(first["name"])
    expect(named.locator("s-text")).to_have_text(first["id"])  # the gid, a muted detail
    expect(listed.locator("s-table-row", has_text=GONE)).not_to_contain_text(first["name"])
    screenshot(page, f"mappings-location-names-{user}")
    assert page.errors == []
