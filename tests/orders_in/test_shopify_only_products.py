"""A product made in Shopify (a bag, gift wrap: no ERP product behind it, its SKU no ERP idSku
P{seq}E{qtd}) parks the order. No catalog sync will ever bind it, so the park must not say the
order "resumes once the catalog sync binds it": it names the product and its SKU and says what
resumes it, an order edit that replaces or removes the line, which does resume it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.api_explain import explain

from .conftest import create_variant


def test_a_product_made_in_shopify_parks_saying_to_edit_the_order_and_the_edit_resumes_it(world) -> None:
    bag = SimpleNamespace(id_sku="SACOLA-01", unit="UN", description="Sacola retornável")
    bag_variant = create_variant(for_shop(world.domain), bag, Decimal("0.50"))
    gid = world.place([(world.sku(0), 1), ("SACOLA-01", 1)])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    text = message.error_text
    assert "'Sacola retornável - UN' (SKU SACOLA-01) was made in Shopify" in text, text
    assert "order edit" in text and "catalog sync binds it" not in text, text
    shown = explain(message, "en")
    assert "made in Shopify" in shown["what_happened"] and "order edit" in shown["what_to_do"], shown
    assert "catalog sync publishes" not in shown["what_to_do"], shown

    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(bag_variant)
    order_edit_discounts.set_quantity(client.executor, edit.calculated_order_id, line.id, 0)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert [i["idSku"] for i in items] == [world.sku(0)]
