"""ID token verification: only a fresh token signed with our secret, for our app, naming one shop."""

from __future__ import annotations

import time

import jwt
import pytest

from settings import Settings
from shopify_app.id_token import InvalidIdToken, bearer_token, verify_id_token
from spine_auth.factories import API_KEY, API_SECRET, SHOP_A, SHOP_B, make_id_token


@pytest.fixture
def settings(monkeypatch) -> Settings:
    """Pure verification needs no database: just the key and the secret."""
    monkeypatch.setenv("SHOPIFY_API_KEY", API_KEY)
    monkeypatch.setenv("SHOPIFY_API_SECRET", API_SECRET)
    return Settings.from_env()


def test_valid_token_passes_with_its_claims(settings):
    token = make_id_token(SHOP_A, "4242", sid="session-1", jti="jti-1")
    claims = verify_id_token(token, settings)
    assert claims.shop == SHOP_A
    assert claims.user_id == "4242"
    assert claims.session_id == "session-1"
    assert claims.token_id == "jti-1"
    assert claims.expires_at > time.time()


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"secret": "some-other-secret-0123456789abcdef0123"}, "signature"),
        ({"age": 120}, "expired"),
        ({"age": -120}, "not yet valid"),
        ({"aud": "another-app"}, "aud"),
        ({"dest": f"https://{SHOP_B}"}, "different shops"),
        ({"iss": f"https://{SHOP_B}/admin"}, "different shops"),
        ({"dest": "https://evil.example.com"}, "valid shop domain"),
        ({"iss": "https://shop-a.myshopify.com/other"}, "iss"),
        ({"dest": "http://shop-a.myshopify.com"}, "dest"),
        ({"sub": None}, "sub"),
        ({"nbf": None}, "nbf"),
    ],
    ids=[
        "forged",
        "expired",
        "not-yet-valid",
        "wrong-audience",
        "dest-other-shop",
        "iss-other-shop",
        "dest-not-shopify",
        "iss-wrong-path",
        "dest-not-https",
        "no-sub",
        "no-nbf",
    ],
)
def test_untrustworthy_tokens_are_rejected(settings, token_kwargs, reason):
    # Times are relative to when the test runs, not to when pytest collected it.
    token_kwargs = dict(token_kwargs)
    if "age" in token_kwargs:
        token_kwargs["now"] = time.time() - token_kwargs.pop("age")
    with pytest.raises(InvalidIdToken) as caught:
        verify_id_token(make_id_token(**token_kwargs), settings)
    assert reason in caught.value.reason


def test_during_a_secret_rotation_a_token_signed_with_the_old_secret_passes(monkeypatch):
    old = "old-api-secret-0123456789abcdef0123"
    monkeypatch.setenv("SHOPIFY_API_KEY", API_KEY)
    monkeypatch.setenv("SHOPIFY_API_SECRET", API_SECRET)
    monkeypatch.setenv("SHOPIFY_API_SECRET_PREVIOUS", old)
    rotating = Settings.from_env()
    assert verify_id_token(make_id_token(SHOP_A, secret=old), rotating).shop == SHOP_A
    assert verify_id_token(make_id_token(SHOP_A), rotating).shop == SHOP_A
    with pytest.raises(InvalidIdToken, match="signature"):
        verify_id_token(make_id_token(SHOP_A, secret="a-third-secret-0123456789abcdef012"), rotating)
    monkeypatch.delenv("SHOPIFY_API_SECRET_PREVIOUS")
    with pytest.raises(InvalidIdToken, match="signature"):  # revoked: emptied from the settings
        verify_id_token(make_id_token(SHOP_A, secret=old), Settings.from_env())


def test_skew_within_ten_seconds_is_tolerated(settings):
    """Shopify's own libraries allow 10 s (shopify-api-js JWT_PERMITTED_CLOCK_TOLERANCE; the
    shopify_app gem moved from 5 s to 10 s): a server a few seconds behind Shopify must not
    refuse every fresh token for its first seconds."""
    just_expired = make_id_token(now=time.time() - 68)  # exp 8 s ago
    assert verify_id_token(just_expired, settings).shop == SHOP_A
    from_the_future = make_id_token(now=time.time() + 8)  # nbf 8 s ahead: Shopify's clock ahead
    assert verify_id_token(from_the_future, settings).shop == SHOP_A
    too_late = make_id_token(now=time.time() - 75)  # exp 15 s ago
    with pytest.raises(InvalidIdToken, match="expired"):
        verify_id_token(too_late, settings)


def test_unsigned_and_garbage_tokens_are_rejected(settings):
    unsigned = jwt.encode(
        jwt.decode(make_id_token(), options={"verify_signature": False}), key=None, algorithm="none"
    )
    for token in (unsigned, "not-a-jwt", ""):
        with pytest.raises(InvalidIdToken):
            verify_id_token(token, settings)


def test_reason_never_contains_the_token(settings):
    token = make_id_token(secret="forged-secret-0123456789abcdef01234")
    with pytest.raises(InvalidIdToken) as caught:
        verify_id_token(token, settings)
    assert token not in str(caught.value)


def test_bearer_header_parsing():
    assert bearer_token("Bearer abc.def") == "abc.def"
    assert bearer_token("bearer  abc") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
