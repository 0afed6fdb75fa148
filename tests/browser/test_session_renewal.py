"""A 409 that names /auth/session as its remedy (the shop needs re-authorization, or is not
installed any more) makes the page open the session again (token exchange with a fresh ID
token) and repeat the request once, instead of showing the error. Any other 409 is shown."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from ledger.db import session_scope
from ledger.models import OfflineToken, Shop

from .conftest import SHOP_DOMAIN, Stack

pytestmark = pytest.mark.browser

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
