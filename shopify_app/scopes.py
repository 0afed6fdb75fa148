"""The access scopes Shopify grants a shop, against the ones the app requires (settings.SCOPES).

Shopify leaves out of a grant the read scope a granted write scope implies (`write_orders`
grants `read_orders`), as its own app libraries do when they compare scopes; so does
`missing_scopes`. `apply_scopes_update` records an `app/scopes_update` delivery on the shop
row: the grant, an audit row, and the shop parked `needs_reauth` (naming the scopes) when a
required one is gone (unless it is parked for another reason already: that one stands), or back
to active when a later grant makes it whole again and it was parked for that. The install
(`shopify_app.oauth.install`) checks the grant of the token it gets the same way. No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import AuditEvent, Shop, ShopStatus, as_utc
from shopify_app.shops import mark_needs_reauth, write_audit

ACTOR = "shopify"
UPDATED = "app.scopes_updated"
STALE = "app.scopes_updated.stale"
RESTORED = "shop.scopes_restored"
# The start of the needs_reauth reason written here: a later whole grant clears only this one.
# Worded for a first install lacking scopes and for scopes removed later alike; the start it had
# before still marks the reasons stored with it.
MISSING_REASON_START = "Shopify does not grant the app"
_EARLIER_MISSING_REASON_START = "Shopify no longer grants the app"


# Shopify lets an app read the last 60 days of a store's orders only, unless it holds this scope
# (the Order object's description in the vendored 2026-10 schema): an older order reads null, as a
# deleted one does. The app does not ask for it (settings.DEFAULT_SCOPES; Shopify grants it on
# request only).
ALL_ORDERS = "read_all_orders"
ORDERS_READABLE = timedelta(days=60)


def reads_all_orders(granted: str | Iterable[str]) -> bool:
    """Whether a grant (a shop's `scopes`, comma-separated, or a list) reads orders of any age."""
    scopes = granted.split(",") if isinstance(granted, str) else granted
    return ALL_ORDERS in {scope.strip() for scope in scopes}


def _implied(scope: str) -> str | None:
    """The scope a granted one implies (`write_x` -> `read_x`, `unauthenticated_write_x` too)."""
    for write, read in (("unauthenticated_write_", "unauthenticated_read_"), ("write_", "read_")):
        if scope.startswith(write):
            return read + scope[len(write) :]
    return None


def missing_scopes(granted: Iterable[str], required: Iterable[str]) -> list[str]:
    """The required scopes the grant does not cover, in the required list's order."""
    held = {scope.strip() for scope in granted if scope.strip()}
    held |= {implied for scope in held if (implied := _implied(scope))}
    return [scope for scope in required if scope not in held]


def missing_reason(missing: list[str]) -> str:
    """The needs_reauth reason shown to the merchant: what happened and what to do, right both
    for a first install whose grant lacks scopes and for scopes removed later, and whether the
    merchant reads it inside the app or elsewhere (the page shows its own words, in its language)."""
    count = f"{len(missing)} permission{'' if len(missing) == 1 else 's'}"
    return (
        f"{MISSING_REASON_START} {count} it needs: {', '.join(missing)}. Approve them with the "
        '"Approve the permissions in Shopify" button on the app\'s page; if Shopify then asks for '
        "none, reinstall the app."
    )


def is_missing_reason(reason: str | None) -> bool:
    """True for a needs_reauth reason `missing_reason` wrote (now or in its earlier wording)."""
    return (reason or "").startswith((MISSING_REASON_START, _EARLIER_MISSING_REASON_START))


@dataclass(frozen=True)
class ScopesUpdate:
    """What an app/scopes_update delivery says: the grant before and after, and when."""

    previous: list[str] | None
    current: list[str]
    updated_at: datetime | None


def _scope_list(payload: dict[str, Any], key: str, topic: str) -> list[str] | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"{topic} payload has no `{key}` list of scopes (got {type(value).__name__})")
    wrong = [item for item in value if not isinstance(item, str) or not item.strip()]
    if wrong:
        raise ValueError(f"{topic} payload `{key}` holds {wrong[0]!r}, which is not a scope name")
    return list(dict.fromkeys(item.strip() for item in value))


def parse_update(payload: dict[str, Any], topic: str, triggered_at: datetime | None) -> ScopesUpdate:
    """The update a payload carries. `updated_at` falls back to the delivery's triggered time.

    Raises:
        ValueError: `current` is missing or is not a list of scope names (or `previous` is wrong).
    """
    current = _scope_list(payload, "current", topic)
    if current is None:
        raise ValueError(f"{topic} payload has no `current` list of scopes: the grant cannot be read")
    try:
        updated_at = datetime.fromisoformat(str(payload.get("updated_at")).replace("Z", "+00:00"))
    except ValueError:
        updated_at = triggered_at
    return ScopesUpdate(_scope_list(payload, "previous", topic), current, updated_at and as_utc(updated_at))


def _last_applied(session: Session, shop: Shop) -> datetime | None:
    """When Shopify made the grant last recorded for the shop (from its audit row), if known."""
    after = session.scalar(
        select(AuditEvent.after)
        .where(AuditEvent.shop_id == shop.id, AuditEvent.action == UPDATED)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    try:
        return as_utc(datetime.fromisoformat(after["updated_at"])) if after else None
    except (KeyError, TypeError, ValueError):
        return None


def stale_reason(session: Session, shop: Shop, update: ScopesUpdate) -> str | None:
    """Why the update is older than what the ledger knows (webhooks come out of order), or None."""
    if update.updated_at is None:
        return None
    if shop.installed_at is not None and update.updated_at < shop.installed_at:
        return "older than the token the app obtained since (its grant was read then)"
    last = _last_applied(session, shop)
    if last is not None and update.updated_at < last:
        return f"older than the grant recorded already (made at {last.isoformat()})"
    return None


def _parked_otherwise(shop: Shop) -> bool:
    """True when the shop is parked for another reason (a token Shopify refused, one no key
    reads): that reason stands, so a later whole grant cannot put it back to active."""
    return shop.status == ShopStatus.NEEDS_REAUTH.value and not is_missing_reason(shop.status_reason)


@dataclass(frozen=True)
class ScopesApplied:
    """What `apply_scopes_update` did: why it ignored the update (stale), or whether the grant
    made a shop parked for missing scopes whole again (`restored`: its catch-up is due)."""

    stale: str | None = None
    restored: bool = False


def apply_scopes_update(
    session: Session, shop: Shop, update: ScopesUpdate, required: list[str]
) -> ScopesApplied:
    """Record the grant on the shop (and its token); park or restore the shop. Runs in the
    caller's transaction: the caller enqueues the catch-up of a restored shop after its commit."""
    if reason := stale_reason(session, shop, update):
        write_audit(
            session, shop=shop, shop_domain=shop.domain, actor=ACTOR, action=STALE, target=shop.domain,
            after={"scopes": update.current, "updated_at": str(update.updated_at), "reason": reason},
        )  # fmt: skip
        return ScopesApplied(stale=reason)
    missing = missing_scopes(update.current, required)
    before = {"scopes": [s for s in shop.scopes.split(",") if s]}
    shop.scopes = ",".join(update.current)
    if shop.token is not None:
        shop.token.scopes = shop.scopes
    write_audit(
        session, shop=shop, shop_domain=shop.domain, actor=ACTOR, action=UPDATED, target=shop.domain,
        before=before,
        after={
            "scopes": update.current,
            "previous": update.previous,
            "missing": missing,
            "updated_at": update.updated_at.isoformat() if update.updated_at else None,
        },
    )  # fmt: skip
    if missing and not _parked_otherwise(shop):
        mark_needs_reauth(session, shop, missing_reason(missing), actor=ACTOR)
    elif shop.status == ShopStatus.NEEDS_REAUTH.value and is_missing_reason(shop.status_reason):
        restored_from = {"status": shop.status, "reason": shop.status_reason}
        shop.status, shop.status_reason = ShopStatus.ACTIVE.value, None
        write_audit(
            session, shop=shop, shop_domain=shop.domain, actor=ACTOR, action=RESTORED, target=shop.domain,
            before=restored_from, after={"status": shop.status},
        )  # fmt: skip
        return ScopesApplied(restored=True)
    return ScopesApplied()
