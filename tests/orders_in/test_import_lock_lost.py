"""The import under a lost order lock (Redis restarted without its data while the job held it) and
an ERP number learned after the order's cancellation: exactly one ERP order per Shopify order, and
a cancelled Shopify order is never left a live ERP order to be picked and invoiced."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs import inbox, orders
from jobs.locks import record_key
from ledger import kv
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus, WebhookInbox
from sandbox.shopify.checkout import place_order

from .test_cancel_lost_answer import login_refused
from .test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, placed_with_its_erp_answer_lost


def run_inbox(world, topic: str) -> None:
    """Run the job of the delivered webhook of `topic`, as a worker would."""
    world.delivered()
    with session_scope() as session:
        [row_id] = session.scalars(select(WebhookInbox.id).where(WebhookInbox.topic == topic)).all()
    inbox.process(row_id)


def lose_the_order_lock(world, num: str) -> None:
    assert kv.get_redis().delete(record_key(f"shop:{world.shop_id}:order:{num}")) == 1


def placed(world, quantity: int) -> tuple[str, str]:
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": quantity}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    return gid, gid.rsplit("/", 1)[-1]


def test_an_import_that_lost_its_lock_before_the_erp_call_posts_nothing_and_reads_again(world, monkeypatch):
    """The lock is lost between the import's read and its POST, and the order's cancellation runs
    in that gap (closed as never sent: no link yet). The import must not post what it read: it
    stops transient, and its retry reads the order cancelled and sends nothing."""
    real_prepare = orders._prepare
    gid, num = placed(world, 1)

    def prepare_after_a_redis_restart(*args, **kwargs):
        if not getattr(prepare_after_a_redis_restart, "done", False):
            prepare_after_a_redis_restart.done = True
            lose_the_order_lock(world, num)
            cancel_in_shopify(world, gid)
            run_inbox(world, "orders/cancelled")
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(orders, "_prepare", prepare_after_a_redis_restart)
    with pytest.raises(Transient, match="lock was lost"):
        orders.import_order(world.shop_id, num, trigger="orders/create")
    assert world.erp_orders_for(gid) == []
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []


def test_an_edit_run_while_the_import_lost_its_lock_during_the_post_reaches_the_erp(world, monkeypatch):
    """The lock is lost during the POST and the merchant's edit (2 -> 1) runs then: it sees no ERP
    number and skips. The import, answered afresh, leaves the lines' recheck since its lock was
    lost, so the ERP ends with Shopify's lines and total."""
    from erp.client import ErpClient

    real = ErpClient.insert_order
    gid, num = placed(world, 2)

    def post_after_a_redis_restart(self, order):
        if not getattr(post_after_a_redis_restart, "done", False):
            post_after_a_redis_restart.done = True
            lose_the_order_lock(world, num)
            edit_in_shopify(world, gid, world.sku(0), 1)
            run_inbox(world, "orders/edited")
        return real(self, order)

    monkeypatch.setattr(ErpClient, "insert_order", post_after_a_redis_restart)
    assert orders.import_order(world.shop_id, num, trigger="orders/create") == "done"
    monkeypatch.setattr(ErpClient, "insert_order", real)
    world.drain()
    erp_order = world.chain.order(world.link(gid).nro_pedvenda)
    assert {i["idSku"]: i["qtdPedida"] for i in erp_order["itens"]}[world.sku(0)] == 1
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(erp_order["vlrTotalPedido"])) == shopify_total


@pytest.mark.parametrize("how", ["retry of the orders message", "an orders/updated"])
def test_an_erp_number_learned_after_the_cancellation_failed_gets_the_erp_order_cancelled(
    world, monkeypatch, how
):
    """The answer was lost; the order is cancelled in Shopify while the ERP refuses the login, so
    the cancellation fails not knowing the ERP number. Once the login works, a Retry of the orders
    message (or any orders/updated of the order) learns the number: the cancellation then runs
    again and cancels the ERP order, and its note goes."""
    from erp.client import ErpClient
    from shopify_app.admin_api import for_shop

    real = ErpClient.insert_order
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)
    login_refused(monkeypatch)
    cancel_in_shopify(world, gid)
    world.drain()
    cancellation = world.message(gid, "cancellations", f"cancel:{num}")
    assert (cancellation.error_detail or {}).get("code") == "CANCEL_ERP_NUMBER_UNKNOWN"
    monkeypatch.setattr(ErpClient, "insert_order", real)  # the login fixed
    if how == "an orders/updated":
        for_shop(world.domain).tags_add(gid, ["conferido"])
    else:
        assert orders.replay(world.message(gid).id) == "done"
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"
    assert world.message(gid, "cancellations", f"cancel:{num}").status == MessageStatus.DONE.value
    assert world.link(gid).needs_attention is None
