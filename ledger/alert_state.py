"""The alert e-mails' state as the Setup page shows it (written by jobs.alerts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledger.models import AlertState

EVERY_MINUTES = 10  # a shop's alert e-mail goes at most this often (jobs.alerts: one run a slot)


def last_attempt(session: Session, shop_id: int) -> dict[str, Any] | None:
    """The last alert e-mail tried: when, whether the mail server took it (`error` None) or its
    words, how many items, to whom, and when one last went; None before the first."""
    state = session.get(AlertState, shop_id)
    if state is None or state.last_at is None:
        return None
    return {
        "at": state.last_at.isoformat(),
        "ok": state.last_error is None,
        "error": state.last_error,
        "items": state.last_items,
        "to": list(state.last_to or []),
        "sent_at": state.sent_at.isoformat() if state.sent_at else None,
    }
