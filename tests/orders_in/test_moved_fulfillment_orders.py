"""An order whose fulfillment orders were moved between locations many times: Shopify closes the
one moved from and opens one at the destination each time, listed oldest first, so the open one
can come after the fifth. The import reads all of them: the company is the open one's."""

from __future__ import annotations

from ledger import mappings
from ledger.db import session_scope

MOVES = 5  # six fulfillment orders: five CLOSED, the open one last


def _move_to(world, gid: str, location_id: str) -> None:
    """What Shopify shows after the order's open fulfillment order is moved to `location_id` once
    some progress kept it from moving whole: the one moved from is CLOSED, a new OPEN one at the
    destination holds its lines (created after it: Shopify lists them oldest first)."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        [current] = [fo for fo in order["_fulfillmentOrders"] if fo["status"] in ("OPEN", "IN_PROGRESS")]
        moved, current["_lineItems"] = current["_lineItems"], []
        current["status"] = "CLOSED"
        order_store.fulfillment_order_at(ctx, order, location_id)["_lineItems"].extend(moved)
        for line in order["_lines"]:
            line["_locationId"] = location_id
        order_store.save(ctx, order, touch=True)


def _moved_back_and_forth(world, gid: str, home: str, other: str) -> None:
    for move in range(MOVES):
        _move_to(world, gid, other if move % 2 == 0 else home)


def _other_location(world) -> str:
    from shopify_app.admin_api import for_shop

    return next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.shop.location_id)


def test_the_read_for_the_erp_has_every_fulfillment_order_the_open_one_after_the_fifth(world):
    """The read the edits and the delivery address use (no second read of the fulfillment orders):
    all six come back, and the order ships from the open one's location."""
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.order_import_ops import read_order_for_erp

    other = _other_location(world)
    gid = world.place([(world.sku(0), 1)])
    _moved_back_and_forth(world, gid, world.shop.location_id, other)
    read = read_order_for_erp(for_shop(world.domain), gid)
    statuses = [fo.status for fo in read.order.fulfillment_orders]
    assert statuses == ["CLOSED"] * MOVES + ["OPEN"]
    assert [fo.location_id for fo in read.live_fulfillment_orders] == [other]
    assert read.location_ids[0] == other and not read.ships_from_several_locations


def test_an_order_moved_many_times_goes_to_the_company_of_its_open_fulfillment_order(world):
    other = _other_location(world)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)
    gid = world.place([(world.sku(0), 1), (world.sku(1), 1)])
    _moved_back_and_forth(world, gid, world.shop.location_id, other)
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nroempresa"] == 2, world.message(gid).error_text


def test_an_order_moved_to_an_unmapped_location_goes_to_the_store_links_company(world):
    """The store is linked to company 2, its location A mapped to company 1; the order is moved from
    A to location B, which no company is mapped to: it ships for the store link's company, as any
    order from an unmapped location does. The CLOSED fulfillment order left at A gave it company 1:
    picked, reserved and invoiced at the store it was moved away from, nobody told."""
    from ledger.models import StoreLink

    with session_scope() as session:
        session.query(StoreLink).filter(StoreLink.shop_id == world.shop_id).update({"nro_empresa": 2})
    other = _other_location(world)
    gid = world.place([(world.sku(0), 1)])
    _move_to(world, gid, other)
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nroempresa"] == 2
