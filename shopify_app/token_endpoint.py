"""The three calls to Shopify's token endpoint, POST {origin}/admin/oauth/access_token.

- token exchange: the embedded page's ID token becomes an expiring offline access token;
- authorization code grant: the `code` of a non-embedded install becomes the same;
- refresh: a refresh token becomes a new access token and a new (rotated) refresh token.

Each returns a `TokenSet` or raises a typed, classified error: `TokenRequestRejected` (a 4xx:
the grant is bad; asking again gives the same answer) or `TokenEndpointUnavailable` (network,
5xx, 429: worth trying later). The origin comes from `settings.admin_origin(shop)`, so the
sandbox stands in by configuration alone. No secret or token ever enters a log or a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from ledger.errors import Rejected, Transient

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger(__name__)

# (connect, read) seconds: the token endpoint answers in well under a second when healthy.
TIMEOUT = (5.0, 20.0)

# OAuth token-exchange URNs (RFC 8693 and Shopify's), not secrets.
GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105


# OAuth errors that refuse the app's own credentials (client_id / client_secret), not the grant:
# a wrong secret deployed, or the old one revoked before every process runs the new one.
APP_CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class TokenRequestRejected(Rejected):
    """Shopify refused the grant (4xx): invalid_grant, invalid_subject_token, invalid_client..."""

    def __init__(self, message: str, *, status: int, error: str | None, request_id: str | None) -> None:
        super().__init__(
            message,
            system="shopify",
            code=error or f"http_{status}",
            detail={"status": status, "request_id": request_id},
        )
        self.status = status
        self.error = error
        self.request_id = request_id

    @property
    def refuses_the_app(self) -> bool:
        """True when Shopify refused our client credentials, which says nothing of the shop."""
        return self.error in APP_CREDENTIAL_ERRORS


class TokenEndpointUnavailable(Transient):
    """The token endpoint could not answer now (network error, 5xx, 429, unreadable reply)."""


@dataclass(frozen=True)
class TokenSet:
    """An offline token as Shopify's token endpoint returns it (expiring when expires_in is set)."""

    access_token: str
    scope: str
    refresh_token: str | None = None
    expires_in: int | None = None
    refresh_token_expires_in: int | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> TokenSet:
        """Parse the endpoint's JSON; raises ValueError when it carries no access token."""
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ValueError("token response carries no access_token")
        return cls(
            access_token=access_token,
            scope=str(body.get("scope") or ""),
            refresh_token=body.get("refresh_token") or None,
            expires_in=_int_or_none(body.get("expires_in")),
            refresh_token_expires_in=_int_or_none(body.get("refresh_token_expires_in")),
        )

    def __repr__(self) -> str:  # never print the secrets
        return (
            f"TokenSet(scope={self.scope!r}, expires_in={self.expires_in!r}, "
            f"refresh_token_expires_in={self.refresh_token_expires_in!r})"
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def exchange_id_token(settings: Settings, shop: str, id_token: str) -> TokenSet:
    """Token exchange: the ID token of a staff member's session -> an expiring offline token."""
    return _post(
        settings,
        shop,
        {
            "grant_type": GRANT_TOKEN_EXCHANGE,
            "subject_token": id_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": OFFLINE_TOKEN_TYPE,
            "expiring": "1",
        },
        purpose="token exchange",
    )


def exchange_authorization_code(settings: Settings, shop: str, code: str) -> TokenSet:
    """Authorization code grant (non-embedded install) -> an expiring offline token."""
    return _post(settings, shop, {"code": code, "expiring": "1"}, purpose="authorization code grant")


def refresh_access_token(settings: Settings, shop: str, refresh_token: str) -> TokenSet:
    """Refresh: a new access token and a new refresh token (the old one stops working)."""
    return _post(
        settings,
        shop,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        purpose="token refresh",
    )


def token_url(settings: Settings, shop: str) -> tuple[str, dict[str, str]]:
    """The token endpoint for `shop`, and the headers that name the shop (sandbox: Host)."""
    origin, headers = settings.admin_origin(shop)
    return f"{origin}/admin/oauth/access_token", headers


def _post(settings: Settings, shop: str, grant: dict[str, str], *, purpose: str) -> TokenSet:
    url, headers = token_url(settings, shop)
    body = {"client_id": settings.api_key, "client_secret": settings.api_secret, **grant}
    try:
        response = requests.post(
            url,
            json=body,
            headers={**headers, "Accept": "application/json"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("shopify token endpoint: %s for %s failed: %s", purpose, shop, type(exc).__name__)
        raise TokenEndpointUnavailable(f"{purpose} for {shop}: {type(exc).__name__}", shop=shop) from exc

    request_id = response.headers.get("X-Request-Id")
    if response.status_code == 429 or response.status_code >= 500:
        log.warning("shopify token endpoint: %s for %s answered %s", purpose, shop, response.status_code)
        raise TokenEndpointUnavailable(
            f"{purpose} for {shop}: HTTP {response.status_code}",
            retry_after=_retry_after(response),
            shop=shop,
            status=response.status_code,
            request_id=request_id,
        )
    if response.status_code != 200:
        error, description = _oauth_error(response)
        log.warning(
            "shopify token endpoint: %s for %s refused: HTTP %s %s",
            purpose,
            shop,
            response.status_code,
            error,
        )
        message = f"{purpose} for {shop} refused: {error or 'HTTP ' + str(response.status_code)}"
        if description:
            message += f" ({description})"
        raise TokenRequestRejected(message, status=response.status_code, error=error, request_id=request_id)
    try:
        payload = response.json()
        if not isinstance(payload, dict):
            raise ValueError("token response is not a JSON object")
        return TokenSet.from_response(payload)
    except ValueError as exc:
        raise TokenEndpointUnavailable(
            f"{purpose} for {shop}: unreadable token response", shop=shop, request_id=request_id
        ) from exc


def _oauth_error(response: requests.Response) -> tuple[str | None, str | None]:
    """The OAuth `error` code and `error_description` of a refusal, when it carries them."""
    try:
        payload = response.json()
    except ValueError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    error = payload.get("error")
    description = payload.get("error_description")
    if isinstance(error, dict):  # some Shopify errors nest {"error": {"message": ...}}
        description = error.get("message") or description
        error = error.get("code")
    return (str(error) if error else None), (str(description)[:300] if description else None)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None
