"""The authorization code grant: shop regex, state nonce, query HMAC, code exchange."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import Schedule
from shopify_app.auth import STATE_COOKIE
from shopify_app.oauth import query_hmac, verify_query_hmac
from shopify_app.shops import find_shop
from shopify_app.tokens import get_access_token
from spine_auth.conftest import shop_row
from spine_auth.factories import API_KEY, API_SECRET, APP_URL, SHOP_A, SHOP_B, graphql_url, token_response

TOKEN_URL = f"https://{SHOP_A}/admin/oauth/access_token"


def signed(params: dict[str, str], secret: str = API_SECRET) -> dict[str, str]:
    """Params plus Shopify's hmac, computed here independently: sorted k=v joined by &."""
    message = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def start_install(client, shop: str = SHOP_A) -> str:
    """GET /auth/install; returns the state nonce sent to Shopify."""
    reply = client.get(f"/auth/install?shop={shop}")
    assert reply.status_code == 302
    return parse_qs(urlsplit(reply.headers["Location"]).query)["state"][0]


def callback_params(state: str, shop: str = SHOP_A, **extra: str) -> dict[str, str]:
    return signed(
        {"code": "auth-code-1", "shop": shop, "state": state, "timestamp": str(int(time.time())), **extra}
    )


def test_install_redirects_to_the_shops_authorize_page_with_a_nonce(client, settings):
    reply = client.get(f"/auth/install?shop={SHOP_A}")
    assert reply.status_code == 302
    location = urlsplit(reply.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", SHOP_A, "/admin/oauth/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == [API_KEY]
    assert query["scope"] == [settings.scopes]
    assert query["redirect_uri"] == [f"{APP_URL}/auth/callback"]
    assert len(query["state"][0]) >= 32
    cookie = client.get_cookie(STATE_COOKIE, path="/auth")
    assert cookie is not None and cookie.http_only and query["state"][0] not in cookie.value


@pytest.mark.parametrize(
    "shop", ["evil.example.com", "shop-a.myshopify.com.evil.com", "-x.myshopify.com", ""]
)
def test_install_refuses_a_shop_that_is_not_a_myshopify_domain(client, shop):
    reply = client.get("/auth/install?" + urlencode({"shop": shop}))
    assert reply.status_code == 400 and reply.json["error"]["code"] == "invalid_shop"


def test_install_checks_the_hmac_when_shopify_sent_one(client):
    good = signed({"shop": SHOP_A, "timestamp": str(int(time.time()))})
    assert client.get("/auth/install?" + urlencode(good)).status_code == 302
    bad = {**good, "hmac": "0" * 64}
    assert client.get("/auth/install?" + urlencode(bad)).status_code == 401
    garbled = {**good, "hmac": "é"}  # not hex, not even ASCII: refused, never a 500
    assert client.get("/auth/install?" + urlencode(garbled)).status_code == 401


def test_good_callback_stores_tokens_and_enters_the_app(client, settings, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response("shpat_granted", "shprt_granted"))
    zone = requests_mock.post(
        graphql_url(SHOP_A), json={"data": {"shop": {"ianaTimezone": "America/Recife"}}}
    )
    state = start_install(client)
    reply = client.get("/auth/callback?" + urlencode(callback_params(state)))
    assert reply.status_code == 302, reply.json
    assert reply.headers["Location"] == f"https://{SHOP_A}/admin/apps/{API_KEY}"
    sent = requests_mock.request_history[0].json()
    assert sent["code"] == "auth-code-1" and sent["expiring"] == "1"
    assert shop_row(settings, SHOP_A).status == "active"
    assert zone.call_count == 1 and shop_row(settings, SHOP_A).iana_timezone == "America/Recife"
    assert get_access_token(SHOP_A) == "shpat_granted"
    assert client.get_cookie(STATE_COOKIE, path="/auth") is None  # the nonce is single use


def test_a_store_west_of_brasilia_gets_its_daily_sweeps_after_its_own_midnight(
    client, settings, requests_mock
):
    requests_mock.post(TOKEN_URL, json=token_response("shpat_granted", "shprt_granted"))
    requests_mock.post(graphql_url(SHOP_A), json={"data": {"shop": {"ianaTimezone": "America/Cuiaba"}}})
    state = start_install(client)
    assert client.get("/auth/callback?" + urlencode(callback_params(state))).status_code == 302
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, SHOP_A)
        crons = {s.flow: s.cron for s in session.scalars(select(Schedule).where(Schedule.shop_id == shop.id))}
    assert crons["prices_full"] == "30 4 * * *" and crons["stock_full"] == "45 4 * * *"  # 00:30 in Cuiabá
    assert crons["order_events"] == "* * * * *"


@pytest.mark.parametrize(
    "tamper",
    [
        "hmac",
        "wrong-secret",
        "state",
        "non-ascii-state",
        "no-cookie",
        "other-shop-state",
        "bad-shop",
        "stale",
    ],
)
def test_bad_callbacks_are_rejected_and_store_nothing(client, settings, requests_mock, tamper):
    requests_mock.post(TOKEN_URL, json=token_response())
    state = start_install(client)
    params = callback_params(state)
    expected = 401
    if tamper == "hmac":
        params = {**params, "code": "another-code"}  # signed over the original code
    elif tamper == "wrong-secret":
        params = signed({k: v for k, v in params.items() if k != "hmac"}, secret="not-our-secret")
    elif tamper == "state":
        params = callback_params("guessed-state")
    elif tamper == "non-ascii-state":  # Shopify echoes (and signs) any state a crafted URL carried
        params = callback_params("é")
    elif tamper == "no-cookie":
        client.delete_cookie(STATE_COOKIE, path="/auth")
    elif tamper == "other-shop-state":
        # The browser's cookie now holds a nonce issued for SHOP_B; replayed for SHOP_A.
        params = callback_params(start_install(client, SHOP_B), shop=SHOP_A)
    elif tamper == "bad-shop":
        params = callback_params(state, shop="evil.example.com")
        expected = 400
    elif tamper == "stale":
        params = signed({**{k: v for k, v in params.items() if k != "hmac"}, "timestamp": "1000"})
    reply = client.get("/auth/callback?" + urlencode(params))
    assert reply.status_code == expected, reply.json
    reasons = {
        "hmac": "hmac",
        "wrong-secret": "hmac",
        "state": "does not match",
        "non-ascii-state": "does not match",
        "no-cookie": "missing",
        "other-shop-state": "another shop",
        "bad-shop": "myshopify",
        "stale": "too old",
    }
    assert reasons[tamper] in reply.json["error"]["message"]
    assert requests_mock.call_count == 0
    assert shop_row(settings, SHOP_A) is None


def test_refused_code_is_a_400_not_a_500(client, settings, requests_mock):
    requests_mock.post(TOKEN_URL, status_code=400, json={"error": "invalid_request"})
    reply = client.get("/auth/callback?" + urlencode(callback_params(start_install(client))))
    assert reply.status_code == 400 and reply.json["error"]["code"] == "code_refused"
    assert shop_row(settings, SHOP_A) is None


def test_sandbox_stands_in_by_configuration(env, settings, client, requests_mock):
    """With SHOPIFY_BASE_URL set, the browser and the token request both go to the sandbox."""
    from app import create_app
    from settings import Settings

    env.setenv("SHOPIFY_BASE_URL", "http://127.0.0.1:8701")
    sandbox_app = create_app(Settings.from_env(), blueprints=("shopify_app.auth",), cli_modules=())
    sandbox = sandbox_app.test_client()
    reply = sandbox.get(f"/auth/install?shop={SHOP_A}")
    location = urlsplit(reply.headers["Location"])
    assert (location.netloc, location.path) == ("127.0.0.1:8701", "/admin/oauth/authorize")
    state = parse_qs(location.query)["state"][0]
    assert parse_qs(location.query)["shop"] == [SHOP_A]

    requests_mock.post("http://127.0.0.1:8701/admin/oauth/access_token", json=token_response())
    reply = sandbox.get("/auth/callback?" + urlencode(callback_params(state)))
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("http://127.0.0.1:8701/admin/apps/")
    assert requests_mock.last_request.headers["Host"] == SHOP_A


def test_query_hmac_follows_shopifys_encoding():
    params = {"shop": SHOP_A, "ids[]": ["2", "1"], "code": "a&b=c%"}
    message = 'code=a%26b=c%25&ids=["2", "1"]&shop=' + SHOP_A
    assert query_hmac(params, "k") == hmac.new(b"k", message.encode(), hashlib.sha256).hexdigest()
    assert verify_query_hmac({**params, "hmac": query_hmac(params, "k")}, "k") is None
    assert verify_query_hmac(params, "k") == "missing hmac"
    rotating = ("new", "k")  # a rotation: the old secret still signs
    assert verify_query_hmac({**params, "hmac": query_hmac(params, "k")}, rotating) is None
    assert verify_query_hmac({**params, "hmac": query_hmac(params, "x")}, rotating) == "hmac does not verify"
