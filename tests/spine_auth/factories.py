"""Test data for the install / auth / roles tests: constants, signed ID tokens, token replies."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from settings import DEFAULT_SCOPES

API_KEY = "test-api-key"
API_SECRET = "test-api-secret-0123456789abcdef0123"
APP_URL = "https://app.example.test"
SHOP_A = "shop-a.myshopify.com"
SHOP_B = "shop-b.myshopify.com"


def make_id_token(
    shop: str = SHOP_A,
    user_id: str = "1001",
    *,
    secret: str = API_SECRET,
    aud: str = API_KEY,
    lifetime: int = 60,
    now: float | None = None,
    **overrides: Any,
) -> str:
    """An ID token as App Bridge would hand it to the page (overrides replace claims)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud,
        "sub": user_id,
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_response(
    access: str = "shpat_access_1",
    refresh: str = "shprt_refresh_1",
    expires_in: int = 3600,
    scope: str = DEFAULT_SCOPES,
) -> dict[str, Any]:
    """The JSON Shopify's token endpoint answers for an expiring offline token (granting every
    scope the app requires unless `scope` says otherwise)."""
    return {
        "access_token": access,
        "expires_in": expires_in,
        "refresh_token": refresh,
        "refresh_token_expires_in": 7776000,
        "scope": scope,
    }


def graphql_url(shop: str, version: str = "2026-10") -> str:
    """Where the Admin GraphQL API of `shop` answers (settings.admin_origin, no sandbox)."""
    return f"https://{shop}/admin/api/{version}/graphql.json"
