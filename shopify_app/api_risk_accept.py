"""A person's decision to send to the ERP an order held for its fraud risk (jobs.order_risk).

`POST /api/messages/<id>/risk-accept` (operator): the order's message must be pending, held for its
risk (error_detail {"waiting": "risk"}). The decision is kept in the message's request payload
(ledger.order_risk.ACCEPTED: the recommendation it was taken on, who, when), audited
(`order.risk_accepted`), and the message's replay enqueued: the import reads the order again and
sends it unless Shopify's recommendation got worse meanwhile (accepted at INVESTIGATE, CANCEL now),
which holds it again for another look. 409 not_held_for_risk otherwise (sent already, cancelled,
waiting for its payment, released by its analysis meanwhile).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from ledger import order_risk
from ledger.kv import get_redis
from ledger.models import Message, Role
from shopify_app.api_common import ApiError, app_settings, db, write_audit
from shopify_app.api_messages import own_message
from shopify_app.enqueue import enqueue_replay
from shopify_app.roles import require_role

bp = Blueprint("risk_accept", __name__, url_prefix="/messages")


@bp.post("/<int:message_id>/risk-accept")
@require_role(Role.OPERATOR)
def risk_accept(message_id: int) -> ResponseReturnValue:
    with db() as session:
        message = own_message(session, message_id)
        if not order_risk.held_for_risk(message):
            raise ApiError(
                409, "not_held_for_risk", f"message {message_id} is not an order held for its fraud risk"
            )
        pending = bool((message.error_detail or {}).get("pending"))
        accepted = order_risk.accept(message, str(g.user_id))
        recommendation = accepted["recommendation"]
        write_audit(
            session,
            "order.risk_accepted",
            f"message:{message.id}",
            {"recommendation": recommendation, "pending": pending},
            {"message_id": message.id, "shopify_id": message.shopify_id},
        )
        asked = message.id
    with db() as session:  # committed first: the replay reads the decision
        message = session.get(Message, asked)
        assert message is not None
        job_id, enqueued = enqueue_replay(message, get_redis(app_settings().redis_url))
        answer = {"message_id": asked, "job_id": job_id, "enqueued": enqueued}
        return jsonify({**answer, "recommendation": recommendation}), 202
