"""A location line the API saved on its shape alone, Shopify not readable then
(`location_checked: false`, tests/api/test_api_location_unchecked.py drives the API into it): the
De:Para page says the location was not checked in Shopify, beside the saved line. The answer is
rewritten in the browser (the session's sandbox Shopify always answers), the rest is the real app."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import api_call, connect_erp, screenshot

pytestmark = pytest.mark.browser


def _as_unchecked(route) -> None:
    """The real save, answered as when Shopify could not be read to check the location."""
    response = route.fetch()
    body = response.json()
    assert body["location_checked"] is True, body  # the sandbox answered: checked
    route.fulfill(response=response, body=json.dumps({**body, "location_checked": False}))


def test_a_location_saved_unchecked_shows_a_warning(open_page, fresh) -> None:
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    locations = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    choices = json.loads(api_call(page, "GET", "/api/setup/erp-choices")["body"])
    companies = sorted(str(c["nro_empresa"]) for c in choices["companies"])

    page = open_page("/app/mappings", locale="en", kind="location")
    warning = page.get_by_test_id("location-unchecked")
    page.get_by_label("Location (Shopify)").select_option(locations[0]["id"])
    page.get_by_label("Company (NROEMPRESA)").select_option(companies[0])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("mappings-table")).to_contain_text(locations[0]["id"])
    expect(warning.locator("s-banner")).to_have_count(0)  # checked: nothing to say

    page.route("**/api/mappings", _as_unchecked)
    page.get_by_label("Location (Shopify)").select_option(locations[0]["id"])
    page.get_by_label("Company (NROEMPRESA)").select_option(companies[1])  # the line moves
    page.get_by_role("button", name="Save").click()
    expect(warning.locator("s-banner[tone=warning]")).to_contain_text("Shopify could not be read now")
    screenshot(page, "mappings-location-unchecked-en")
    assert page.errors == []
