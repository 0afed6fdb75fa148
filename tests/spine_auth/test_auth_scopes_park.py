"""An install (token exchange or OAuth callback) whose grant lacks a scope the app requires
stores the token but parks the shop needs_reauth naming the scopes, instead of making it active:
every job would otherwise fail with access denied. /auth/session then answers 409 with that
reason and no `action` (opening the session again would only get the same grant), and the way
to ask Shopify for the permissions again. (Adapted from the reviewer's scratch test.)"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from ledger import crypto
from ledger.db import session_scope
from ledger.models import AuditEvent, OfflineToken, Shop
from settings import DEFAULT_SCOPES
from shopify_app.scopes import MISSING_REASON_START, ScopesUpdate, apply_scopes_update
from spine_auth.conftest import shop_row
from spine_auth.factories import SHOP_A, bearer, make_id_token, token_response
from spine_auth.test_auth_oauth_grant import TOKEN_URL, callback_params, start_install

REQUIRED = DEFAULT_SCOPES.split(",")
REDUCED = [s for s in REQUIRED if s not in ("write_orders", "read_orders")]
# A whole grant as Shopify words it: the read scope a granted write scope implies left out.
WHOLE_AS_SHOPIFY_SAYS = [s for s in REQUIRED if not (s.startswith("read_") and f"write_{s[5:]}" in REQUIRED)]


def park_for_scopes(settings, domain: str = SHOP_A) -> None:
    with session_scope(settings.database_url) as session:
        shop = session.scalar(select(Shop).where(Shop.domain == domain))
        apply_scopes_update(session, shop, ScopesUpdate(REQUIRED, REDUCED, None), settings.scope_list)
    assert shop_row(settings, domain).status == "needs_reauth"


def exchange_grants(requests_mock, scopes: list[str], access: str = "shpat_new") -> None:
    body = token_response(access, "shprt_new", scope=",".join(scopes))
    requests_mock.post(f"https://{SHOP_A}/admin/oauth/access_token", json=body)


def stored_access_token(settings) -> str:
    with session_scope(settings.database_url) as session:
        return crypto.decrypt(session.scalar(select(OfflineToken)).access_token_enc)


def test_session_does_not_unpark_a_shop_still_missing_scopes(settings, client, requests_mock, install_shop):
    install_shop(SHOP_A)
    park_for_scopes(settings)
    exchange_grants(requests_mock, REDUCED)  # Shopify's grant still lacks write_orders
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    shop = shop_row(settings, SHOP_A)
    assert shop.status == "needs_reauth", (shop.status, shop.scopes)
    assert shop.status_reason.startswith(MISSING_REASON_START) and "write_orders" in shop.status_reason
    assert shop.scopes == ",".join(REDUCED)
    assert stored_access_token(settings) == "shpat_new"  # the token is kept all the same

    assert reply.status_code == 409, reply.json
    error = reply.json["error"]
    assert error["code"] == "needs_reauth"
    assert error["message"] == shop.status_reason  # what happened and what to do
    assert "action" not in error  # the page must not open the session again: same grant, a loop
    assert error["missing_scopes"] == ["read_orders", "write_orders"]
    assert error["reauthorize"] == "/auth/install?" + urlencode({"shop": SHOP_A})


def test_a_first_install_lacking_a_required_scope_is_parked_not_active(settings, client, requests_mock):
    exchange_grants(requests_mock, REDUCED)
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 409 and "action" not in reply.json["error"]
    shop = shop_row(settings, SHOP_A)
    assert shop.status == "needs_reauth" and "write_orders" in shop.status_reason
    with session_scope(settings.database_url) as session:
        installed = session.scalar(select(AuditEvent).where(AuditEvent.action == "app.installed"))
    assert installed.after["status"] == "needs_reauth" and installed.after["missing"] == [
        "read_orders",
        "write_orders",
    ]


def test_a_whole_grant_by_token_exchange_puts_the_shop_back(settings, client, requests_mock, install_shop):
    install_shop(SHOP_A)
    park_for_scopes(settings)
    exchange_grants(requests_mock, WHOLE_AS_SHOPIFY_SAYS)  # write_x covers read_x
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 200, reply.json
    shop = shop_row(settings, SHOP_A)
    assert (shop.status, shop.status_reason) == ("active", None)


def test_an_oauth_callback_lacking_a_required_scope_parks_the_shop(client, settings, requests_mock):
    requests_mock.post(
        TOKEN_URL, json=token_response("shpat_granted", "shprt_granted", scope=",".join(REDUCED))
    )
    state = start_install(client)
    reply = client.get("/auth/callback?" + urlencode(callback_params(state)))
    assert reply.status_code == 302  # into the app, whose page shows why and what to do
    shop = shop_row(settings, SHOP_A)
    assert shop.status == "needs_reauth" and "write_orders" in shop.status_reason
    assert stored_access_token(settings) == "shpat_granted"
