"""A 409 that names /auth/session as its remedy (the shop needs re-authorization, or is not
installed any more) makes the page open the session again (token exchange with a fresh ID
token) and repeat the request once, instead of showing the error. Any other 409 is shown. A
renewal that fails is not repeated for every refused call; a shop whose grant lacks required
scopes stays parked and the page says why and offers to ask Shopify for them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import update

from ledger.db import session_scope
from ledger.models import OfflineToken, Shop
from settings import DEFAULT_SCOPES
from shopify_app.scopes import ScopesUpdate, apply_scopes_update

from .conftest import SHOP, SHOP_DOMAIN, WAIT_MS, Stack, _route_cdn

pytestmark = pytest.mark.browser

REQUIRED = DEFAULT_SCOPES.split(",")
REDUCED = [s for s in REQUIRED if s not in ("read_orders", "write_orders")]

# The page's own api() (the module the page loaded: same URL, same instance).
CALL_API = """async (path) => {
  const { api } = await import("/static/app/api.js");
  try {
    return { ok: true, body: await api(path, { quiet: true }) };
  } catch (error) {
    return { ok: false, status: error.status, code: error.code };
  }
}"""


def _park(stack: Stack, reason: str) -> None:
    with session_scope(stack.settings.database_url) as db:
        db.execute(
            update(Shop).where(Shop.domain == SHOP_DOMAIN).values(status="needs_reauth", status_reason=reason)
        )


def _shop(stack: Stack) -> Shop:
    with session_scope(stack.settings.database_url) as db:
        return db.query(Shop).filter(Shop.domain == SHOP_DOMAIN).one()


def _requests(page: Any) -> list[str]:
    """The requests the page makes from now on (after its own loading calls are done)."""
    page.wait_for_load_state("networkidle")
    seen: list[str] = []
    page.on(
        "request",
        lambda request: seen.append(f"{request.method} {request.url.split('?')[0].split('/', 3)[3]}"),
    )
    return seen


def test_a_needs_reauth_409_opens_the_session_and_retries_once(open_page, fresh) -> None:
    page = open_page("/app/audit")
    seen = _requests(page)
    _park(fresh, "Shopify no longer grants the app read_customers")
    answer = page.evaluate(CALL_API, "/api/me")
    assert answer["ok"] is True, answer
    assert answer["body"]["role"] == "owner"
    # The refused call, the session opened again, the call repeated.
    assert [r for r in seen if r in ("GET api/me", "POST auth/session")] == [
        "GET api/me",
        "POST auth/session",
        "GET api/me",
    ]
    assert _shop(fresh).status == "active"  # the session re-ran token exchange
    assert page.locator(".stand-in-toast").count() == 0
    assert page.errors == []


def test_a_shop_whose_token_is_gone_is_installed_again_on_the_409(open_page, fresh) -> None:
    page = open_page("/app/audit")
    with session_scope(fresh.settings.database_url) as db:
        db.execute(OfflineToken.__table__.delete())
    answer = page.evaluate(CALL_API, "/api/me")
    assert answer["ok"] is True, answer


def test_the_retry_happens_once_and_then_the_error_is_shown(open_page, fresh) -> None:
    """/auth/session answers but the shop stays parked: no loop, the 409 reaches the caller."""
    page = open_page("/app/audit")
    seen = _requests(page)
    page.route("**/auth/session", lambda route: route.fulfill(status=200, json={"installed": True}))
    _park(fresh, "parked for the test")
    answer = page.evaluate(CALL_API, "/api/me")
    assert answer == {"ok": False, "status": 409, "code": "needs_reauth"}
    assert seen.count("GET api/me") == 2 and seen.count("POST auth/session") == 1


def test_a_failed_session_renewal_shows_its_own_reason(open_page, fresh) -> None:
    page = open_page("/app/audit")
    page.route(
        "**/auth/session",
        lambda route: route.fulfill(
            status=502, json={"error": {"code": "install_refused", "message": "Shopify refused the exchange"}}
        ),
    )
    _park(fresh, "parked for the test")
    answer = page.evaluate(CALL_API, "/api/me")
    assert answer == {"ok": False, "status": 502, "code": "install_refused"}


def test_a_business_409_is_not_taken_for_a_session_problem(open_page, fresh) -> None:
    page = open_page("/app/audit")
    seen = _requests(page)
    conflict = {"error": {"code": "mapping_conflict", "message": "the location is mapped already"}}
    page.route("**/api/test-conflict", lambda route: route.fulfill(status=409, json=conflict))
    answer = page.evaluate(CALL_API, "/api/test-conflict")
    assert answer == {"ok": False, "status": 409, "code": "mapping_conflict"}
    assert seen.count("GET api/test-conflict") == 1 and "POST auth/session" not in seen


def test_a_failed_renewal_is_not_tried_again_for_every_refused_call(open_page, fresh) -> None:
    """A polling page must not exchange a token per poll while the session cannot be opened:
    the refused calls after a failed renewal get its answer without asking again."""
    page = open_page("/app/audit")
    seen = _requests(page)
    page.route(
        "**/auth/session",
        lambda route: route.fulfill(
            status=502, json={"error": {"code": "install_refused", "message": "Shopify refused the exchange"}}
        ),
    )
    _park(fresh, "parked for the test")
    for _ in range(3):
        answer = page.evaluate(CALL_API, "/api/me")
        assert answer == {"ok": False, "status": 502, "code": "install_refused"}
    assert seen.count("GET api/me") == 3 and seen.count("POST auth/session") == 1


@contextmanager
def _grant(stack: Stack, scopes: list[str]) -> Iterator[None]:
    """Shopify's grant on the shop is `scopes` (tokens issued meanwhile carry it), then whole again."""
    url = f"{stack.shopify.url}/_sandbox/shops/{SHOP}/scopes"
    requests.post(url, json={"scopes": scopes}, timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.post(url, json={"scopes": REQUIRED}, timeout=10).raise_for_status()


def _park_for_scopes(stack: Stack) -> None:
    """What the app/scopes_update webhook's job does (the browser stack runs no worker)."""
    with session_scope(stack.settings.database_url) as db:
        shop = db.query(Shop).filter(Shop.domain == SHOP_DOMAIN).one()
        apply_scopes_update(db, shop, ScopesUpdate(REQUIRED, REDUCED, None), stack.settings.scope_list)


def test_a_shop_whose_grant_lacks_scopes_shows_why_instead_of_renewing_again(open_page, fresh) -> None:
    """The webhook parked the shop; opening the session again gets the same reduced grant: the
    shop stays parked, the page shows the reason and the way to approve the scopes, and the
    next refused call does not renew again (no loop)."""
    page = open_page("/app/audit", locale="en")
    seen = _requests(page)
    with _grant(fresh, REDUCED):
        _park_for_scopes(fresh)
        answer = page.evaluate(CALL_API, "/api/me")
        assert answer == {"ok": False, "status": 409, "code": "needs_reauth"}
        assert _shop(fresh).status == "needs_reauth"
        banner = page.locator("#app s-banner[tone=critical]")
        expect(banner).to_contain_text("Shopify does not grant the app the permissions it needs")
        expect(banner).to_contain_text("write_orders")
        expect(banner.locator("s-button")).to_have_text("Approve the permissions in Shopify")
        again = page.evaluate(CALL_API, "/api/me")
        assert again == {"ok": False, "status": 409, "code": "needs_reauth"}
    assert seen.count("POST auth/session") == 1 and seen.count("GET api/me") == 2
    assert page.errors == []


def test_opening_the_app_with_a_grant_lacking_scopes_says_so_and_asks_again(browser, fresh) -> None:
    """The first session of a shop whose grant lacks required scopes: the page shows why and a
    button that sends the merchant (top level) to approve them through the app's OAuth start."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        _route_cdn(page)
        with _grant(fresh, REDUCED):
            page.goto(fresh.page_url("/app/setup", locale="en"))
            banner = page.locator("#app s-banner[tone=critical]")
            expect(banner).to_contain_text("write_orders", timeout=WAIT_MS)
            assert _shop(fresh).status == "needs_reauth"
            asked: list[str] = []

            def install_start(route: Any) -> None:
                asked.append(route.request.url)
                route.fulfill(status=200, content_type="text/html", body="<p>authorize</p>")

            page.route("**/auth/install**", install_start)
            banner.locator("s-button").click()
            page.wait_for_url("**/auth/install**", timeout=WAIT_MS)
        assert asked == [f"{fresh.app_url}/auth/install?shop={SHOP_DOMAIN}"]
        assert page.errors == []
    finally:
        context.close()


def _pt_banner_says_what_is_missing(banner: Any) -> None:
    """The banner in the page's language (pt-BR): the catalogue's words, the missing scopes
    listed, no English reason, nothing telling a merchant inside the app to open it."""
    expect(banner).to_contain_text("A Shopify não concede ao app", timeout=WAIT_MS)
    expect(banner).to_contain_text("read_orders, write_orders")
    expect(banner).to_have_attribute("heading", "Não foi possível abrir a sessão")
    expect(banner.locator("s-button")).to_have_text("Aprovar as permissões na Shopify")
    text = banner.inner_text()
    assert "Shopify does not grant" not in text and "permission(s)" not in text, text
    assert "Abra o app" not in text and "no longer" not in text, text


def test_a_first_install_lacking_scopes_is_explained_in_the_pages_language(browser, fresh) -> None:
    """pt-BR page, the first session's grant lacks scopes: the banner is the catalogue's pt-BR
    text naming the scopes (not the stored English reason), right for a first install."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        _route_cdn(page)
        with _grant(fresh, REDUCED):
            page.goto(fresh.page_url("/app/setup", locale="pt-BR"))
            _pt_banner_says_what_is_missing(page.locator("#app s-banner[tone=critical]"))
            assert _shop(fresh).status == "needs_reauth"
        assert page.errors == []
    finally:
        context.close()


def test_scopes_removed_later_are_explained_in_the_pages_language(open_page, fresh) -> None:
    """pt-BR page already open, the grant loses scopes (app/scopes_update): the banner that
    replaces the page is in pt-BR and lists the scopes to approve."""
    page = open_page("/app/audit", locale="pt-BR")
    page.wait_for_load_state("networkidle")
    with _grant(fresh, REDUCED):
        _park_for_scopes(fresh)
        answer = page.evaluate(CALL_API, "/api/me")
        assert answer == {"ok": False, "status": 409, "code": "needs_reauth"}
        _pt_banner_says_what_is_missing(page.locator("#app s-banner[tone=critical]"))
    assert page.errors == []
