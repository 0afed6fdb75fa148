"""A separation event applied, then the NF-e "faturado com alteração" with a change of its own (a
line cut at the checkout, no second separation event): the Shopify order is edited to the NF-e,
the capture matches it, and what the separation applied is not sent again."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from tests.orders_out.conftest import World


def test_a_change_the_nfe_brings_after_an_applied_separation_is_applied_too(world: World) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1}, weights={})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value
    with world.erp.store.write() as (conn, _now):  # B: 2 ordered, 1 served, found at invoicing
        items = t.mad_pedvendaitem
        conn.execute(
            update(items)
            .where(items.c.nropedvenda == order.nro, items.c.seqitem == order.lines[b])
            .values(qtdatendida=1.0)
        )

    nfe_total, message = world.invoice(order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    lines = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert lines == {a: 1, b: 1}
    settlement = world.settlement(order.gid)
    assert Decimal(str(settlement.current_total)) == Decimal(str(nfe_total)) == Decimal(str(settlement.paid))
    assert settlement.financial_status == "PAID"
    assert not world.link(order.gid).needs_attention
    picking = (message.response_payload or {}).get("picking") or {}
    assert isinstance(picking, dict) and picking  # B's cut, under the NF-e's message
