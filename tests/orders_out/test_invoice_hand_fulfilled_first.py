"""A person ships an NF-e's goods and fulfils them by hand in Shopify before the poll reads that
NF-e's F event; the NF-e is not the order's last, and its event lists the ERP order's lines as they
stand. The goods left to fulfil fitting in its money said nothing of what it carries (the units
fulfilled by hand were what it paid for): it fulfilled another line no NF-e carried yet, with its
own tracking, telling the customer so. It is now tested against every unit its event lists."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop
from tests.orders_out.test_invoice_documents import _another_nfe, _first_part_in_the_erp


def test_a_non_final_nfe_whose_goods_a_person_fulfilled_leaves_the_other_lines_to_their_own_nfe(
    world,
) -> None:
    order, items, _part_a = _first_part_in_the_erp(world)
    world.rewrite_event(order.nro, "F", lambda d: d.update(itens=[dict(i) for i in items.values()]))
    a, b = world.plain(0), world.plain(1)
    client = for_shop(world.domain)
    shop_order = client.order(order.gid, with_fulfillment_orders=True)
    line_a = next(line.id for line in shop_order.lines if line.variant_id == world.variants[a])
    line_b = next(line.id for line in shop_order.lines if line.variant_id == world.variants[b])
    [fo] = shop_order.fulfillment_orders
    fo_line_a = next(x.id for x in fo.lines if x.line_item_id == line_a)
    client.fulfillment_create(  # the person ships item a, what NF-e 1 carries
        {fo.id: [{"id": fo_line_a, "quantity": 2}]},
        tracking={"company": "Correios", "number": "HAND1BR", "url": None},
    )
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text

    def left_of_b() -> int:
        after = client.order(order.gid, with_fulfillment_orders=True)
        return sum(
            x.remaining_quantity
            for f in after.fulfillment_orders
            for x in f.lines
            if x.line_item_id == line_b
        )

    assert left_of_b() == 1  # on no NF-e yet: not fulfilled by NF-e 1
    _another_nfe(world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]])
    world.poll()
    assert left_of_b() == 0  # its own NF-e fulfils it
    assert all(m.status == MessageStatus.DONE.value for m in world.messages("invoices", order))
