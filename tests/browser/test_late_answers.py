"""An answer that arrives after the user moved on does not replace what they moved to: a page whose
data was still loading when another page was clicked, the last dry run's answer arriving after a
new dry run was asked for, and an older "Load more" page arriving after its list was drawn again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import SHOP_DOMAIN
from .ledger_rows import done_message, shop_id

pytestmark = pytest.mark.browser

# One more turn of the page's event loop after an answer arrived: its callbacks have run.
SETTLE = "() => new Promise((resolve) => setTimeout(resolve, 250))"
# The page goes to an order's detail as a click on its link would (the router's own way in).
OPEN_ORDER = """(id) => {
  window.history.pushState({}, "", `/app/orders/${id}${window.location.search}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}"""


def _hold(page: Any, pattern: str | Callable[[str], bool]) -> list[Any]:
    """Requests matching `pattern` wait, unanswered, until the test answers them."""
    held: list[Any] = []
    page.route(pattern, lambda route: held.append(route))
    return held


def _answer_late(page: Any, held: list[Any], path: str, **answer: Any) -> None:
    """Answer the held request now (`answer`: Route.fulfill's, none: the server's own); return once
    the page has the answer and has acted on it."""
    route = held.pop()
    with page.expect_request_finished(lambda request: request.url.split("?")[0].endswith(path)):
        route.fulfill(**answer) if answer else route.continue_()
    page.evaluate(SETTLE)


def test_a_page_still_loading_is_not_shown_over_the_page_clicked_after_it(open_page) -> None:
    page = open_page("/app/setup", locale="en")
    held = _hold(page, "**/api/orders/77")
    with page.expect_request("**/api/orders/77"):
        page.evaluate(OPEN_ORDER, "77")
    page.locator('#app-nav s-link[data-page="messages"]').click()
    expect(page.get_by_test_id("messages-results")).to_be_visible()

    missing = {"error": {"code": "not_found", "message": "order 77 not found"}}
    _answer_late(page, held, "/api/orders/77", status=404, json=missing)
    expect(page.get_by_test_id("messages-results")).to_be_visible()
    expect(page.locator("#app-nav s-link[aria-current=page]")).to_have_attribute("data-page", "messages")
    assert "/app/messages" in page.url
    assert page.errors == []


LAST = {
    "job_id": "catalog-diff-old",
    "ran_at": "2026-11-30T11:00:00+00:00",
    "ran_by": None,
    "result": {"counts": {"create": 9, "change": 0, "archive": 0, "unchanged": 0, "waiting": 0},
               "create": [], "change": [], "archive": [], "waiting": []},
}  # fmt: skip
NEW = {"counts": {"create": 0, "change": 0, "archive": 0, "unchanged": 42, "waiting": 0},
       "create": [], "change": [], "archive": [], "waiting": []}  # fmt: skip


def _new_run_asked(response: Any) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/setup/catalog-diff")


@pytest.mark.parametrize("late", [{"last": LAST, "running": None}, {"last": None, "running": "old"}])
def test_the_last_dry_runs_late_answer_does_not_replace_the_run_just_asked_for(open_page, late) -> None:
    """The section asks for the last run (or one still going, to poll) as it opens; a click on the
    button before that answer came starts a new run, whose result the late answer leaves alone."""
    page = open_page("/app/flows", locale="en")
    held = _hold(page, "**/api/setup/catalog-diff/last")
    page.route("**/api/setup/catalog-diff", lambda route: route.fulfill(status=202, json={"job_id": "new"}))
    done = {"job_id": "new", "status": "done", "result": NEW, "error": None}
    page.route("**/api/setup/catalog-diff/new", lambda route: route.fulfill(json=done))
    going = {"job_id": "old", "status": "started", "result": None, "error": None}
    page.route("**/api/setup/catalog-diff/old", lambda route: route.fulfill(json=going))
    with page.expect_request("**/api/setup/catalog-diff/last"):
        page.locator('#app-nav s-link[data-page="setup"]').click()
    # every section above it loaded (their spinners gone): one growing as the click lands moves the
    # button from under the pointer, and no POST is sent
    expect(page.locator("s-section s-spinner")).to_have_count(0)
    # the new run's POST answered before anything else is asked of the page (CI once saw no result
    # at all: this says whether the click sent it, and what it was answered)
    with page.expect_response(_new_run_asked) as posted:
        page.get_by_role("button", name="Run the dry run").click()
    assert posted.value.status == 202, posted.value.status
    shown = page.get_by_test_id("catalog-diff-result")
    expect(shown).to_contain_text("42")

    _answer_late(page, held, "/api/setup/catalog-diff/last", json=late)
    expect(shown).to_contain_text("42")
    expect(page.get_by_test_id("catalog-diff-last")).to_have_count(0)
    assert page.errors == []


def test_an_older_page_of_a_list_is_not_appended_to_the_list_drawn_again(open_page, fresh) -> None:
    """ "Load more" still loading when the list is drawn again from its first page (the bulk retry
    redraws it): the older page's rows belonged to the list before, not to this one."""
    page = open_page("/app/messages", locale="en", flow="products")  # installs the shop
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    for n in range(51):
        done_message(fresh.settings.database_url, shop, "products", f"product:{n}")
    page.reload()
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(50)
    held = _hold(page, lambda url: "/api/messages?" in url and "before_id=" in url)
    with page.expect_request(lambda request: "before_id=" in request.url):
        page.get_by_role("button", name="Load more").click()
    with page.expect_response("**/api/messages?flow=products"):  # the list drawn again
        page.get_by_role("button", name="Retry the failed messages of Products").click()

    _answer_late(page, held, "/api/messages")
    expect(rows).to_have_count(50)
    expect(page.get_by_role("button", name="Load more")).to_have_count(1)
    assert page.errors == []
