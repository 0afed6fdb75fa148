"""An order held for its fraud risk, as its message carries it (jobs.order_risk holds it; a person's
decision to send it all the same is kept here, by shopify_app.api_risk_accept and the demo; the
pages say why it waits)."""

from __future__ import annotations

from typing import Any

from ledger.models import Message, MessageStatus, utcnow

FLOW = "orders"
WAITING = "risk"  # the message's error_detail "waiting" (pending on purpose, as for a payment)
# The message's request payload key of a person's decision to send it all the same:
# {"recommendation": the one it was taken on, "user_id", "at"}.
ACCEPTED = "risk_accepted"
# In a held order's detail: it waits for a fraud app's analysis (setting risk_app_wait_minutes):
# {"minutes": the setting, "until": when the wait ends, ISO in UTC}.
AWAITING_APP = "awaiting_app"


def awaiting_app(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The wait for a fraud app's analysis a held order's detail records, or None."""
    found = detail.get(AWAITING_APP)
    return found if isinstance(found, dict) and found.get("until") else None


def held_for_risk(message: Message) -> bool:
    """Whether the orders message is pending on purpose for its fraud risk."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    pending = message.status == MessageStatus.PENDING.value
    return message.flow == FLOW and pending and detail.get("waiting") == WAITING


def accept(message: Message, user_id: str) -> dict[str, Any]:
    """Keep a person's decision to send the held order all the same in its message's request (the
    import reads it: jobs.order_risk.hold); returns it. The caller audits it and enqueues the replay."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    accepted = {
        "recommendation": str(detail.get("recommendation") or "NONE"),
        "user_id": user_id,
        "at": utcnow().isoformat(),
    }
    request = message.request_payload if isinstance(message.request_payload, dict) else {}
    message.request_payload = {**request, ACCEPTED: accepted}  # a new dict: the JSON column tracks it
    return accepted
