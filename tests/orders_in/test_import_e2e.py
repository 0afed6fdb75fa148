"""Orders in, end to end: checkout in the Shopify sandbox -> signed webhooks -> the app's inbox ->
RQ -> jobs.orders -> PedidoVenda in the Consinco sandbox."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import MessageStatus


def test_paid_order_lands_once_in_the_erp_with_shopify_total(world):
    gid = world.place(gateway="pix", discount_code="BEMVINDO10", discount_percent=10.0)
    world.drain()
    message = world.message(gid)
    assert message is not None and message.status == MessageStatus.DONE.value, message and message.error_text
    [erp_order] = world.erp_orders_for(gid)
    link = world.link(gid)
    assert link.nro_pedvenda == erp_order["nropedvenda"]
    read = world.chain.order(link.nro_pedvenda)
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(read["vlrTotalPedido"])) == shopify_total
    assert message.request_payload["nro_empresa"] == 1
    assert {line["sku"] for line in message.request_payload["lines"]} == {world.sku(0), world.sku(1)}
    assert str(link.nro_pedvenda) in message.search_text and gid.rsplit("/", 1)[-1] in message.search_text
