"""The shop's sales channel setting (seq_canal_venda) changed while an order was in flight: its ERP
events, which carry the channel it was posted under and its Shopify order id, were skipped as "not
linked to any Shopify order" though the link is found by that id, for good (a skipped message has
no Retry, the event seen). An event whose channel id names the linked order is now that order's."""

from __future__ import annotations

from ledger.db import session_scope
from ledger.models import MessageStatus, Shop


def test_an_in_flight_orders_invoice_is_applied_after_the_sales_channel_setting_changed(world) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")  # posted under channel 7
    with session_scope() as session:  # the merchant corrects the sales channel in Settings
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "seq_canal_venda": 8}
    world.erp.invoice(order.nro)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(order.gid).nfe
