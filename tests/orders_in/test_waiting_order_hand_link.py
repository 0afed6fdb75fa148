"""An order waiting for its payment (a boleto, B2B payment terms) that the merchant enters in the ERP
by hand, as its waiting message tells them to ("link it on the Orders page: Link to ERP order"): the
import links it as it links one parked or refused (no ERP number), so the Orders page lists it under
"Not in the ERP" (not under "Needs attention" for waiting alone) and a person can link it; once
linked, its waiting message is closed as handled and a later payment or catch-up never posts it to
the ERP a second time. The reconciliation holds it in the app, not as drift. Past the 60 days
Shopify lets the app read it, the link cannot read it: refused saying to mark its message handled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bench._order_stack import NRO_EMPRESA
from jobs import orders, reconcile
from ledger.db import session_scope
from ledger.models import MessageStatus, OrderLink, Shop, utcnow
from sandbox.shopify.checkout import mark_paid
from tests.orders_in.test_delivery_address_hand_linked import (  # noqa: F401 (fixtures)
    link_by_hand,
    operator,
    typed_in_the_erp,
)
from tests.orders_in.test_edits_and_cancels import edit_in_shopify
from tests.orders_in.test_orders_page import orders_page  # noqa: F401 (fixture)
from tests.orders_in.test_orders_past_read_window import _waited, _waiting


def test_a_waiting_order_is_linked_and_listed_not_in_the_erp_without_needing_attention(
    world,
    orders_page,  # noqa: F811
):
    gid = _waiting(world)
    link = world.link(gid)
    assert link is not None, "a waiting order has no link: the Orders page cannot list nor link it"
    assert link.nro_pedvenda is None and link.nro_empresa == NRO_EMPRESA
    assert link.total is not None and link.shopify_status == "PENDING" and link.currency == "BRL"
    name = world.order_doc(gid)["name"]
    [found] = orders_page(q=name)
    assert found["shopify_order_id"] == gid and found["needs_attention"] is None, found
    assert gid in [o["shopify_order_id"] for o in orders_page(status="not_in_erp")]
    assert gid not in [o["shopify_order_id"] for o in orders_page(status="needs_attention")]


def test_a_waiting_order_linked_by_hand_is_closed_and_never_posted_again(world, link_by_hand):  # noqa: F811
    gid = _waiting(world)
    nro = typed_in_the_erp(world)
    status, body = link_by_hand(gid, nro)
    assert status == 200, body
    assert body["nro_pedvenda"] == nro and body["needs_attention"] is None
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert message.error_detail["handled"]["erp_order"] == nro
    world.drain()  # the address check the link enqueues
    # Paid later, then the catch-up: the import sees the link's number and posts nothing.
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    assert orders.import_order(world.shop_id, gid, trigger="replay") == "already"
    assert world.erp_orders_for(gid) == []
    assert world.link(gid).nro_pedvenda == nro
    assert world.message(gid).status == MessageStatus.SKIPPED.value


def test_the_reconciliation_holds_a_linked_waiting_order_in_the_app(world):
    gid = _waiting(world)
    assert world.link(gid) is not None
    with session_scope() as session:  # linked hours ago: held by its message, not "never sent"
        session.get(OrderLink, world.link(gid).id).created_at = utcnow() - timedelta(hours=3)
    report = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert gid not in [row["order"] for row in report["missing_in_erp"]], report["missing_in_erp"]
    assert gid not in [row["order"] for row in report["missing_in_ledger"]]
    assert gid not in report["imports_enqueued"]
    [held] = [row for row in report["held_in_app"] if row["order"] == gid]
    assert held["status"] == MessageStatus.PENDING.value


def test_past_the_read_window_the_link_is_refused_saying_to_mark_it_handled(world, link_by_hand):  # noqa: F811
    gid = _waiting(world)
    _waited(world, gid, 70)
    with session_scope() as session:
        session.get(OrderLink, world.link(gid).id).created_at = utcnow() - timedelta(days=70)
        assert "read_all_orders" not in (session.get(Shop, world.shop_id).scopes or "")
    nro = typed_in_the_erp(world)
    status, body = link_by_hand(gid, nro)
    assert status == 409, body
    assert body["error"]["code"] == "shopify_order_too_old", body
    assert "mark" in body["error"]["message"] and "handled" in body["error"]["message"], body
    assert world.link(gid).nro_pedvenda is None


def _shopify_total(world, gid: str) -> Decimal:
    return Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])


def test_a_waiting_orders_link_total_follows_an_edit_made_in_shopify_while_it_waits(
    world,
    orders_page,  # noqa: F811
):
    """The link is made with the order's total when it starts waiting; the merchant then edits the
    order in Shopify (a line 2 -> 1) before it is paid. The edit's orders/updated reads the order
    again, and the link's total follows: the Orders page shows what Shopify charges now, not what it
    charged when the order began to wait (the link kept that one until this fix)."""
    gid = _waiting(world)
    first = _shopify_total(world, gid)
    assert world.link(gid).total == first
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.drain()
    now = _shopify_total(world, gid)
    assert now < first
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "Waiting for payment" in message.error_text
    assert world.link(gid).total == now
    [found] = orders_page(q=world.order_doc(gid)["name"])
    assert Decimal(found["total"]) == now, found
    assert found["nro_pedvenda"] is None and found["needs_attention"] is None, found
    # Still waiting, paid later: the order goes to the ERP at the edited total, and so does the link.
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    assert Decimal(str(world.chain.order(erp_order["nropedvenda"])["vlrTotalPedido"])) == now
    assert world.link(gid).total == now
