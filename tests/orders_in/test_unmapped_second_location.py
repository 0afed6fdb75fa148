"""A line Shopify routes to a location mapped to no ERP company, beside lines shipping from a
mapped one: it is not posted with them to the mapped location's company, which would reserve,
pick and invoice goods Shopify fulfils elsewhere (a cut at picking, then a refund). A location
mapped to none ships for the store link's company, as an order from it alone would; with no store
link the order waits for that location's mapping, naming it, and goes once it is mapped."""

from __future__ import annotations

from jobs import orders, stock_pending
from jobs.order_catch_up import mapping_now_exists
from jobs.stock_map import SkuUnit, pending_base_by_product
from ledger import mappings, shop_settings
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop, StoreLink
from ledger.trace import FAIL
from shopify_app.admin_api import for_shop


def _ship_second_line_from(world, gid: str, location_id: str) -> None:
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        second = order["_lines"][1]
        moved = []
        for fo in order["_fulfillmentOrders"]:
            moved += [item for item in fo["_lineItems"] if item["_lineItemId"] == second["id"]]
            fo["_lineItems"] = [item for item in fo["_lineItems"] if item["_lineItemId"] != second["id"]]
        order_store.fulfillment_order_at(ctx, order, location_id)["_lineItems"].extend(moved)
        for fo in order["_fulfillmentOrders"]:
            fo["status"] = fo["status"] if fo["_lineItems"] else "CLOSED"
        second["_locationId"] = location_id
        order_store.save(ctx, order, touch=True)


def _other_location(world):
    return next(loc for loc in for_shop(world.domain).locations() if loc.id != world.shop.location_id)


def test_with_no_store_link_a_line_from_an_unmapped_location_waits_for_its_mapping(world):
    with session_scope() as session:  # sells per location: no store link
        session.query(StoreLink).filter(StoreLink.shop_id == world.shop_id).delete()
    other = _other_location(world)
    first, second = world.sku(0), world.sku(1)
    gid = world.place([(first, 1), (second, 2)])
    _ship_second_line_from(world, gid, other.id)
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value, (message.status, message.error_text)
    assert message.error_detail["mapping"] == {"kind": "location", "code": other.id}
    assert other.id in message.error_text
    assert message.error_detail[FAIL]["key"] == "location_unmapped"
    assert message.error_detail[FAIL]["params"]["location"] in (other.name, other.id)
    # Meanwhile the first line holds its stock at company 1; the second at no company, not at 1.
    pending = pending_base_by_product(stock_pending.pending_payloads(world.shop_id), {})
    seq = {sku: SkuUnit.from_binding(sku, None).seq_produto for sku in (first, second)}
    assert pending.get((1, seq[first])) == 1 and pending.get((1, seq[second])) is None

    # The merchant maps the location to its company (one location per company): the catch-up finds
    # the mapping and resumes the order, which now ships from two companies and is refused as such.
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other.id)
        settings = shop_settings.effective_of(session.get(Shop, world.shop_id).settings)
        assert mapping_now_exists(session, world.shop_id, settings, message.error_detail)
    orders.replay(message.id)
    message = world.message(gid)
    assert message.error_detail["code"] == "MULTI_COMPANY", message.error_text
    assert [c["nro_empresa"] for c in message.error_detail["companies"]] == [1, 2]
    assert world.erp_orders_for(gid) == []


def test_a_line_from_an_unmapped_location_ships_for_the_store_links_company(world):
    """The store is linked to company 2, the store's own location mapped to company 1: a line from
    an unmapped location is company 2's, so the order ships from two companies (MULTI_COMPANY)."""
    with session_scope() as session:
        session.query(StoreLink).filter(StoreLink.shop_id == world.shop_id).update({"nro_empresa": 2})
    other = _other_location(world)
    first, second = world.sku(0), world.sku(1)
    gid = world.place([(first, 1), (second, 2)])
    _ship_second_line_from(world, gid, other.id)
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.error_detail["code"] == "MULTI_COMPANY", message.error_text
    named = message.error_detail["companies"]
    assert [(c["nro_empresa"], c["location_id"], [line["sku"] for line in c["lines"]]) for c in named] == [
        (1, world.shop.location_id, [first]),
        (2, other.id, [second]),
    ]
    pending = pending_base_by_product(stock_pending.pending_payloads(world.shop_id), {})
    seq = {sku: SkuUnit.from_binding(sku, None).seq_produto for sku in (first, second)}
    assert (pending.get((1, seq[first])), pending.get((2, seq[second]))) == (1, 2)
    assert pending.get((1, seq[second])) is None


def test_a_line_from_an_unmapped_location_goes_with_the_others_when_the_store_is_linked_to_their_company(
    world,
):
    other = _other_location(world)
    first, second = world.sku(0), world.sku(1)
    gid = world.place([(first, 1), (second, 2)])
    _ship_second_line_from(world, gid, other.id)
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert (erp_order["nroempresa"], sorted(i["idSku"] for i in items)) == (1, sorted([first, second]))
