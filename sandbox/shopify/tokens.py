"""Access tokens, refresh tokens, authorization codes and ID tokens.

Tokens are random strings stored (table `tokens`) with their shop, app and expiry; refresh
tokens rotate: using one marks it spent, so the old one answers `invalid_grant`. ID tokens are
JWTs (HS256, app secret) for a named staff user, standing in for App Bridge's `idToken()`.
"""

from __future__ import annotations

import secrets
import tomllib
import uuid
from typing import TYPE_CHECKING, Any

import jwt

from sandbox.shopify.gids import num_of
from sandbox.shopify.options import APP_TOML

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

# What Shopify grants on a managed install: the scopes the app's configuration declares
# (shopify.app.toml, as `shopify app deploy` hands it to Shopify), so a shop installed here holds
# every scope the app asks for.
with APP_TOML.open("rb") as _toml:
    _APP_CONFIG = tomllib.load(_toml)
DEFAULT_SCOPES: str = _APP_CONFIG["access_scopes"]["scopes"]
# The app's name there (its App.title: e.g. the provider of the risk assessments it makes).
APP_TITLE: str = _APP_CONFIG["name"]


def granted_scopes(shop_record: dict[str, Any]) -> list[str]:
    """The access scopes the app holds on the shop (DEFAULT_SCOPES until a grant changes them)."""
    return list(shop_record.get("grantedScopes") or DEFAULT_SCOPES.split(","))


class Tokens:
    """Token issuing and checking for one emulator."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _now(self) -> float:
        return self.sandbox.clock.now()

    def _save(self, prefix: str, kind: str, shop: str, api_key: str, ttl: float | None, **extra: Any) -> str:
        token = f"{prefix}{secrets.token_hex(16)}"
        self.sandbox.store.put_row(
            "tokens",
            token,
            {
                "token": token,
                "kind": kind,
                "shop": shop,
                "api_key": api_key,
                "spent": False,
                "expires_at": self._now() + ttl if ttl else None,
                **extra,
            },
        )
        return token

    def _live(self, token: str | None, kind: str) -> dict[str, Any] | None:
        record = self.sandbox.store.get_row("tokens", token) if token else None
        if record is None or record["kind"] != kind or record["spent"]:
            return None
        if record["expires_at"] is not None and record["expires_at"] <= self._now():
            return None
        return record

    def issue_access_token(self, shop: str, api_key: str, expiring: bool, scope: str | None = None) -> dict:
        """The body `/admin/oauth/access_token` answers with; `scope` defaults to the shop's grant."""
        record = self.sandbox.shops.ensure(shop)
        scope = scope or ",".join(granted_scopes(record))
        options = self.sandbox.options
        if not expiring:
            return {
                "access_token": self._save("shpat_", "access", shop, api_key, None, scope=scope),
                "scope": scope,
            }
        return {
            "access_token": self._save(
                "shpat_", "access", shop, api_key, options.access_token_ttl, scope=scope
            ),
            "scope": scope,
            "expires_in": options.access_token_ttl,
            "refresh_token": self._save(
                "shprt_", "refresh", shop, api_key, options.refresh_token_ttl, scope=scope
            ),
            "refresh_token_expires_in": options.refresh_token_ttl,
        }

    def issue_online_token(self, shop: str, api_key: str, ttl: int = 86399) -> dict:
        """An online (per-user) access token: expires, no refresh token."""
        self.sandbox.shops.ensure(shop)
        token = self._save("shpua_", "access", shop, api_key, ttl, scope=DEFAULT_SCOPES)
        return {"access_token": token, "scope": DEFAULT_SCOPES, "expires_in": ttl}

    def check_access_token(self, token: str | None) -> dict[str, Any] | None:
        """The token's record (shop, api_key, scope) when it is live, else None."""
        return self._live(token, "access")

    def refresh(self, shop: str, api_key: str, refresh_token: str) -> dict | None:
        """Rotate: spend the refresh token and issue a new pair; None means invalid_grant."""
        with self.sandbox.store.transaction():
            record = self._live(refresh_token, "refresh")
            if record is None or record["shop"] != shop or record["api_key"] != api_key:
                return None
            record["spent"] = True
            self.sandbox.store.put_row("tokens", refresh_token, record)
            return self.issue_access_token(shop, api_key, expiring=True)  # the shop's grant now

    def revoke_shop(self, shop: str, api_key: str) -> int:
        """Spend every access and refresh token of the app on the shop (uninstall); returns how many."""
        store = self.sandbox.store
        revoked = 0
        with store.transaction():
            for record in store.all_rows("tokens"):
                if record["shop"] == shop and record["api_key"] == api_key and not record["spent"]:
                    record["spent"] = True
                    store.put_row("tokens", record["token"], record)
                    revoked += 1
        return revoked

    def issue_code(self, shop: str, api_key: str) -> str:
        return self._save("", "code", shop, api_key, 600)

    def redeem_code(self, shop: str, api_key: str, code: str) -> bool:
        """Spend an authorization code once."""
        with self.sandbox.store.transaction():
            record = self._live(code, "code")
            if record is None or record["shop"] != shop or record["api_key"] != api_key:
                return False
            record["spent"] = True
            self.sandbox.store.put_row("tokens", code, record)
            return True

    def id_token(self, shop: str, user: str = "owner", ttl: int | None = None) -> str:
        """An App Bridge style ID token for a staff member (handle `owner`, `gerente`, ... or id)."""
        options = self.sandbox.options
        member = self.sandbox.shops.staff_member(shop, user)
        if member is None:
            raise LookupError(f"no staff member {user!r} in shop {shop!r}")
        now = int(self._now())
        claims = {
            "iss": f"https://{shop}.myshopify.com/admin",
            "dest": f"https://{shop}.myshopify.com",
            "aud": options.api_key,
            "sub": str(num_of(member["id"])),
            "exp": now + (ttl if ttl is not None else options.id_token_ttl),
            "nbf": now,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "sid": secrets.token_hex(16),
        }
        return jwt.encode(claims, options.api_secret, algorithm="HS256")

    def verify_id_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid subject token, else None (signature, aud, exp/nbf, iss~dest)."""
        options = self.sandbox.options
        try:
            claims = jwt.decode(
                token,
                options.api_secret,
                algorithms=["HS256"],
                audience=options.api_key,
                leeway=5,
                options={
                    "require": ["exp", "nbf", "iss", "dest", "aud", "sub"],
                    "verify_iat": False,
                    "verify_exp": False,  # checked below against the emulator's clock
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            return None
        now = self._now()
        if claims["exp"] + 5 < now or claims["nbf"] - 5 > now:
            return None
        if not str(claims["iss"]).startswith(str(claims["dest"])):
            return None
        return claims
