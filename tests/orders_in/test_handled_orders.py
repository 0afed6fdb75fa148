"""An order a person handled outside the app (refused by the import, entered in the ERP by hand,
then marked handled on the Messages page) is never sent to the ERP again: not when the cause is
fixed in Shopify and orders/updated comes, nor by a replay; and its cancellation in Shopify, which
the app cannot pass on (it knows no ERP order of it), fails for a person instead of closing as
"never sent"."""

from __future__ import annotations

import pytest
from by_hand import staff_api

from jobs import orders
from ledger.models import MessageStatus, Role
from sandbox.shopify.order_documents import localized_fields

from .test_edits_and_cancels import cancel_in_shopify
from .test_not_for_erp import change_order

BAD_CPF = "529.982.247-24"


@pytest.fixture
def mark_handled(env, world):
    """POST /api/messages/<id>/handled as an operator of the shop."""
    client, auth = staff_api(env, world, Role.OPERATOR)

    def post(message_id: int, note: str) -> dict:
        answer = client.post(f"/api/messages/{message_id}/handled", json={"note": note}, headers=auth)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    return post


def test_an_order_handled_by_hand_is_not_sent_again_once_fixed_in_shopify(world, mark_handled):
    gid = world.place(gateway="pix", tax_id=BAD_CPF)
    world.drain()
    refused = world.message(gid)
    assert refused.status == MessageStatus.FAILED.value and world.erp_orders_for(gid) == []
    mark_handled(refused.id, "entered by hand in the ERP")

    # the CPF corrected in Shopify afterwards: an orders/updated, and a replay
    change_order(
        world, gid, lambda order: order.update(_localizedFields=localized_fields("52998224725", False))
    )
    world.drain()
    assert orders.import_order(world.shop_id, gid, trigger="orders/updated") == "handled"
    assert orders.replay(refused.id) == "handled"
    assert world.erp_orders_for(gid) == []
    closed = world.message(gid)
    assert closed.status == MessageStatus.SKIPPED.value and "entered by hand" in closed.error_text
    assert closed.attempts == refused.attempts


def test_a_handled_order_cancelled_in_shopify_fails_for_a_person(world, mark_handled):
    gid = world.place(gateway="pix", tax_id=BAD_CPF)
    world.drain()
    mark_handled(world.message(gid).id, "entered by hand in the ERP")
    cancel_in_shopify(world, gid)
    world.drain()
    num = gid.rsplit("/", 1)[-1]
    cancellation = world.message(gid, "cancellations", f"cancel:{num}")
    assert cancellation.status == MessageStatus.FAILED.value, cancellation.error_text
    assert cancellation.error_detail["code"] == "CANCEL_HANDLED_BY_HAND"
    assert "cancel it there" in cancellation.error_text and world.link(gid).cancelled_at is not None
