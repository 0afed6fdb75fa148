"""POST /api/messages/<id>/risk-accept: a person sends to the ERP an order held for its fraud risk
(jobs.order_risk). Operators only; only an orders message pending for its risk; the decision kept
in the message's request, audited, and the replay enqueued."""

from __future__ import annotations

from spine_auth.factories import SHOP_B
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import AuditEvent, Message, Role
from ledger.order_risk import ACCEPTED

from .conftest import USERS, headers, queued


def _held(settings, message, shops, unit="order:51", **detail) -> int:
    gid = "gid://shopify/Order/51"
    held = message(shops.a, "orders", unit, request={"order_name": "#1051"}, shopify_id=gid)
    with session_scope(settings.database_url) as session:
        session.get(Message, held).error_detail = {"waiting": "risk", "recommendation": "CANCEL", **detail}
    return held


def test_an_operator_sends_a_held_order_and_the_decision_is_kept_audited_and_replayed(
    client, settings, shops, message, rq
):
    held = _held(settings, message, shops)
    viewer = client.post(f"/api/messages/{held}/risk-accept", headers=headers(Role.VIEWER))
    assert viewer.status_code == 403
    assert queued(rq, "orders") == []
    answer = client.post(f"/api/messages/{held}/risk-accept", headers=headers(Role.OPERATOR))
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert (body["message_id"], body["enqueued"], body["recommendation"]) == (held, True, "CANCEL")
    assert queued(rq, "orders") == [("jobs.orders.replay", (held,))]
    with session_scope(settings.database_url) as session:
        request = session.get(Message, held).request_payload
        assert request["order_name"] == "#1051"  # the rest of the request kept
        assert request[ACCEPTED]["recommendation"] == "CANCEL"
        assert request[ACCEPTED]["user_id"] == USERS[Role.OPERATOR]
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "order.risk_accepted"))
        assert event.target == f"message:{held}" and event.actor == USERS[Role.OPERATOR]
        assert event.before == {"recommendation": "CANCEL", "pending": False}


def test_only_an_order_held_for_its_risk_can_be_sent_so(client, settings, shops, message, rq):
    unpaid = message(shops.a, "orders", "order:52")
    done = message(shops.a, "orders", "order:53", done=True)
    stock = message(shops.a, "stock", "stock:1:risk")
    with session_scope(settings.database_url) as session:
        session.get(Message, unpaid).error_detail = {"waiting": "payment", "financial_status": "PENDING"}
        session.get(Message, stock).error_detail = {"waiting": "risk"}
    for message_id in (unpaid, done, stock):
        answer = client.post(f"/api/messages/{message_id}/risk-accept", headers=headers(Role.OPERATOR))
        assert answer.status_code == 409, message_id
        assert answer.get_json()["error"]["code"] == "not_held_for_risk"
    held = _held(settings, message, shops)  # shop A's: shop B's staff do not see it
    elsewhere = client.post(f"/api/messages/{held}/risk-accept", headers=headers(Role.OPERATOR, SHOP_B))
    assert elsewhere.status_code == 404
    assert queued(rq, "orders") == []
