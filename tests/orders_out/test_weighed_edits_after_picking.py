"""Shopify -> ERP edits of a WEIGHED line after the ERP separated the order (its picking in
Shopify): the echo of the picking (ordered units, a weight discount, a split) is skipped, but the
merchant removing the meat, adding kilograms to it, is a change the ERP (picking, then invoicing
and delivering what it separated) no longer takes: flagged for a person, named, as any other line."""

from __future__ import annotations

from decimal import Decimal

from jobs.order_edits import to_erp
from ledger.models import MessageStatus

from .conftest import LinkedOrder, World, set_quantity


def _weighed_picked(world: World, kg: float, units: int = 1) -> tuple[LinkedOrder, str]:
    """A plain line x2 and a weighed line of `units` kg, picked at `kg` and brought to Shopify."""
    plain, weighed = world.plain(0), world.weighed()
    order = world.linked_order([(plain, 2), (weighed, units)], gateway="pix")
    world.erp.separate(order.nro, cuts={}, weights={str(order.lines[weighed]): kg})
    world.poll()
    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    return order, weighed


def test_the_echo_of_a_weighed_picking_is_skipped(world: World) -> None:
    """Lighter (a discount), and lighter on 3 units (a split on two lines): Shopify keeps the
    ordered units, so its orders/edited is the ERP's own picking coming back."""
    for kg, units in ((0.8, 1), (2.85, 3)):
        order, _ = _weighed_picked(world, kg, units)
        assert to_erp.apply_edit(world.shop_id, order.gid, f"echo-{order.nro}") == "skipped"
        assert not world.link(order.gid).needs_attention


def test_the_echo_of_a_weighed_substitute_is_skipped(world: World) -> None:
    """0,3 kg of the weighed item in place of a plain line: Shopify holds its kilograms rounded up
    (1 unit, with the difference off), what `picked` counts for it."""
    original, weighed = world.plain(0), world.weighed()
    order = world.linked_order([(original, 1), (world.plain(1), 1)], gateway="pix")
    ean = next(s.ean for s in world.chain.skus if s.id_sku == weighed)
    substitute = {"seqItem": order.lines[original], "codAcesso": ean, "qtd": 0.3}
    world.erp.separate(order.nro, substitutions=[substitute], weights={})
    world.poll()
    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text

    assert to_erp.apply_edit(world.shop_id, order.gid, "echo") == "skipped"
    set_quantity(world, order.gid, weighed, 0)  # then the merchant takes the substitute off
    assert to_erp.apply_edit(world.shop_id, order.gid, "9003") == "failed"
    assert f"{weighed} 1 -> 0" in (world.link(order.gid).needs_attention or "")


def test_a_weighed_line_removed_after_picking_is_flagged(world: World) -> None:
    order, weighed = _weighed_picked(world, 0.8)
    set_quantity(world, order.gid, weighed, 0)  # the customer no longer wants the meat

    assert to_erp.apply_edit(world.shop_id, order.gid, "9001") == "failed"

    link = world.link(order.gid)
    assert link.needs_attention and f"{weighed} 1 -> 0" in link.needs_attention, link.needs_attention
    [change] = [c for c in world.line_changes(order.gid) if c.change_key == "edit:9001:" + weighed]
    recorded = (change.kind, change.qty_before, change.qty_after, change.applied)
    assert recorded == ("removed", Decimal(1), Decimal(0), False), recorded


def test_a_weighed_line_raised_after_picking_is_flagged(world: World) -> None:
    order, weighed = _weighed_picked(world, 0.8)
    set_quantity(world, order.gid, weighed, 3)  # 2 kg more, after the ERP weighed 0.8 kg

    assert to_erp.apply_edit(world.shop_id, order.gid, "9002") == "failed"

    link = world.link(order.gid)
    assert link.needs_attention and f"{weighed} 1 -> 3" in link.needs_attention, link.needs_attention
