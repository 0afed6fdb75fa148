"""The app's own weight adjustment by a split (the kept line cut n -> n-1 and a per-unit discount
in the same edit) on an order with a checkout code: the order's lines as jobs.order_map maps them
afterwards (what the Shopify -> ERP edit echo compares with the ERP) are each exactly Shopify's
current value for the line (priceAfterAllDiscountsBeforeTaxesSet), so no untouched line is re-priced."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_map
from jobs.order_lookup import variants_for
from ledger.db import session_scope
from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_import_ops import read_order_for_erp
from tests.orders_out.test_weighed_discount import _uneven_weight


def test_a_weight_split_maps_every_line_at_shopifys_value(world) -> None:
    weighed_sku, plain_sku = world.weighed(), world.plain(0)
    order = world.linked_order(
        [(weighed_sku, 3), (plain_sku, 2)],
        gateway="cartao",
        capture="manual",
        discount_code="PESO10",
        discount_percent=10.0,
    )
    kg, _ = _uneven_weight(world.chain.prices[weighed_sku], 3)
    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): float(kg)})
    assert world.poll()["enqueued"] == 1
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    shop: dict[str, Decimal] = {}
    for line in world.order_doc(order.gid)["_lines"]:
        if line["currentQuantity"]:
            value = Decimal(line["priceAfterAllDiscountsBeforeTaxesSet"]["shopMoney"]["amount"])
            shop[line["sku"]] = shop.get(line["sku"], Decimal(0)) + value
    read = read_order_for_erp(for_shop(world.domain), order.gid)
    with session_scope() as session:
        mapped = order_map.map_lines(read, variants_for(session, world.shop_id, read.order.lines))
    ours: dict[str, Decimal] = {}
    for line in mapped:
        ours[line.id_sku] = ours.get(line.id_sku, Decimal(0)) + line.net
    assert ours == shop
