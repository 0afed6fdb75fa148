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
    assert link.captured_amount == shopify_total  # the Pix paid at checkout: the Orders page's "Paid"
    assert message.request_payload["nro_empresa"] == 1
    assert {line["sku"] for line in message.request_payload["lines"]} == {world.sku(0), world.sku(1)}
    assert str(link.nro_pedvenda) in message.search_text and gid.rsplit("/", 1)[-1] in message.search_text


def test_erp_lines_match_shopifys_discount_allocation_per_line(world):
    """A BEMVINDO10 order through the sandbox checkout: each ERP item is worth what Shopify's
    discountAllocations leave of its line, to the cent (not a split rebuilt from rounded prices)."""
    gid = world.place(
        [(world.sku(0), 7), (world.sku(1), 12), (world.sku(2), 3)],
        gateway="pix",
        discount_code="BEMVINDO10",
        discount_percent=10.0,
    )
    world.drain()
    message = world.message(gid)
    assert message is not None and message.status == MessageStatus.DONE.value, message and message.error_text
    shopify = []
    for line in world.order_doc(gid)["_lines"]:
        price = Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"])
        allocations = line["discountAllocations"]
        allocated = sum(Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in allocations)
        assert allocated > 0  # the code is allocated to every line, as Shopify does
        shopify.append(price * line["currentQuantity"] - allocated)
    items = world.chain.order(world.link(gid).nro_pedvenda)["itens"]
    assert [Decimal(str(item["vlrTotalPedido"])) for item in items] == shopify
