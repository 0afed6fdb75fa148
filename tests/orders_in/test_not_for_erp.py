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
    assert "test order" in message.error_text and message.error_detail == {"not_for_erp": True}


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


def test_an_order_placed_after_the_install_still_goes_on_orders_updated(world):
    """The rule's other side: an order of the app's time whose create/paid were missed goes."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 6)) == "done"
    assert len(world.erp_orders_for(gid)) == 1
