"""The "orders (payment)" note (jobs.order_payment_lost: an authorisation voided after the order
went to the ERP) is closed by a person as the other order notes are: from its message, with Mark as
handled (operators and above, a note required, audited), once they dealt with it (cancelled the ERP
order, asked the customer to pay again). Closed so, it stays closed while the payment stays lost (no
note again, no Shopify read); a payment found again ends it, so a later loss is told again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from by_hand import api_client, staff

from jobs import order_payment_lost, orders
from ledger import handled, trace
from ledger.db import session_scope
from ledger.models import AuditEvent, MessageStatus, Role
from shopify_app import fail_words, skip_words

from .test_delivery_address import order_update
from .test_payment_lost import LABEL, authorised_import, paid_again, payment_note, reads, void_in_shopify  # noqa: F401


@pytest.fixture
def api(env, world):
    """The JSON API as an operator ("31") and a viewer ("32") of the shop."""
    return SimpleNamespace(
        client=api_client(env),
        operator=staff(world, "31", Role.OPERATOR),
        viewer=staff(world, "32", Role.VIEWER),
    )


def payment_message(world, gid: str):
    return world.message(gid, unit=f"payment:{gid.rsplit('/', 1)[-1]}")


def test_the_payment_note_is_marked_handled_from_its_message_and_stays_closed(world, reads, api):  # noqa: F811
    gid, _nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()
    assert payment_note(world, gid) is not None
    failed = payment_message(world, gid)
    assert failed.status == MessageStatus.FAILED.value, failed and failed.error_text
    assert failed.error_detail["code"] == "PAYMENT_LOST" and failed.shopify_id == gid
    said = fail_words.said(failed.error_detail[trace.FAIL], "pt-BR")
    assert said and said.startswith("O pedido") and "não será pago" in said, said

    # the Orders page: the note, the message that closes it, and the button's role
    link_id = world.link(gid).id
    page = api.client.get(f"/api/orders/{link_id}?locale=en", headers=api.viewer).get_json()
    [note] = [n for n in page["attention_notes"] if n["topic"] == "payment"]
    assert note["message_id"] == failed.id
    assert failed.id in [m["id"] for m in page["messages"]]
    detail = api.client.get(f"/api/messages/{failed.id}?locale=en", headers=api.operator).get_json()
    assert detail["can_mark_handled"] is True and detail["explanation"]
    post = lambda auth: api.client.post(  # noqa: E731
        f"/api/messages/{failed.id}/handled", json={"note": "ERP order cancelled by hand"}, headers=auth
    )
    assert post(api.viewer).status_code == 403
    answer = post(api.operator)
    assert answer.status_code == 200, answer.get_json()

    assert payment_note(world, gid) is None and world.link(gid).needs_attention is None
    closed = payment_message(world, gid)
    assert handled.info(closed)["note"] == "ERP order cancelled by hand"
    with session_scope() as session:
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "message.handled").all()
        assert event.after["notes_cleared"] == [LABEL] and event.actor == "31"
    listed = api.client.get("/api/orders?status=needs_attention", headers=api.viewer).get_json()["orders"]
    assert gid not in [o["shopify_order_id"] for o in listed]

    order_update(world, gid, tags=["conferido"])  # still voided: not noted again, nothing read
    world.drain()
    assert payment_note(world, gid) is None and reads == [gid]
    assert handled.info(payment_message(world, gid)) is not None
    assert [o["situacaoped"] for o in world.erp_orders_for(gid)] != ["C"]  # the ERP order is the person's

    paid_again(world, gid)  # the payment found again: the person's closing has done its work
    world.drain()
    again = payment_message(world, gid)
    assert again.status == MessageStatus.SKIPPED.value and handled.info(again) is None
    assert "PAID" in again.error_text and reads == [gid, gid]
    said = skip_words.reason(again, "pt-BR")
    assert said and "pago" in said, said


def test_retry_of_the_payment_message_looks_again(world, reads):  # noqa: F811
    """Retry reads the order's payment again: still lost, it stays failed with its note; paid since,
    the note goes and the message closes."""
    gid, _nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()
    failed = payment_message(world, gid)
    assert orders.replay(failed.id) == "flagged"
    assert payment_note(world, gid) is not None
    assert payment_message(world, gid).status == MessageStatus.FAILED.value
    paid_again(world, gid)
    world.delivered()  # its webhooks not processed: the Retry finds it paid
    assert orders.replay(failed.id) == "cleared"
    assert payment_note(world, gid) is None
    assert payment_message(world, gid).status == MessageStatus.SKIPPED.value


@pytest.mark.parametrize(
    ("status", "done_with", "looked"),
    [
        ("voided", False, False),  # closed by a person: still lost, nothing more
        ("voided", True, False),
        ("paid", True, False),  # invoiced or cancelled: nothing left to stop
        ("paid", False, True),  # paid again: the closing has done its work
    ],
)
def test_a_payment_loss_closed_as_handled_is_looked_at_only_once_paid_again(status, done_with, looked):
    state = order_payment_lost.PaymentState(False, done_with, handled=True)
    assert order_payment_lost.wanted({"financial_status": status, "cancelled_at": None}, state) is looked
