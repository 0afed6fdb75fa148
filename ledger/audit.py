"""The audit trail: who changed what and when (settings, mappings, retries, replays, roles).

Before/after snapshots never hold secrets: any key that names a password (anywhere in it:
`password_enc`, `erp_password_new`), token, secret or key is stored as "***", so the audit page
can show that a secret changed without showing it.
The caller owns the transaction.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import AuditEvent, StaffRole

REDACTED = "***"
STAFF_ID = re.compile(r"[0-9]{1,50}")  # Shopify staff ids are numbers: not "system", the app's own actor
USER_TARGET = "user:"  # a role event's target: "user:<staff id>"
TARGET_MAX = AuditEvent.target.type.length  # a target naming free text (a De:Para code) is cut to it
SECRET_KEY_PATTERN = re.compile(
    r"pass(word|wd|phrase)|pass$|senha|token|secret|api_?key|private_?key|authorization|credentials?$|"
    r"signature|hmac",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """True for keys whose values must never be stored in the audit trail."""
    return bool(SECRET_KEY_PATTERN.search(key))


def scrub(value: Any) -> Any:
    """A copy of `value` with the value of every secret-named key replaced by "***" (recursively)."""
    if isinstance(value, dict):
        return {
            key: (REDACTED if is_secret_key(str(key)) and item is not None else scrub(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values changed, as (before, after); a key missing on a side is left out there.

    Values are compared before scrubbing, so a changed password shows as "***" -> "***".
    """
    changed = [key for key in {**before, **after} if before.get(key, _MISSING) != after.get(key, _MISSING)]
    return (
        scrub({key: before[key] for key in changed if key in before}),
        scrub({key: after[key] for key in changed if key in after}),
    )


def record(
    session: Session,
    shop_id: int | None,
    shop_domain: str,
    actor: str,
    action: str,
    target: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_name: str | None = None,
) -> AuditEvent:
    """Append one audit event (secrets scrubbed) and flush it. A target longer than its column (a
    De:Para line's code, 255 characters allowed, after its "mapping:<kind>:") is cut to it: the
    snapshots keep the whole code, and the change is never refused for its audit row.

    The event keeps the names the shop's roles table holds now for a staff actor and for a
    "user:<id>" target (`target_name` given: the name of a row the caller is deleting), so the
    history still names a person after their role is removed."""
    staff = user_of(target)
    names = _names(session, shop_id, {actor, staff})
    event = AuditEvent(
        shop_id=shop_id,
        shop_domain=shop_domain,
        actor=actor,
        actor_name=names.get(actor),
        action=action,
        target=target[:TARGET_MAX] if target else target,
        target_name=target_name if target_name is not None else names.get(staff),
        before=scrub(before) if before is not None else None,
        after=scrub(after) if after is not None else None,
    )
    session.add(event)
    session.flush()
    return event


def user_of(target: str | None) -> str:
    """The staff user id of a role event's target ("user:1002"), else ""."""
    return target.removeprefix(USER_TARGET) if target and target.startswith(USER_TARGET) else ""


def _names(session: Session, shop_id: int | None, user_ids: set[str]) -> dict[str, str]:
    """The names the shop's roles table holds for these staff user ids (those it has one for);
    never for the app's own actors (a row named "system" would name nobody)."""
    wanted = sorted(u for u in user_ids if u and STAFF_ID.fullmatch(u))
    if shop_id is None or not wanted:
        return {}
    rows = session.execute(
        select(StaffRole.user_id, StaffRole.name).where(
            StaffRole.shop_id == shop_id, StaffRole.user_id.in_(wanted), StaffRole.name.is_not(None)
        )
    )
    return {user_id: name for user_id, name in rows if name}


def names_now(session: Session, shop_id: int, events: list[AuditEvent]) -> dict[str, str]:
    """The names the roles table holds now for these events' staff actors and targets: what the
    history shows for events written without one (before names were kept, or the person was named
    after the event)."""
    return _names(session, shop_id, {e.actor for e in events} | {user_of(e.target) for e in events})


def history(
    session: Session, shop_id: int, limit: int = 50, before_id: int | None = None
) -> list[AuditEvent]:
    """The shop's events, newest first; page on with `before_id` = the last id of the previous page."""
    stmt = select(AuditEvent).where(AuditEvent.shop_id == shop_id)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)))


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
