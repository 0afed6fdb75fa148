"""The shop's sales channel setting (seq_canal_venda) changed while an order was in flight: its ERP
events, which carry the channel it was posted under and its Shopify order id, were skipped as "not
linked to any Shopify order" though the link is found by that id, for good (a skipped message has
no Retry, the event seen). The event's channel is now compared with the one the order was posted
under (its orders message's kept input), the shop's setting only when none is kept."""

from __future__ import annotations

from jobs import order_posted
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import MessageStatus, Shop


def test_an_in_flight_orders_invoice_is_applied_after_the_sales_channel_setting_changed(world) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")  # posted under channel 7
    num = order.gid.rsplit("/", 1)[-1]
    with session_scope() as session:  # the import's message keeps the input it posted
        posted = {order_posted.KEY: {"seq_canal_venda": 7, "channel_order_id": order.gid}}
        message = trace.begin(
            session, world.shop_id, "orders", f"order:{num}", SHOPIFY_TO_ERP, request=posted
        )
        trace.succeed(session, message, erp_id=str(order.nro))
    with session_scope() as session:  # the merchant corrects the sales channel in Settings
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "seq_canal_venda": 8}
    world.erp.invoice(order.nro)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(order.gid).nfe
