"""A SKU sold by the box (P<seq>E6) served in part of a box at picking (1,5 of 2 boxes: the ERP's
quantities count packagings). Shopify sells whole units, so its line keeps the boxes rounded up
and a fixed discount takes off the part not served, as a lighter weighed line: Shopify's total is
the NF-e's, the echo of that edit is the ERP's own (not flagged as the merchant's), and the
invoice captures the NF-e's total."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import MessageStatus
from tests.orders_out.conftest import LinkedOrder, World


def _box(world: World) -> str:
    box = next(s for s in world.chain.skus if not s.weighed and s.qtd_embalagem > 1)
    world.publish(box)
    return box.id_sku


def _served_in_part(world: World, ordered: int, served: float, **order: str) -> tuple[str, LinkedOrder]:
    box = _box(world)
    placed = world.linked_order([(box, ordered), (world.plain(0), 1)], **order)
    world.erp.separate(placed.nro, cuts={str(placed.lines[box]): served}, weights={})
    world.poll()
    [picking] = world.messages("order_edits", placed)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    return box, placed


def _lines(world: World, gid: str) -> list[dict]:
    return world.order_doc(gid)["_lines"]


def _total(world: World, gid: str) -> Decimal:
    return Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])


def test_part_of_a_box_served_keeps_its_boxes_with_the_part_off(world: World) -> None:
    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    lines = world.order_doc(order.gid)["_lines"]
    assert sum(line["currentQuantity"] for line in lines if line["sku"] == box) == 2  # not floor(1,5) = 1 box
    assert _total(world, order.gid) == Decimal(str(document["vlrTotal"]))
    [change] = [c for c in world.line_changes(order.gid) if c.sku == box]
    assert change.applied and "1.5 of 2" in change.reason, change.reason
    assert "Atendido em parte: 1,5 de 2" in change.reason, change.reason
    assert change.reason_words[0]["key"] == "line_part_served", change.reason_words


def test_part_of_a_box_its_units_do_not_divide_is_split(world: World) -> None:
    box, order = _served_in_part(world, 3, 2.5, gateway="pix")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    lines = sorted(line["currentQuantity"] for line in _lines(world, order.gid) if line["sku"] == box)
    assert _total(world, order.gid) == Decimal(str(document["vlrTotal"])), lines
    assert lines == [1, 2], lines  # 2834 cents off 3 boxes: one on a line of its own


def test_the_echo_of_a_part_of_a_box_cut_is_not_the_merchants_edit(world: World) -> None:
    from jobs.order_edits import to_erp

    _, order = _served_in_part(world, 2, 1.5, gateway="pix")
    result = to_erp.apply_edit(world.shop_id, order.gid, "echo-1")  # Shopify's orders/edited of that edit
    assert result == "skipped", (result, world.link(order.gid).needs_attention)


def test_part_of_a_box_invoice_captures_the_nfe(world: World) -> None:
    _, order = _served_in_part(world, 2, 1.5, gateway="cartao", capture="manual")
    nfe, message = world.invoice(order)
    link = world.link(order.gid)
    assert world.settlement(order.gid).paid == nfe, (message.status, message.error_text, link.needs_attention)
    assert not link.needs_attention, link.needs_attention
