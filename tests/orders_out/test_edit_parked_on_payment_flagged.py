"""An ERP order a person linked by hand to a Shopify order whose payment method has no De:Para line
(its import never mapped it), edited before picking (3 -> 1 units, a lower total: no payment to
wait for): the edit cannot send the ERP order's payment forms for its new total, so it parks on
that payment method. Meanwhile the ERP keeps the old lines and would pick and invoice them, so the
order is flagged naming the change held back and the payment method, the change recorded not
applied (as jobs.order_edits.held does for a SKU not bound). Case: the park used to leave the order
unflagged. Once the line is saved the edit resumes, applies, and the note goes."""

from __future__ import annotations

from sqlalchemy import select

from erp.client import ErpClient
from jobs.order_edits import to_erp
from ledger import mappings, trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLineChange
from tests.orders_out.conftest import set_quantity


def _change(shop_id: int) -> OrderLineChange:
    with session_scope() as session:
        [change] = session.scalars(select(OrderLineChange).where(OrderLineChange.direction == SHOPIFY_TO_ERP))
        session.expunge(change)
        return change


def test_an_edit_parked_on_its_payment_method_flags_the_order_until_it_applies(world):
    plain = world.plain(0)
    order = world.linked_order([(plain, 3)], gateway="pix")
    set_quantity(world, order.gid, plain, 1)
    assert to_erp.apply_edit(world.shop_id, order.gid, "7101") == "parked"
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    assert [line.qty_ordered for line in client.get_order(order.nro).lines] == [3]  # the ERP still picks 3

    note = world.link(order.gid).needs_attention
    assert note and note.startswith(to_erp.NOTE), note
    assert f"{plain} 3 -> 1" in note and "payment method 'Pix' has no ERP payment form" in note, note
    assert f"ERP order {order.nro} keeps its earlier lines" in note, note
    change = _change(world.shop_id)
    assert (change.sku, change.qty_before, change.qty_after, change.applied) == (plain, 3, 1, False)
    with session_scope() as session:  # saving the line resumes it (shopify_app.enqueue.resume_parked)
        waiting = trace.parked_waiting_for(session, world.shop_id, "payment_method", "Pix", "order_edits")
        assert [m.unit_key for m in waiting] == ["edit:7101"]
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")

    assert to_erp.apply_edit(world.shop_id, order.gid, "7101") == "done"
    assert [line.qty_ordered for line in client.get_order(order.nro).lines] == [1]
    client.close()
    assert not world.link(order.gid).needs_attention
    assert _change(world.shop_id).applied is True
    with session_scope() as session:
        [message] = session.scalars(select(Message).where(Message.flow == "order_edits"))
        assert message.status == MessageStatus.DONE.value
