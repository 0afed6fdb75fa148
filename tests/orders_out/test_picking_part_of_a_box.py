"""A SKU sold by the box (P<seq>E6) served in part of a box at picking (1,5 of 2 boxes: the ERP's
quantities count packagings). Shopify sells whole units, so its line keeps the boxes rounded up
and a fixed discount takes off the part not served, as a lighter weighed line: Shopify's total is
the NF-e's, the echo of that edit is the ERP's own (not flagged as the merchant's), and the
invoice captures the NF-e's total."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from jobs.invoice_lines import invoiced_units
from jobs.order_edits import to_erp
from jobs.order_edits.to_shopify import plan_changes
from ledger.models import MessageStatus
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine
from shopify_app.admin_api.results import Money
from tests.orders_out.conftest import LinkedOrder, World
from tests.orders_out.test_pure_rules import VARIANTS, event, line, shopify_line


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
    _, order = _served_in_part(world, 2, 1.5, gateway="pix")
    result = to_erp.apply_edit(world.shop_id, order.gid, "echo-1")  # Shopify's orders/edited of that edit
    assert result == "skipped", (result, world.link(order.gid).needs_attention)


def test_part_of_a_box_invoice_captures_the_nfe(world: World) -> None:
    _, order = _served_in_part(world, 2, 1.5, gateway="cartao", capture="manual")
    nfe, message = world.invoice(order)
    link = world.link(order.gid)
    assert world.settlement(order.gid).paid == nfe, (message.status, message.error_text, link.needs_attention)
    assert not link.needs_attention, link.needs_attention


# ---------------------------------------------------------------- the plan, pure


def _priced(sku: str, quantity: int, suffix: str = "") -> ShopifyLine:
    return dataclasses.replace(
        shopify_line(sku, quantity), id=f"gid://shopify/LineItem/{sku}{suffix}",
        original_unit_price=Money(Decimal("10.00"), "BRL"),
    )  # fmt: skip


def test_a_part_served_plans_its_units_rounded_up_and_the_part_off() -> None:
    [change] = plan_changes(event(line(1, "A", "2", "1.5")), [_priced("A", 2)], VARIANTS)
    assert (change.kind, change.shopify_quantity, change.discount_per_unit) == ("cut", 2, Decimal("2.50"))
    assert (
        change.discount_total == Decimal("5.00")
        and change.discount_description == "Atendido em parte: 1,5 de 2"
    )
    assert change.words[1][0][0] == "line_part_served"


def test_a_part_served_its_units_do_not_divide_is_split() -> None:
    [change] = plan_changes(event(line(1, "A", "3", "2.5")), [_priced("A", 3)], VARIANTS)
    assert change.splits and change.weighed_units == 3 and change.shopify_quantity == 2
    assert change.discount_per_unit * 2 + change.split_discount == Decimal("5.00")


def test_the_units_of_a_part_served_are_fulfilled_whole() -> None:
    assert invoiced_units([line(1, "A", "2", "1.5")]) == {"A": 2}


def test_picked_counts_a_part_served_as_shopify_holds_it() -> None:
    assert to_erp.picked(line(1, "A", "2", "1.5"))[0] == 2


def test_a_weighed_line_cut_takes_its_splits_unit_along() -> None:
    own, alone = _priced("K", 2), _priced("K", 1, "-alone")
    adjustment = "Ajuste de peso: 3,000 kg → 2,900 kg"
    carried = {own.id: [adjustment], alone.id: [adjustment]}
    [change] = plan_changes(event(line(1, "K", "3", "0", weighed=True)), [own, alone], VARIANTS, carried)
    assert (change.line_item_id, change.split_lines, change.shopify_quantity) == (own.id, (alone.id,), 0)
