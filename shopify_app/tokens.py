"""The shop's offline token: stored encrypted, handed to the Admin API client, refreshed before expiry.

`get_access_token(shop)` is called before every Admin API request, by web processes and RQ
workers alike (so no Flask here). Expiring offline tokens live an hour; within
`REFRESH_MARGIN` of expiry the token is refreshed under a per-shop Redis lock, and the token
is read again once the lock is held, so any number of workers racing past expiry cause one
refresh. The refresh token rotates on every use and the new one is stored at once.

When Shopify refuses a refresh (4xx: invalid_grant, revoked app...), the shop is marked
`needs_reauth` with the reason and an audit row, and `ShopNeedsReauth` is raised: not
retryable, and every later call fails fast without asking Shopify again until a staff member
opens the app (token exchange re-installs). No crash loop, no hammering the endpoint.

Installs (token exchange, the OAuth callback) take the same lock, and a refresh's verdict is
written only while the locked shop row still holds the token the refresh started from: when an
install stored a new grant meanwhile, the old grant's refusal parks nothing and its rotated
token overwrites nothing; Transient is raised and the retry uses the new token.

A refusal of the app's own credentials (invalid_client, unauthorized_client: a wrong
SHOPIFY_API_SECRET deployed, the old secret revoked too early) says nothing about the shop's
grant: the shop stays active, `AppCredentialsRefused` (Transient, logged as an error) is
raised, and the jobs retry; once the secret is fixed the same refresh token works again.

A stored token no configured ENCRYPTION_KEY decrypts any more (a key dropped before `secrets
rotate` re-encrypted it) is worth nothing: the shop is parked `needs_reauth` saying so, and the
next token exchange (a staff member opening the app) replaces it. One written within
UNREADABLE_GRACE is not parked but retried (Transient): during a key rollout a process already
holding the new key may have refreshed it with that key before this one got it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import crypto
from ledger.db import read_scope, session_scope
from ledger.errors import Rejected, Transient
from ledger.kv import get_redis
from ledger.models import OfflineToken, Shop, ShopStatus, utcnow
from settings import Settings, get_settings
from shopify_app.shops import find_shop, mark_needs_reauth
from shopify_app.token_endpoint import TokenRequestRejected, TokenSet, refresh_access_token

__all__ = [
    "REFRESH_MARGIN",
    "AppCredentialsRefused",
    "ShopNeedsReauth",
    "TokenSet",
    "get_access_token",
    "shop_token_lock",
    "store_tokens",
]

log = logging.getLogger(__name__)

# Refresh when the access token has less than this left.
REFRESH_MARGIN = timedelta(seconds=300)
# The lock outlives a slow refresh (token endpoint timeout is 25 s) but not a dead worker for long.
LOCK_TIMEOUT_SECONDS = 60
# How long a second worker waits for the first one's refresh before giving up (Transient).
LOCK_WAIT_SECONDS = 45
# A token no configured key reads, written less than this long ago, is taken for one a process
# already holding a new ENCRYPTION_KEY wrote during its rollout: retried (Transient), not parked.
UNREADABLE_GRACE = timedelta(minutes=15)
UNREADABLE_REASON = (
    "the stored offline token cannot be decrypted with the configured ENCRYPTION_KEY "
    "(its key was dropped): open the app from the Shopify admin to replace it"
)


# The error detail's flag of a unit refused because the shop could not be used (ShopNeedsReauth):
# the install that makes it usable again replays them (shopify_app.enqueue.retry_reauth_failed).
REAUTH = "shop_reauth"


class ShopNeedsReauth(Rejected):
    """The shop has no usable token until a staff member opens the app again; do not retry (the
    install that makes the shop usable replays the units refused so: their detail says REAUTH)."""

    def __init__(self, shop: str, status: str, reason: str) -> None:
        super().__init__(
            f"{shop} needs re-authorization: {reason}",
            system="shopify",
            code=status,
            detail={
                "shop": shop,
                "fix": "open the app from the Shopify admin to re-authorize it",
                REAUTH: True,
            },
        )
        self.shop = shop
        self.status = status
        self.reason = reason


class AppCredentialsRefused(Transient):
    """Shopify refused the app's client id / secret on a refresh: an app-level fault (fix the
    deployed SHOPIFY_API_KEY / SHOPIFY_API_SECRET), not the shop's; retried, shop untouched."""

    def __init__(self, shop: str, error: str) -> None:
        super().__init__(
            f"Shopify refused the app's credentials ({error}) refreshing the token of {shop}: "
            "check SHOPIFY_API_KEY / SHOPIFY_API_SECRET (a wrong or revoked client secret)",
            shop=shop,
            code=error,
        )
        self.shop = shop
        self.error = error


@dataclass(frozen=True)
class _Snapshot:
    """The stored token as one read saw it (ciphertext kept to detect a concurrent refresh)."""

    access_enc: bytes
    refresh_enc: bytes | None
    expires_at: datetime | None
    refresh_expires_at: datetime | None

    def is_fresh(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at - now > REFRESH_MARGIN


def store_tokens(
    session: Session,
    shop: Shop,
    token_set: TokenSet,
    *,
    now: datetime | None = None,
    keys: str | None = None,
) -> None:
    """Encrypt and store the shop's offline token (replacing, hence rotating, the refresh token).

    `keys` are the ENCRYPTION_KEY value to encrypt with (default: the environment's).
    """
    now = now or utcnow()
    keys = keys or get_settings().encryption_keys
    token = shop.token
    if token is None:
        token = OfflineToken(shop_id=shop.id, access_token_enc=b"")
        session.add(token)
        shop.token = token
    token.access_token_enc = crypto.encrypt(token_set.access_token, keys)
    token.refresh_token_enc = (
        crypto.encrypt(token_set.refresh_token, keys) if token_set.refresh_token else None
    )
    token.expires_at = now + timedelta(seconds=token_set.expires_in) if token_set.expires_in else None
    token.refresh_expires_at = (
        now + timedelta(seconds=token_set.refresh_token_expires_in)
        if token_set.refresh_token_expires_in
        else None
    )
    if token_set.scope:
        token.scopes = token_set.scope
        shop.scopes = token_set.scope
    token.updated_at = now
    session.flush()


def _read(settings: Settings, shop_domain: str) -> _Snapshot:
    """The stored token of an active shop; fails fast when the shop cannot be served."""
    with read_scope(settings.database_url) as session:
        # One SELECT of the columns used (every Admin API call reads it): the shop and its token.
        shop = session.execute(
            select(
                Shop.status,
                Shop.status_reason,
                OfflineToken.id.label("token_id"),
                OfflineToken.access_token_enc,
                OfflineToken.refresh_token_enc,
                OfflineToken.expires_at,
                OfflineToken.refresh_expires_at,
            )
            .select_from(Shop)
            .outerjoin(OfflineToken, OfflineToken.shop_id == Shop.id)
            .where(Shop.domain == shop_domain.lower())
        ).one_or_none()
        if shop is None:
            raise ShopNeedsReauth(shop_domain, "not_installed", "the app is not installed on this shop")
        if shop.status != ShopStatus.ACTIVE.value:
            raise ShopNeedsReauth(shop_domain, shop.status, shop.status_reason or shop.status)
        if shop.token_id is None:
            raise ShopNeedsReauth(shop_domain, "not_installed", "no offline token stored")
        return _Snapshot(
            access_enc=bytes(shop.access_token_enc),
            refresh_enc=bytes(shop.refresh_token_enc) if shop.refresh_token_enc else None,
            expires_at=shop.expires_at,
            refresh_expires_at=shop.refresh_expires_at,
        )


@contextmanager
def shop_token_lock(settings: Settings, shop_domain: str) -> Iterator[None]:
    """Hold the per-shop token lock (refresh and install take it), or raise Transient."""
    client = get_redis(settings.redis_url)
    lock = client.lock(
        f"shopify:token-lock:{shop_domain}",
        timeout=LOCK_TIMEOUT_SECONDS,
        blocking_timeout=LOCK_WAIT_SECONDS,
    )
    try:
        acquired = lock.acquire()
    except redis.RedisError as exc:
        raise Transient(f"token lock for {shop_domain}: Redis unavailable", shop=shop_domain) from exc
    if not acquired:
        raise Transient(f"token lock for {shop_domain}: another refresh is still running", shop=shop_domain)
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.RedisError:
            log.warning("tokens: lock for %s expired before release", shop_domain)


def get_access_token(
    shop_domain: str, *, refused: str | None = None, settings: Settings | None = None
) -> str:
    """The shop's current access token, refreshed first when it expires within REFRESH_MARGIN.

    `refused` is the access token Shopify just answered 401 to: it is refreshed even if it looks
    fresh, but only while it is still the stored one. Two workers refused the same token cause
    one refresh: the second gets the token the first stored instead of rotating it again.

    Raises:
        ShopNeedsReauth: not installed, uninstalled, or the refresh was refused (not retryable).
        AppCredentialsRefused: Shopify refused the app's client secret (Transient; shop untouched).
        Transient: the token endpoint or Redis is unavailable now (retry later).
    """
    settings = settings or get_settings()
    domain = shop_domain.strip().lower()
    seen = _read(settings, domain)
    if seen.is_fresh(utcnow()):
        token = _plain(settings, domain, seen, seen.access_enc)
        if token != refused:
            return token
    with shop_token_lock(settings, domain):
        current = _read(settings, domain)  # re-check: another worker may have refreshed already
        if current.is_fresh(utcnow()):
            token = _plain(settings, domain, current, current.access_enc)
            if token != refused:
                return token
        return _refresh(settings, domain, current)


def _refresh(settings: Settings, domain: str, current: _Snapshot) -> str:
    """Refresh under the lock; store the rotated tokens or park the shop as needs_reauth."""
    now = utcnow()
    if current.refresh_enc is None:
        _park(settings, domain, current, "the offline token expired and has no refresh token")
    if current.refresh_expires_at is not None and current.refresh_expires_at <= now:
        _park(settings, domain, current, "the refresh token expired")
    refresh_token = _plain(settings, domain, current, current.refresh_enc or b"")
    try:
        token_set = refresh_access_token(settings, domain, refresh_token)
    except TokenRequestRejected as exc:
        if exc.refuses_the_app:  # our client secret is wrong: the shop's grant is not in question
            log.error("tokens: Shopify refused the app's credentials (%s) for %s", exc.error, domain)
            raise AppCredentialsRefused(domain, exc.error or "") from exc
        _park(settings, domain, current, f"token refresh refused: {exc.error or 'HTTP ' + str(exc.status)}")
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, domain, for_update=True, key_share=True)
        _unless_replaced(shop, domain, current, settings)  # an install stored a new grant: keep it
        if shop is not None and shop.token is not None:
            # Kept even when the shop was parked meanwhile (a scopes update): Shopify spent the old
            # refresh token answering, and this set is the grant the shop has once it is restored.
            store_tokens(session, shop, token_set, now=now, keys=settings.encryption_keys)
        status = shop.status if shop is not None else "not_installed"
    if status != ShopStatus.ACTIVE.value:  # raised once the tokens are committed
        raise ShopNeedsReauth(domain, status, "the shop changed state during the refresh")
    log.info("tokens: refreshed the offline token of %s", domain)
    return token_set.access_token


def _plain(settings: Settings, domain: str, snapshot: _Snapshot, secret: bytes) -> str:
    """One of the snapshot's secrets decrypted; an unreadable one parks the shop."""
    try:
        return crypto.decrypt(secret, settings.encryption_keys)
    except crypto.SecretUnreadable:
        _park_unreadable(settings, domain, snapshot)


def _park_unreadable(settings: Settings, domain: str, snapshot: _Snapshot) -> NoReturn:
    """Park the shop whose stored token no key reads, unless a new token replaced it meanwhile."""
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, domain, for_update=True, key_share=True)
        _unless_replaced(shop, domain, snapshot, settings)
        _unless_written_during_a_key_rollout(shop, domain)
        if shop is not None and shop.status == ShopStatus.ACTIVE.value:
            mark_needs_reauth(session, shop, UNREADABLE_REASON)
    log.error("tokens: %s needs re-authorization: %s", domain, UNREADABLE_REASON)
    raise ShopNeedsReauth(domain, ShopStatus.NEEDS_REAUTH.value, UNREADABLE_REASON)


def _unless_written_during_a_key_rollout(shop: Shop | None, domain: str) -> None:
    """Raise Transient when the unreadable token was written within UNREADABLE_GRACE: another
    process, already on a new ENCRYPTION_KEY, most likely refreshed it with that key while this
    one still runs without it (a rollout under way). Parking the shop would stop every job until
    staff open the app; the retry reads it once this process has the new key too."""
    written = shop.token.updated_at if shop is not None and shop.token is not None else None
    if written is None:
        return
    age = utcnow() - written
    if age < UNREADABLE_GRACE:
        message = (
            f"the offline token of {domain} was written {int(age.total_seconds())} s ago with an "
            "ENCRYPTION_KEY this process does not hold: a key rollout is under way (add a new key "
            "LAST on every process first, see README); retrying instead of parking the shop"
        )
        log.warning("tokens: %s", message)
        raise Transient(message, shop=domain)


def _park(settings: Settings, domain: str, snapshot: _Snapshot, reason: str) -> NoReturn:
    """Mark the shop needs_reauth (with an audit row) and raise ShopNeedsReauth, unless a new
    token replaced the one `snapshot` read meanwhile (the refused grant is no longer the shop's)."""
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, domain, for_update=True, key_share=True)
        _unless_replaced(shop, domain, snapshot, settings)
        # Uninstalled meanwhile (Shopify revoked the grant at the uninstall, whose webhook was worked
        # while this refresh was in flight): the refusal is the uninstall's, the shop stays as it is
        # (parked, it was e-mailed "re-authorize the app" for the 48 h until shop/redact).
        gone = shop is None or shop.token is None or shop.status == ShopStatus.UNINSTALLED.value
        if not gone:
            mark_needs_reauth(session, shop, reason)
        status = shop.status if shop is not None else "not_installed"
    if gone:
        raise ShopNeedsReauth(domain, status, reason)
    log.warning("tokens: %s needs re-authorization: %s", domain, reason)
    raise ShopNeedsReauth(domain, ShopStatus.NEEDS_REAUTH.value, reason)


def _unless_replaced(shop: Shop | None, domain: str, snapshot: _Snapshot, settings: Settings) -> None:
    """Raise Transient when the (locked) shop row holds another token than `snapshot` read: an
    install (OAuth callback, token exchange) stored a new grant while this refresh ran, so what
    Shopify said about the old one neither parks the shop nor overwrites the new token. The
    retry reads the new token.

    "Another token" means other plain text: `secrets rotate` re-encrypts the same tokens with the
    newest key meanwhile (other ciphertext, same grant), and taking that for a new install would
    throw away the token set Shopify just issued while its refresh token is already spent."""
    token = shop.token if shop is not None else None
    if token is not None and not _same_grant(token, snapshot, settings):
        log.info("tokens: the offline token of %s was replaced meanwhile; retrying with it", domain)
        raise Transient(
            f"the offline token of {domain} was replaced meanwhile (a new install): retry with it",
            shop=domain,
        )


def _same_grant(token: OfflineToken, snapshot: _Snapshot, settings: Settings) -> bool:
    """Whether the stored token is still the one `snapshot` read: the same ciphertext, or the
    same plain access and refresh tokens under other ciphertext (re-encrypted by a key rotation).
    Every install and refresh stores a token Shopify issued anew, so equal plain text is the same
    grant whoever wrote it; a version column would instead have to be bumped by every writer and
    left alone by the rotation (updated_at is not: the rotation's UPDATE sets it). When either
    side is unreadable it is taken for replaced: the retry reads the row again."""
    refresh_enc = bytes(token.refresh_token_enc) if token.refresh_token_enc is not None else None
    if bytes(token.access_token_enc) == snapshot.access_enc and refresh_enc == snapshot.refresh_enc:
        return True
    if (refresh_enc is None) != (snapshot.refresh_enc is None):
        return False
    keys = settings.encryption_keys
    try:
        pairs = [
            (crypto.decrypt(bytes(token.access_token_enc), keys), crypto.decrypt(snapshot.access_enc, keys)),
        ]
        if refresh_enc is not None and snapshot.refresh_enc is not None:
            pairs.append((crypto.decrypt(refresh_enc, keys), crypto.decrypt(snapshot.refresh_enc, keys)))
    except crypto.SecretUnreadable:
        return False
    return all(stored == read for stored, read in pairs)
