"""Installing the app: token exchange for the embedded page, the authorization code grant otherwise.

Both end the same way: an expiring offline token stored encrypted, the shop row active, an
`app.installed` audit row. Everything here is plain functions of the settings and the request's
values; shopify_app.auth maps them onto routes, cookies and status codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ledger.db import session_scope
from ledger.schedules import ensure_default_schedules
from ledger.shop_row_lock import lock_domain
from shopify_app.enqueue import enqueue_catch_up
from shopify_app.id_token import IdTokenClaims, is_valid_shop_domain
from shopify_app.scopes import missing_reason, missing_scopes
from shopify_app.shops import find_shop, is_usable, mark_installed, uninstall_pending
from shopify_app.token_endpoint import TokenSet, exchange_id_token
from shopify_app.tokens import shop_token_lock, store_tokens

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/auth/callback"
# How far a signed query's `timestamp` may be from now (Shopify's own libraries allow 90 s).
HMAC_TIMESTAMP_TOLERANCE_SECONDS = 90

QueryParams = Mapping[str, str | Sequence[str]]


class InstallRefused(Exception):
    """An install request that must be turned away; `status` is the HTTP answer, `reason` why."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


def _encoded_pairs(params: QueryParams) -> list[str]:
    """`k=v` pairs as Shopify signs them: arrays as JSON lists, delimiters escaped."""
    pairs = []
    for key, raw in params.items():
        if key in ("hmac", "signature"):
            continue
        values = [raw] if isinstance(raw, str) else list(raw)
        if key.endswith("[]"):
            key, value = key[:-2], json.dumps([str(v) for v in values])
        elif len(values) == 1:
            value = str(values[0])
        else:
            value = json.dumps([str(v) for v in values])
        key = key.replace("%", "%25").replace("=", "%3D")
        value = value.replace("%", "%25")
        pairs.append(f"{key}={value}".replace("&", "%26"))
    return sorted(pairs)


def query_hmac(params: QueryParams, secret: str) -> str:
    """Hex HMAC-SHA256 of the query (minus `hmac`): sorted `k=v` pairs joined by `&`."""
    message = "&".join(_encoded_pairs(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_query_hmac(
    params: QueryParams, secret: str | Sequence[str], *, now: float | None = None
) -> str | None:
    """None when the query is signed by Shopify (with `secret`, or one of several during a
    rotation) and recent, else the reason it is not."""
    given = params.get("hmac")
    if isinstance(given, Sequence) and not isinstance(given, str):
        given = given[0] if len(given) == 1 else None
    if not given:
        return "missing hmac"
    # compare_digest refuses non-ASCII text (a TypeError, a 500): compare the bytes instead.
    signature = given.lower().encode("utf-8")
    secrets = (secret,) if isinstance(secret, str) else secret
    if not any(hmac.compare_digest(query_hmac(params, one).encode(), signature) for one in secrets):
        return "hmac does not verify"
    stamp = params.get("timestamp")
    if stamp is not None:
        value = stamp if isinstance(stamp, str) else (stamp[0] if stamp else "")
        try:
            age = abs((now if now is not None else time.time()) - int(value))
        except ValueError:
            return "timestamp is not a number"
        if age > HMAC_TIMESTAMP_TOLERANCE_SECONDS:
            return "signed request is too old"
    return None


def clean_shop(shop: str | None) -> str:
    """The lower-cased permanent domain, or InstallRefused(400) for anything else."""
    value = (shop or "").strip().lower()
    if not is_valid_shop_domain(value):
        raise InstallRefused(400, "invalid_shop", "shop must be a *.myshopify.com domain")
    return value


def authorize_url(settings: Settings, shop: str, state: str) -> str:
    """Where the merchant approves the install (the sandbox serves it too, named by `shop`)."""
    origin, _headers = settings.admin_origin(shop)
    params = {
        "client_id": settings.api_key,
        "scope": settings.scopes,
        "redirect_uri": f"{settings.app_url}{CALLBACK_PATH}",
        "state": state,
    }
    if settings.shopify_base_url:  # one sandbox origin serves many shops: name the shop
        params["shop"] = shop
    return f"{origin}/admin/oauth/authorize?{urlencode(params)}"


def reauthorize_path(shop: str) -> str:
    """Where the page sends the merchant (top level) to approve the app's scopes again: the
    authorization code grant, which asks Shopify for every scope the app requires."""
    return f"/auth/install?{urlencode({'shop': shop})}"


def app_home_url(settings: Settings, shop: str) -> str:
    """The app inside the shop's admin, where the merchant lands after installing."""
    origin, _headers = settings.admin_origin(shop)
    if settings.shopify_base_url:
        return f"{origin}/admin/apps/{settings.api_key}?{urlencode({'shop': shop})}"
    return f"{origin}/admin/apps/{settings.api_key}"


def install(settings: Settings, shop: str, token_set: TokenSet, *, actor: str) -> int:
    """Record a granted offline token: shop active, tokens stored encrypted, audit row.

    A grant that lacks a scope the app requires (`missing_scopes`: a granted `write_x` covers
    `read_x`) stores the token all the same but leaves the shop needs_reauth naming the scopes:
    every job would be denied. Returns the shop's id.
    """
    with session_scope(settings.database_url) as session:
        # Locked first, so what follows reads the row as an uninstall or a shop/redact running now
        # leaves it; by its domain too, for a store with no row a shop/redact may be erasing.
        lock_domain(session, shop)
        earlier = find_shop(session, shop, for_update=True)
        # Webhooks went unprocessed unless the shop was active with a token the workers could
        # use: uninstalled (none sent), needs_reauth (an uninstall webhook missed or late; every
        # job failed with ShopNeedsReauth), or a token no key reads, or an uninstall not worked yet
        # (none was sent since it either). A first install has no past.
        catch_up = earlier is not None and (
            earlier.uninstalled_at is not None
            or not is_usable(earlier, keys=settings.encryption_keys)
            or uninstall_pending(session, earlier)
        )
        granted = token_set.scope or settings.scopes
        missing = missing_scopes(granted.split(","), settings.scope_list)
        parked = missing_reason(missing) if missing else None
        row = mark_installed(session, shop, scopes=granted, actor=actor, parked=parked, missing=missing)
        store_tokens(session, row, token_set, keys=settings.encryption_keys)
        ensure_default_schedules(session, row.id, row.iana_timezone)  # (known from an earlier install)
        shop_id = row.id
    if missing:
        log.warning("oauth: installed on %s (actor %s) without required scopes %s", shop, actor, missing)
        return shop_id  # parked: the catch-up waits for the install that makes the grant whole
    log.info("oauth: installed on %s (actor %s)", shop, actor)
    if catch_up:  # see enqueue_catch_up: the orders placed or refused meanwhile
        enqueue_catch_up(settings.redis_url, shop_id, shop, after="the install")
    return shop_id


def needs_install(settings: Settings, shop: str) -> bool:
    """True when the shop has no usable offline token (new, uninstalled, or needs re-auth), or one
    Shopify revoked by an uninstall not worked yet (`uninstall_pending`: the staff member opening
    the app reinstalled it)."""
    with session_scope(settings.database_url) as session:
        row = find_shop(session, shop)
        return not is_usable(row, keys=settings.encryption_keys) or uninstall_pending(session, row)


def ensure_installed(settings: Settings, claims: IdTokenClaims, id_token: str) -> bool:
    """Token exchange when the shop has no usable offline token. True when it installed now.

    Runs under the shop's token lock, so a page opened in two tabs exchanges once.

    Raises:
        TokenRequestRejected: Shopify refused the exchange (e.g. invalid_subject_token).
        Transient: the token endpoint or Redis is unavailable now.
    """
    if not needs_install(settings, claims.shop):
        return False
    with shop_token_lock(settings, claims.shop):
        if not needs_install(settings, claims.shop):
            return False
        token_set = exchange_id_token(settings, claims.shop, id_token)
        install(settings, claims.shop, token_set, actor=claims.user_id)
    return True
