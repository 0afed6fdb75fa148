"""Orders never sent to the ERP: a Shopify test order, and an order placed before the app was
installed on the store (the store handled it without the app: an orders/updated for it, or the
reconciliation finding it with no link, must not make it a new ERP sale)."""

from __future__ import annotations

from datetime import timedelta

from jobs import orders
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context, place_order

from .test_import_rules import rest_event


def change_order(world, gid, change):
    """Change the Shopify sandbox's order document in place (what Shopify shows next)."""
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        change(order)
        order_store.save(ctx, order, touch=True)


def test_a_shopify_test_order_is_skipped_with_its_reason(world):
    gid = world.place(gateway="pix")
    change_order(world, gid, lambda order: order.update(test=True))
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value
    assert "test order" in message.error_text
    assert message.error_detail == {"not_for_erp": True, "skip": {"key": "order_test", "params": {}}}


def test_an_order_placed_before_the_install_is_not_posted_on_orders_updated(world):
    """Installed on a running store: an order placed before, already fulfilled, gets an
    orders/updated (a tag, a fulfilment). It is skipped naming both dates, not posted."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        installed = shop.created_at
    old = (installed - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    change_order(world, gid, lambda order: order.update(createdAt=old, processedAt=old))
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 5)) == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert "before the app was installed" in message.error_text and old[:10] in message.error_text
    # its sale is older than its message: it explains no drop of a level now (jobs.stock_pending)
    said = {"key": "order_before_install", "params": {"installed": f"{installed:%Y-%m-%d %H:%M}"}}
    assert message.error_detail == {"not_for_erp": True, "before_install": True, "skip": said}


def test_an_order_placed_after_the_install_still_goes_on_orders_updated(world):
    """The rule's other side: an order of the app's time whose create/paid were missed goes."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 6)) == "done"
    assert len(world.erp_orders_for(gid)) == 1


def _pos_sale(order):
    """A carry-out sale rung up at the register of a retail location (Shopify POS): paid, handed
    over at the counter (fulfilled), no shipping line, no shipping address."""
    order.update(sourceName="pos", sourceIdentifier="1-1001-1000", shippingAddress=None, _shippingLines=[])
    first = order["_fulfillmentOrders"][0]
    order["retailLocation"] = {"id": first.get("_locationId"), "name": "Loja Centro"}
    for fo in order["_fulfillmentOrders"]:
        fo["status"] = "CLOSED"
        fo["deliveryMethod"] = {**(fo.get("deliveryMethod") or {}), "methodType": "RETAIL"}  # the counter's


def test_a_pos_sale_is_skipped_not_posted_as_an_ecommerce_pedidovenda(world):
    """A POS sale was sold, paid, handed over and its NFC-e issued at the register: a PedidoVenda
    on the e-commerce channel made the ERP reserve, pick and invoice it again (a second fiscal
    document, its stock taken twice). It is skipped for good, saying where it was sold."""
    gid = world.place([(world.sku(0), 1)], gateway="pix", shipping="RETIRADA")
    change_order(world, gid, _pos_sale)
    world.drain()
    assert world.order_doc(gid)["sourceName"] == "pos"
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value, (message.error_text, message.error_detail)
    said = {"key": "order_at_register", "params": {"location": "Loja Centro"}}
    assert message.error_detail == {"not_for_erp": True, "skip": said}
    assert "sold at the register of Loja Centro" in message.error_text, message.error_text
    assert "NFC-e was issued there" in message.error_text


def _gift_card_only(order):
    """A gift card sold alone: the order's only line is a gift card (no goods, nothing to pick)."""
    for line in order["_lines"]:
        line["isGiftCard"] = True
        line["requiresShipping"] = False


def test_an_order_selling_only_a_gift_card_is_skipped_not_failed_for_ever(world):
    """Nothing the ERP sells: it was failed as NO_LINES ("all removed or refunded... cancel the
    order in Shopify"), in the attention queue for ever, telling the merchant to cancel a valid
    sale. It is closed as not for the ERP, with that reason."""
    gid = world.place([(world.sku(0), 1)], gateway="pix")
    change_order(world, gid, _gift_card_only)
    world.drain()
    message = world.message(gid)
    assert world.erp_orders_for(gid) == []
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.error_text)
    assert "sells no goods" in message.error_text
    assert message.error_detail == {"not_for_erp": True, "skip": {"key": "order_no_goods", "params": {}}}


def test_an_order_whose_goods_were_all_removed_is_not_taken_for_one_that_never_had_any():
    """The other side: goods removed by an edit (current quantity 0) were still sold; that order is
    for the ERP (it fails as NO_LINES when mapped), not skipped as selling no goods."""
    from decimal import Decimal

    from jobs.order_kinds import ever_sold_goods, not_for_erp
    from shopify_app.admin_api.order_import_ops import parse_erp_order
    from tests.orders_in.test_order_map import raw_order

    removed = parse_erp_order(raw_order([(Decimal("50.00"), 1, 0, Decimal(0))]))
    assert ever_sold_goods(removed.order) and not_for_erp(removed, None) is None
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))])
    raw["lineItems"]["nodes"][0].update(isGiftCard=True, requiresShipping=False)
    assert "sells no goods" in not_for_erp(parse_erp_order(raw), None)


def test_an_order_history_imported_after_the_install_is_not_a_new_erp_sale(world):
    """A store moving to Shopify imports its order history through the API (orderCreate with
    processedAt in the past; createdAt is the import's time): those sales were handled on the old
    platform. Only createdAt was compared with the install, so each became a new ERP order."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    with session_scope() as session:
        installed = session.get(Shop, world.shop_id).created_at
    old = (installed - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def imported(order):
        order.update(processedAt=old, sourceName="1234567", tags=["imported"])
        for fo in order["_fulfillmentOrders"]:
            fo["status"] = "CLOSED"  # fulfilled long ago on the old platform

    change_order(world, gid, imported)
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value
    assert f"processed {old[:10]}" in message.error_text
    assert "before the app was installed" in message.error_text


def test_the_pos_source_alone_tells_a_register_sale_and_the_web_does_not():
    """sourceName "pos" is Shopify's own (no other API client can set it): with no retail
    location read it is still a register sale; a web order is not."""
    from decimal import Decimal

    from jobs.order_kinds import not_for_erp
    from shopify_app.admin_api.order_import_ops import parse_erp_order
    from tests.orders_in.test_order_map import raw_order

    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))])
    assert not_for_erp(parse_erp_order({**raw, "sourceName": "web"}), None) is None
    # handed over at the counter: a RETAIL fulfillment order, fulfilled, nothing to ship
    # (one shipped to the customer is no register sale: tests/orders_in/test_pos_sales.py)
    handed = {"status": "CLOSED", "deliveryMethod": {"methodType": "RETAIL"}}
    raw["fulfillmentOrders"]["nodes"] = [{**fo, **handed} for fo in raw["fulfillmentOrders"]["nodes"]]
    raw.update(shippingLines={"nodes": []}, shippingAddress=None)
    pos = not_for_erp(parse_erp_order({**raw, "sourceName": "pos"}), None)
    assert "sold at the register (Shopify POS" in pos


def test_a_web_order_completed_at_the_counter_is_not_taken_for_a_pos_sale(world):
    """Shopify's retailLocation is where a retail order was created or completed: a web order
    picked up and completed at the counter carries one. Only the "pos" source (Shopify's own)
    makes a register sale; this one goes to the ERP like any web order."""
    gid = world.place([(world.sku(0), 1)], gateway="pix", shipping="RETIRADA")

    def completed_at_the_counter(order):
        first = order["_fulfillmentOrders"][0]
        order["retailLocation"] = {"id": first.get("_locationId"), "name": "Loja Centro"}

    change_order(world, gid, completed_at_the_counter)
    world.drain()
    assert world.order_doc(gid)["sourceName"] != "pos"
    assert len(world.erp_orders_for(gid)) == 1


def test_an_order_placed_before_the_install_cancelled_is_failed_for_a_person_not_closed(world):
    """A store moving from another connector: an order that connector sent to the ERP before the
    app's install is cancelled in Shopify (the customer refunded). Closed as "never sent to the ERP:
    nothing to cancel there", the ERP order stayed live to be picked, invoiced and delivered. The app
    cannot look it up by the connector's id: failed for a person, naming the order and the install."""
    from sqlalchemy import delete

    from ledger.models import Message, OrderLink
    from shopify_app import fail_words
    from shopify_app.api_explain import explain
    from tests.orders_in.test_edits_and_cancels import cancel_in_shopify

    gid = world.place(gateway="pix")
    world.drain()
    nro = world.link(gid).nro_pedvenda
    with session_scope() as session:  # as the earlier connector left it: in the ERP, unknown here
        installed = session.get(Shop, world.shop_id).created_at
        session.execute(delete(OrderLink).where(OrderLink.shopify_order_id == gid))
        session.execute(delete(Message).where(Message.shop_id == world.shop_id))
    old = (installed - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    change_order(world, gid, lambda order: order.update(createdAt=old, processedAt=old))
    cancel_in_shopify(world, gid)
    world.drain()
    cancellation = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert cancellation.status == MessageStatus.FAILED.value, cancellation.error_text
    assert cancellation.error_detail["code"] == "CANCEL_ORDER_BEFORE_APP"
    assert "placed while the app was not installed" in cancellation.error_text
    assert gid in cancellation.error_text and f"{installed:%Y-%m-%d %H:%M}" in cancellation.error_text
    said = fail_words.reason(cancellation, "pt-BR")
    assert said and "quando o app não estava instalado" in said, said
    assert "earlier connector" in explain(cancellation, "en")["what_happened"]
    [erp_order] = [o for o in world.chain.erp_orders() if o["nropedvenda"] == nro]
    assert erp_order["situacaoped"] != "C"  # nothing cancelled by guess
