"""The order was imported with its fulfillment order at ERP company 1's location (the ERP order is
company 1's, picked and invoiced from that store); then a person moved the fulfillment order in
Shopify to store B's location (Change location; store B is ERP company 2). Company 1 invoices: the
goods left company 1's store, so the app does not fulfil them from store B (that would take them off
B's stock, which no ERP change of company 2 corrects): it names them for a person. Moved back, a
Replay of the NF-e's message fulfils them and clears the note."""

from __future__ import annotations

from jobs import invoices
from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus
from orders_out.conftest import World
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context
from shopify_app.admin_api import for_shop


def _move_fulfillment_orders(world: World, gid: str, location_id: str) -> None:
    """What fulfillmentOrderMove (Shopify admin: Change location) leaves on the order."""
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        for fo in order["_fulfillmentOrders"]:
            fo["_locationId"] = location_id
            fo["assignedLocation"]["_locationId"] = location_id
        order_store.save(ctx, order)


def test_a_fulfillment_order_moved_to_another_stores_location_is_named_not_fulfilled_there(
    world: World,
) -> None:
    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.location_id)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)  # store B = ERP company 2
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    _move_fulfillment_orders(world, order.gid, other)

    total, message = world.invoice(order)  # ERP company 1 invoices it

    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.order_doc(order.gid).get("_fulfillments", []) == []
    note = world.link(order.gid).needs_attention or ""
    assert "invoiced by ERP company 1, but fulfillment order(s)" in note, note
    assert "are at the location of ERP company 2 (moved in Shopify after the import)" in note, note
    assert world.settlement(order.gid).paid == total  # the money of the NF-e is taken all the same

    _move_fulfillment_orders(world, order.gid, world.location_id)  # moved back
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    [made] = world.order_doc(order.gid)["_fulfillments"]
    assert made["_locationId"] == world.location_id
    assert world.link(order.gid).needs_attention is None


def test_a_fulfillment_order_at_an_unmapped_location_is_fulfilled_as_before(world: World) -> None:
    """A location no ERP company is mapped to (a warehouse, a pickup point) says nothing of another store."""
    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.location_id)
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    _move_fulfillment_orders(world, order.gid, other)

    _total, message = world.invoice(order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    assert len(world.order_doc(order.gid)["_fulfillments"]) == 1
