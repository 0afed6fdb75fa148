"""Verify the ID token (session token) App Bridge attaches to every request from the embedded page.

The token is a one-minute HS256 JWT signed with the app's client secret. It is the only thing
that says which shop and which staff member a request comes from, so every claim that names
them is checked: the signature, `aud` (our client id), `exp`/`nbf` with a few seconds of clock
skew, and `iss` (https://{shop}/admin) and `dest` (https://{shop}) naming the same valid shop.

No Flask here: the verification is a pure function of the token and the settings. The token
itself never reaches a log or an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt

if TYPE_CHECKING:
    from settings import Settings

# Shopify's own rule for a shop's permanent domain.
SHOP_DOMAIN_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")

# Seconds of clock skew tolerated on exp / nbf (Shopify's own libraries allow 10).
LEEWAY_SECONDS = 10

_REQUIRED_CLAIMS = ["iss", "dest", "aud", "sub", "exp", "nbf"]


class InvalidIdToken(Exception):
    """The ID token cannot be trusted; `reason` says why in words safe to show and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdTokenClaims:
    """What a verified ID token says: which shop, which staff member, which session."""

    shop: str  # the shop's permanent domain, e.g. "example.myshopify.com"
    user_id: str  # `sub`: the Shopify staff member's user id
    session_id: str | None  # `sid`
    token_id: str | None  # `jti`
    issued_at: int | None  # `iat`
    expires_at: int  # `exp`
    not_before: int  # `nbf`


def is_valid_shop_domain(shop: str | None) -> bool:
    """True when `shop` is a permanent *.myshopify.com domain (nothing else is ever trusted)."""
    return bool(shop) and SHOP_DOMAIN_RE.fullmatch(shop) is not None


def _shop_of(url: Any, *, path: str, claim: str) -> str:
    """The shop named by an `iss` / `dest` URL, which must be https://{shop}{path} exactly."""
    if not isinstance(url, str):
        raise InvalidIdToken(f"claim {claim} is not a URL")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:  # "https://[x" or a port beyond 65535
        raise InvalidIdToken(f"claim {claim} is not a shop URL") from exc
    if parts.scheme != "https" or port is not None or parts.path.rstrip("/") != path:
        raise InvalidIdToken(f"claim {claim} is not a shop URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidIdToken(f"claim {claim} is not a shop URL")
    if not is_valid_shop_domain(host):
        raise InvalidIdToken(f"claim {claim} does not name a valid shop domain")
    return host.lower()


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    """The verified claims; with the current secret, else (a rotation) the old one."""
    *earlier, last = settings.signing_secrets
    for secret in earlier:
        try:
            return _decode_with(token, secret, settings)
        except jwt.InvalidSignatureError:
            continue
    return _decode_with(token, last, settings)


def _decode_with(token: str, secret: str, settings: Settings) -> dict[str, Any]:
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=settings.api_key,
        leeway=LEEWAY_SECONDS,
        options={"require": _REQUIRED_CLAIMS},
    )


def verify_id_token(token: str, settings: Settings) -> IdTokenClaims:
    """Check an ID token and return its claims.

    Raises:
        InvalidIdToken: forged, expired, not yet valid, for another app, or naming two shops.
    """
    if not token or not isinstance(token, str):
        raise InvalidIdToken("missing ID token")
    try:
        claims = _decode(token, settings)
    except jwt.ExpiredSignatureError as exc:
        raise InvalidIdToken("ID token expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise InvalidIdToken("ID token not yet valid") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidIdToken("ID token issued for another app (aud)") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidIdToken("ID token signature does not verify") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidIdToken(f"ID token lacks the {exc.claim} claim") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise InvalidIdToken("ID token not signed with HS256") from exc
    except jwt.PyJWTError as exc:
        raise InvalidIdToken("ID token malformed") from exc

    issuer_shop = _shop_of(claims["iss"], path="/admin", claim="iss")
    dest_shop = _shop_of(claims["dest"], path="", claim="dest")
    if issuer_shop != dest_shop:
        raise InvalidIdToken("iss and dest name different shops")
    user_id = str(claims["sub"]).strip()
    if not user_id:
        raise InvalidIdToken("ID token has an empty sub")

    return IdTokenClaims(
        shop=dest_shop,
        user_id=user_id,
        session_id=_optional_str(claims.get("sid")),
        token_id=_optional_str(claims.get("jti")),
        issued_at=_optional_int(claims.get("iat")),
        expires_at=int(claims["exp"]),
        not_before=int(claims["nbf"]),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def bearer_token(authorization_header: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` header, or None."""
    if not authorization_header:
        return None
    scheme, _, value = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
