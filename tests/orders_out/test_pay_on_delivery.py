"""Invoicing an order paid at the door (a manual method the shop lists in its setting
pay_on_delivery_gateways): nothing is captured for what the driver collects, nothing is flagged for
a person because Shopify still shows it unpaid, the message says it is collected at delivery, and
the order is not marked paid by the app (the store collects the money and marks it)."""

from __future__ import annotations

from decimal import Decimal

from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from sandbox.shopify import order_store

from .conftest import World

COD = "Cash on Delivery (COD)"


def _pay_on_delivery(world: World, *names: str) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "pay_on_delivery_gateways": list(names)}


def test_a_cod_order_is_invoiced_and_fulfilled_capturing_and_flagging_nothing(world: World) -> None:
    _pay_on_delivery(world, "cash on delivery (cod)")
    order = world.linked_order([(world.plain(0), 2)], gateway="cod")
    invoiced, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    done = message.response_payload
    assert "needs_attention" not in done
    assert f"{invoiced} of the NF-e is collected at delivery ({COD}" in done["capture"]
    after = world.settlement(order.gid)
    assert after.paid == 0 and after.financial_status == "PENDING"  # not marked paid by the app
    assert after.fulfillments and after.nfe["chave"]
    link = world.link(order.gid)
    assert link.needs_attention is None and link.captured_amount is None


def test_a_gift_card_and_cod_order_leaves_the_rest_to_the_driver(world: World) -> None:
    """A gift card paid R$ 5.00 online: the NF-e's rest is collected at delivery, not flagged as an
    NF-e above what the customer paid."""
    _pay_on_delivery(world, COD)
    order = world.linked_order([(world.plain(1), 1)], gateway="cod")
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        total = Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
        pending = next(t for t in doc["_transactions"] if t["kind"] == "SALE")
        pending["amountSet"] = order_store.bag(total - Decimal("5.00"))
        doc["_transactions"].insert(
            0, order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", Decimal("5.00"))
        )
        order_store.save(ctx, doc, touch=True)
    invoiced, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "needs_attention" not in message.response_payload
    assert (
        f"{invoiced - Decimal('5.00')} of the NF-e is collected at delivery"
        in message.response_payload["capture"]
    )
    assert world.link(order.gid).needs_attention is None
    assert world.settlement(order.gid).paid == Decimal("5.00")
