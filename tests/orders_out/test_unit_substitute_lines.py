"""A substitute sold by the unit, of a product no ERP line of the order has, is added on a line of its
own on the picking's first attempt, whatever lines of that product Shopify's order shows: one a
person removed before the ERP had the order (0 units: Shopify edits no line at 0, and setting it
failed the whole picking, the invoice held behind it), or one a person added after the ERP picked
(their units are theirs: set to the substitute's, one of them was taken off silently). The same
separation reported again finds the substitute on its own line (not a line of the person's) and
sends nothing: in Shopify already (jobs.order_edits.repeats.applied_alike)."""

from __future__ import annotations

import copy

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop

from .conftest import LinkedOrder, World, set_quantity
from .test_picking_reported_twice import _emit_again


def _ean(world: World, sku: str) -> str:
    return next(s.ean for s in world.chain.skus if s.id_sku == sku)


def _lines(world: World, order: LinkedOrder) -> list[tuple[str, int]]:
    return [(line["sku"], line["currentQuantity"]) for line in world.order_doc(order.gid)["_lines"]]


def _reported_again_changes_nothing(world: World, order: LinkedOrder) -> None:
    snapshot = copy.deepcopy(world.order_doc(order.gid)["_lines"])
    _emit_again(world, order, "S")
    world.poll()
    again = world.messages("order_edits", order)[-1]
    assert again.status in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value), again.error_text
    assert world.order_doc(order.gid)["_lines"] == snapshot
    first = world.messages("order_edits", order)[0].unit_key
    rows = [row for row in world.line_changes(order.gid) if not row.change_key.startswith(f"{first}:")]
    assert rows and all("in Shopify already" in (row.reason or "") for row in rows), [r.reason for r in rows]


def test_a_substitute_by_a_product_removed_before_the_erp_had_the_order_is_added(world: World) -> None:
    x, z = world.plain(0), world.plain(1)
    order = world.linked_order(
        [(x, 1), (z, 1)], gateway="cartao", capture="manual",
        before_erp=lambda gid: set_quantity(world, gid, z, 0),  # the customer no longer wants Z
    )  # fmt: skip
    assert set(order.lines) == {x}  # the ERP order holds X only
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[x], "codAcesso": _ean(world, z), "qtd": 1}]
    )
    world.poll()

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    assert _lines(world, order) == [(x, 0), (z, 0), (z, 1)]
    assert all(row.applied for row in world.line_changes(order.gid))
    _reported_again_changes_nothing(world, order)


def test_a_unit_substitute_is_added_beside_a_persons_addition_of_that_product_after_picking(
    world: World,
) -> None:
    """The unit-sold twin of test_weighed_discount's weighed substitute added beside a person's unit."""
    x, y, z = world.plain(0), world.plain(1), world.plain(2)
    order = world.linked_order([(x, 1), (y, 1)], gateway="cartao", capture="manual")
    world.erp.separate(
        order.nro,
        substitutions=[{"seqItem": order.lines[x], "codAcesso": _ean(world, z), "qtd": 1}],
        weights={},
    )
    client = for_shop(world.domain)  # after separation, a person adds 2 of Z in Shopify
    edit = client.order_edit_begin(order.gid)
    client.order_edit_add_variant(
        edit.calculated_order_id, world.variants[z], 2, location_id=world.location_id
    )
    client.order_edit_commit(edit.calculated_order_id)
    world.poll()

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    assert _lines(world, order) == [(x, 0), (y, 1), (z, 2), (z, 1)], (
        "the person's 2 of Z set to the substitute's"
    )
    assert all(row.applied for row in world.line_changes(order.gid))
    _reported_again_changes_nothing(world, order)
