"""The shop's install state in the ledger: who is installed, who needs re-auth, and the audit trail.

Shared by the web side (install, roles) and by workers (token refresh), so no Flask here.
Audit rows are written directly as `AuditEvent`s in the caller's transaction, so a state
change and its record commit or roll back together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ledger import audit, crypto, install_periods, privacy
from ledger.models import AuditEvent, InboxStatus, Shop, ShopStatus, WebhookInbox, utcnow

SYSTEM_ACTOR = "system"


def write_audit(
    session: Session,
    *,
    shop: Shop | None,
    shop_domain: str,
    actor: str,
    action: str,
    target: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_name: str | None = None,
) -> AuditEvent:
    """Add one audit row (who did what to which target, before and after) to the session;
    `target_name`: the name of a staff member whose roles row the caller is deleting."""
    return audit.record(
        session,
        shop.id if shop is not None else None,
        shop_domain,
        actor,
        action,
        target,
        before,
        after,
        target_name=target_name,
    )


def find_shop(
    session: Session, domain: str, *, for_update: bool = False, key_share: bool = False
) -> Shop | None:
    """The shop row for a permanent domain (locked for update when asked, on PostgreSQL). `key_share`:
    FOR NO KEY UPDATE, which a row referencing the shop written in an open transaction (its foreign
    key check holds FOR KEY SHARE on the shop) does not block: the token paths, which a job may reach
    through a Shopify call made while its own transaction holds such rows."""
    query = select(Shop).where(Shop.domain == domain.lower())
    if for_update:
        query = query.with_for_update(key_share=key_share)
    return session.scalars(query).one_or_none()


def is_usable(shop: Shop | None, *, keys: str | None = None) -> bool:
    """True when the shop is installed, active and holds an offline token that `keys` (the
    ENCRYPTION_KEY value; default the environment's) can read. A token no key decrypts any more
    is worth nothing: token exchange replaces it the next time a staff member opens the app."""
    if shop is None or shop.status != ShopStatus.ACTIVE.value or shop.token is None:
        return False
    secrets = (shop.token.access_token_enc, shop.token.refresh_token_enc)
    return all(_readable(secret, keys) for secret in secrets if secret is not None)


# app/uninstalled, stored and not worked yet (Redis down, the queue behind, a worker restarting).
UNINSTALL_TOPIC = "app/uninstalled"
NOT_WORKED = (InboxStatus.RECEIVED.value, InboxStatus.ENQUEUED.value)


def uninstall_pending(session: Session, shop: Shop | None) -> bool:
    """Whether an app/uninstalled of the shop, later than its install, is stored and not worked yet.
    The shop still reads active on its old token, which Shopify revoked at the uninstall: a staff
    member opening the app now (an ID token: the app is installed) reinstalled it, and needs the
    token exchange that makes the shop's install newer than that uninstall (jobs.compliance then
    takes it for a stale one). Once that install is recorded, the pending uninstall is older."""
    if shop is None:
        return False
    query = select(WebhookInbox.id).where(
        WebhookInbox.shop_domain == shop.domain,
        WebhookInbox.topic == UNINSTALL_TOPIC,
        WebhookInbox.status.in_(NOT_WORKED),
    )
    if shop.installed_at is not None:
        at = func.coalesce(WebhookInbox.triggered_at, WebhookInbox.received_at)
        query = query.where(at >= shop.installed_at)
    return session.scalar(query.limit(1)) is not None


def _readable(secret: bytes, keys: str | None) -> bool:
    try:
        crypto.decrypt(secret, keys)
    except crypto.SecretUnreadable:
        return False
    return True


def mark_installed(
    session: Session,
    domain: str,
    *,
    scopes: str,
    actor: str,
    now: datetime | None = None,
    parked: str | None = None,
    missing: list[str] | None = None,
) -> Shop:
    """Create or reactivate the shop row after a successful install / re-auth, with an audit row.

    `parked` (the reason) leaves the shop needs_reauth instead of active: the token it got does
    not grant the `missing` scopes the app requires."""
    now = now or utcnow()
    shop = find_shop(session, domain, for_update=True)
    before: dict[str, Any] | None = None
    if shop is None:
        shop = Shop(domain=domain.lower(), scopes=scopes, settings={}, created_at=now)
        session.add(shop)
        # after shop/redact, a new row: the store's earlier installations are kept by domain
        install_periods.installed(session, shop.domain, now)
    else:
        before = {"status": shop.status, "scopes": shop.scopes}
        install_periods.installed(session, shop.domain, now, created_at=shop.created_at)
    shop.status = ShopStatus.NEEDS_REAUTH.value if parked else ShopStatus.ACTIVE.value
    shop.status_reason = parked
    shop.scopes = scopes
    shop.uninstalled_at = None
    # When the token in hand was granted: an uninstall triggered before it is one the merchant
    # has undone since (jobs.compliance), whatever state the ledger was in (uninstalled, or
    # needs_reauth after Shopify revoked the old token, or still active: its webhook not in yet).
    shop.installed_at = now
    session.flush()
    if before is None:
        _adopt_privacy_records(session, shop)
    write_audit(
        session,
        shop=shop,
        shop_domain=shop.domain,
        actor=actor,
        action="app.installed",
        target=shop.domain,
        before=before,
        after={"status": shop.status, "scopes": scopes}
        | ({"reason": parked, "missing": missing or []} if parked else {}),
    )
    return shop


def mark_needs_reauth(session: Session, shop: Shop, reason: str, *, actor: str = SYSTEM_ACTOR) -> None:
    """Park the shop until a staff member opens the app again (which re-runs token exchange)."""
    if shop.status == ShopStatus.NEEDS_REAUTH.value and shop.status_reason == reason:
        return
    before = {"status": shop.status, "reason": shop.status_reason}
    shop.status = ShopStatus.NEEDS_REAUTH.value
    shop.status_reason = reason
    write_audit(
        session,
        shop=shop,
        shop_domain=shop.domain,
        actor=actor,
        action="shop.needs_reauth",
        target=shop.domain,
        before=before,
        after={"status": shop.status, "reason": reason},
    )


# Audit actions of the privacy webhooks a store may get before its shop row exists (installed
# through Shopify, the app not opened yet: jobs.compliance writes them with no shop).
PRIVACY_ACTIONS = (privacy.DATA_EXPORTED, privacy.CUSTOMER_REDACTED)


def _adopt_privacy_records(session: Session, shop: Shop) -> None:
    """A new shop row takes the privacy records kept for its domain alone since the store's data
    was last erased (shop/redact): a customers/data_request answered before the row existed is then
    on the shop's audit page, and its export can be downloaded (GET /api/audit/<id>/export);
    before, it could be seen by nobody. Records of an installation erased earlier stay apart."""
    erased = (
        select(func.max(AuditEvent.created_at))
        .where(AuditEvent.shop_domain == shop.domain, AuditEvent.action == privacy.SHOP_REDACTED)
        .scalar_subquery()
    )
    session.execute(
        update(AuditEvent)
        .where(
            AuditEvent.shop_id.is_(None),
            AuditEvent.shop_domain == shop.domain,
            AuditEvent.action.in_(PRIVACY_ACTIONS),
            (erased.is_(None)) | (AuditEvent.created_at > erased),
        )
        .values(shop_id=shop.id)
        .execution_options(synchronize_session=False)
    )
