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

from ledger.models import AuditEvent

REDACTED = "***"
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
) -> AuditEvent:
    """Append one audit event (secrets scrubbed) and flush it. A target longer than its column (a
    De:Para line's code, 255 characters allowed, after its "mapping:<kind>:") is cut to it: the
    snapshots keep the whole code, and the change is never refused for its audit row."""
    event = AuditEvent(
        shop_id=shop_id,
        shop_domain=shop_domain,
        actor=actor,
        action=action,
        target=target[:TARGET_MAX] if target else target,
        before=scrub(before) if before is not None else None,
        after=scrub(after) if after is not None else None,
    )
    session.add(event)
    session.flush()
    return event


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
