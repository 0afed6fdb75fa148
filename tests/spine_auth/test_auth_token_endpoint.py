"""The token endpoint client: what it sends, and how each kind of answer is classified."""

from __future__ import annotations

import pytest
import requests

from ledger.errors import Rejected, Transient
from settings import Settings
from shopify_app.token_endpoint import (
    TokenEndpointUnavailable,
    TokenRequestRejected,
    TokenSet,
    exchange_authorization_code,
    refresh_access_token,
)
from spine_auth.factories import API_KEY, API_SECRET, SHOP_A, token_response

TOKEN_URL = f"https://{SHOP_A}/admin/oauth/access_token"


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("SHOPIFY_API_KEY", API_KEY)
    monkeypatch.setenv("SHOPIFY_API_SECRET", API_SECRET)
    monkeypatch.delenv("SHOPIFY_BASE_URL", raising=False)
    return Settings.from_env()


def test_code_grant_asks_for_an_expiring_token(settings, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response("shpat_a", "shprt_a", 3600))
    token_set = exchange_authorization_code(settings, SHOP_A, "the-code")
    assert requests_mock.last_request.json() == {
        "client_id": API_KEY,
        "client_secret": API_SECRET,
        "code": "the-code",
        "expiring": "1",
    }
    assert (token_set.access_token, token_set.refresh_token, token_set.expires_in) == (
        "shpat_a",
        "shprt_a",
        3600,
    )
    assert token_set.refresh_token_expires_in == 7776000
    assert "shpat_a" not in repr(token_set) and "shprt_a" not in repr(token_set)


def test_refusal_carries_shopifys_error_code_and_is_not_retryable(settings, requests_mock):
    requests_mock.post(
        TOKEN_URL,
        status_code=400,
        json={"error": "invalid_grant", "error_description": "refresh token spent"},
        headers={"X-Request-Id": "req-1"},
    )
    with pytest.raises(TokenRequestRejected) as caught:
        refresh_access_token(settings, SHOP_A, "shprt_secret_value")
    error = caught.value
    assert isinstance(error, Rejected) and not error.retryable
    assert (error.status, error.error, error.request_id) == (400, "invalid_grant", "req-1")
    assert "refresh token spent" in error.message
    assert "shprt_secret_value" not in error.message


@pytest.mark.parametrize(
    "reply",
    [
        {"status_code": 429, "headers": {"Retry-After": "7"}},
        {"status_code": 500},
        {"status_code": 200, "text": "<html>proxy error</html>"},
        {"status_code": 200, "json": {"scope": "x"}},
        {"exc": requests.Timeout("slow")},
    ],
    ids=["throttled", "5xx", "not-json", "no-access-token", "timeout"],
)
def test_unavailable_answers_are_transient(settings, requests_mock, reply):
    requests_mock.post(TOKEN_URL, **reply)
    with pytest.raises(TokenEndpointUnavailable) as caught:
        refresh_access_token(settings, SHOP_A, "shprt_x")
    assert isinstance(caught.value, Transient) and caught.value.retryable
    if reply.get("status_code") == 429:
        assert caught.value.retry_after == 7.0


def test_token_set_without_expiry_is_a_non_expiring_token():
    token_set = TokenSet.from_response({"access_token": "shpat_x", "scope": "read_products"})
    assert token_set.expires_in is None and token_set.refresh_token is None
    with pytest.raises(ValueError):
        TokenSet.from_response({"scope": "read_products"})
