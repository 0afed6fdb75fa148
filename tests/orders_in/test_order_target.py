"""Which ERP company an order goes to, and what it waits for when none can be told."""

from __future__ import annotations

import copy

import pytest

from jobs.order_catch_up import mapping_now_exists
from jobs.order_lookup import resolve_target
from ledger import mappings
from ledger.db import get_sessionmaker, session_scope
from ledger.errors import MappingMissing
from ledger.models import Shop, StoreLink

LOCATION = "gid://shopify/Location/7"
SETTINGS = {"seq_canal_venda": 7, "cod_geral_oper": 207, "payment_confirmation": "paid"}


def _waits_for(session, shop_id: int, location_ids: list[str]) -> dict:
    with pytest.raises(MappingMissing) as caught:
        resolve_target(session, shop_id, SETTINGS, location_ids)
    return {"mapping": {"kind": caught.value.kind, "code": caught.value.code}}


def test_with_no_store_link_an_order_waits_for_its_locations_mapping_and_goes_once_it_exists(
    sqlite_database_url,
):
    """A shop that sells per location (no store link): an order from an unmapped location waits
    for that location's mapping (which resumes it), not for a store link nobody will set."""
    session = get_sessionmaker(sqlite_database_url)()
    shop = Shop(domain="mercado-bom.myshopify.com")
    session.add(shop)
    session.commit()
    parked = _waits_for(session, shop.id, [LOCATION])
    assert parked == {"mapping": {"kind": "location", "code": LOCATION}}
    assert not mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert _waits_for(session, shop.id, []) == {"mapping": {"kind": "store_link", "code": shop.domain}}

    mappings.set_location_mapping(session, shop.id, 1, LOCATION)
    session.commit()
    assert mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert resolve_target(session, shop.id, SETTINGS, [LOCATION]).nro_empresa == 1


def test_a_store_link_also_ends_the_wait_for_an_unmapped_location(sqlite_database_url):
    session = get_sessionmaker(sqlite_database_url)()
    shop = Shop(domain="mercado-dois.myshopify.com")
    session.add(shop)
    session.commit()
    parked = _waits_for(session, shop.id, [LOCATION])
    session.add(StoreLink(shop_id=shop.id, nro_empresa=3, nro_segmento=2))
    session.commit()
    assert mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert resolve_target(session, shop.id, SETTINGS, [LOCATION]).nro_empresa == 3


def _ship_second_line_from(world, gid: str, location_id: str) -> None:
    """What Shopify shows once the order's second line is moved to `location_id` (Change location
    in the admin): it leaves its fulfillment order for one there; one left empty is CLOSED."""
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


def test_an_order_shipping_from_two_companies_is_refused_naming_each_holding_its_stock(world):
    """Line 1 ships from company 1's location, line 2 from a location mapped to company 2. One
    PedidoVenda belongs to one company: posting the whole order to company 1 would reserve, pick
    and invoice company 2's goods at the wrong store. It fails as MULTI_COMPANY naming each company
    and its lines and saying to move the fulfillment orders to one location, then Retry; meanwhile
    each line holds its stock at its own company. Moved to one location, Retry sends it."""
    from jobs import orders, stock_pending
    from jobs.stock_map import SkuUnit, pending_base_by_product
    from ledger.models import MessageStatus
    from shopify_app.admin_api import for_shop
    from shopify_app.api_explain import explain

    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.shop.location_id)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)
    first, second = world.sku(0), world.sku(1)
    gid = world.place([(first, 1), (second, 2)])
    _ship_second_line_from(world, gid, other)
    world.drain()
    message = world.message(gid)
    assert (message.status, message.error_detail["code"]) == (MessageStatus.FAILED.value, "MULTI_COMPANY")
    assert world.erp_orders_for(gid) == []
    named = message.error_detail["companies"]
    assert [(c["nro_empresa"], [line["sku"] for line in c["lines"]]) for c in named] == [
        (1, [first]),
        (2, [second]),
    ]
    assert f"company 2 (location {other}): {second}" in message.error_text
    # The data only: the instructions are the explanation's, in the page's language.
    assert "Change location" not in message.error_text and "Retry" not in message.error_text
    assert message.error_detail["system"] == "app"
    english, portuguese = explain(message, "en"), explain(message, "pt-BR")
    assert "Change location" in english["what_to_do"] and "Until they are moved" in english["what_to_do"]
    assert portuguese["title"] == "Parado pela integração" and portuguese["system"] == "app"
    pending = pending_base_by_product(stock_pending.pending_payloads(world.shop_id), {})
    seq = {sku: SkuUnit.from_binding(sku, None).seq_produto for sku in (first, second)}
    assert pending.get((1, seq[first])) == 1 and pending.get((2, seq[second])) == 2
    assert pending.get((1, seq[second])) is None

    _ship_second_line_from(world, gid, world.shop.location_id)  # the merchant moves it back
    assert orders.replay(message.id) == "done"  # Retry
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert (erp_order["nroempresa"], sorted(i["idSku"] for i in items)) == (1, sorted([first, second]))


def _split_second_line_with(world, gid: str, location_id: str) -> None:
    """Shopify's routing splits a line when one location lacks stock: the second line's 2 units
    ship 1 from the store's location and 1 from `location_id` (two fulfillment order lines)."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        [(_fo, item)] = order_store.fulfillment_order_lines_for(order, order["_lines"][1]["id"])
        item["totalQuantity"] = item["remainingQuantity"] = 1
        moved = copy.deepcopy(item)
        moved["id"] = order_store.new_id(ctx, "FulfillmentOrderLineItem")
        order_store.fulfillment_order_at(ctx, order, location_id)["_lineItems"].append(moved)
        order_store.save(ctx, order, touch=True)


def test_a_line_split_across_two_companies_holds_each_companys_units_there(world):
    """One line can ship from two locations (Shopify's routing splits it when one lacks stock): 2
    units, 1 from company 1's location and 1 from company 2's. While the order is refused as
    MULTI_COMPANY its stock is held one line per company with that company's units; holding both at
    the first company would hold it one short at company 2 (an oversell) and one too many at 1."""
    from jobs import stock_pending
    from jobs.stock_map import SkuUnit, pending_base_by_product
    from shopify_app.admin_api import for_shop

    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.shop.location_id)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)
    first, second = world.sku(0), world.sku(1)
    gid = world.place([(first, 1), (second, 2)])
    _split_second_line_with(world, gid, other)
    world.drain()
    message = world.message(gid)
    assert message.error_detail["code"] == "MULTI_COMPANY", message.error_text
    assert [line for line in message.request_payload["lines"] if line["sku"] == second] == [
        {"sku": second, "quantity": 1, "nro_empresa": 1},
        {"sku": second, "quantity": 1, "nro_empresa": 2},
    ]
    pending = pending_base_by_product(stock_pending.pending_payloads(world.shop_id), {})
    seq = {sku: SkuUnit.from_binding(sku, None).seq_produto for sku in (first, second)}
    assert pending.get((1, seq[first])) == 1
    assert (pending.get((1, seq[second])), pending.get((2, seq[second]))) == (1, 1)


def test_an_order_the_erp_refused_and_then_split_across_companies_is_refused_on_its_retry(world, monkeypatch):
    """The ERP refused the order's only POST (422: nothing is in the ERP; its link exists), and the
    order then ships from two companies' locations: its retry maps it afresh, so the one-company
    rule applies as to any new order instead of posting it whole to the first company."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected
    from jobs import orders
    from ledger.models import MessageStatus
    from shopify_app.admin_api import for_shop

    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.shop.location_id)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)
    real = ErpClient.insert_order

    def refused(self, order):
        raise ErpRejected("produto inativo", codigo="PRODUTO_INATIVO", status=422)

    monkeypatch.setattr(ErpClient, "insert_order", refused)
    gid = world.place([(world.sku(0), 1), (world.sku(1), 2)])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value and world.link(gid) is not None
    monkeypatch.setattr(ErpClient, "insert_order", real)
    _ship_second_line_from(world, gid, other)
    orders.replay(message.id)
    assert world.message(gid).error_detail["code"] == "MULTI_COMPANY"
    assert world.erp_orders_for(gid) == []
