"""Cancelling (or refunding) an order whose ERP number is not known: the ERP's answer to its POST was
lost, or the ERP refused it. Whether the ERP may hold it decides between learning its number,
failing for a person (CANCEL_ERP_NUMBER_UNKNOWN) and closing it as never sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.db import session_scope
from ledger.models import MessageStatus
from sandbox.shopify.checkout import place_order
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    change_order,
    placed_with_its_erp_answer_lost,
)


def refusing(monkeypatch, exc) -> None:
    from erp.client import ErpClient

    def refused(self, order):
        raise exc

    monkeypatch.setattr(ErpClient, "insert_order", refused)


def blocked():
    from erp.errors import ErpRejected

    return ErpRejected("cliente bloqueado", codigo="CLIENTE_BLOQUEADO", status=422)


def cancelled_while_the_erp_refuses(world, monkeypatch, gid: str, num: str):
    """The order is cancelled in Shopify while the ERP refuses it posted again (the client blocked):
    the cancellation fails as CANCEL_ERP_NUMBER_UNKNOWN; its message."""
    refusing(monkeypatch, blocked())
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert (message.error_detail or {}).get("code") == "CANCEL_ERP_NUMBER_UNKNOWN", message.error_text
    return message


def test_a_retried_cancellation_cancels_the_erp_order_once_the_erp_stops_refusing(world, monkeypatch):
    """The answer to the first POST was lost, so the ERP may hold the order; posted again at the
    cancellation, the ERP refuses it (422). That refusal does not drop the input kept to post it
    again (an earlier POST may have been taken): once the cause is fixed in the ERP, the Retry the
    message asks for learns the number of the order the ERP holds and cancels it (mapped again,
    the cancelled order has no line to send, for ever)."""
    from erp.client import ErpClient
    from jobs import cancellations

    real = ErpClient.insert_order
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)
    message = cancelled_while_the_erp_refuses(world, monkeypatch, gid, num)
    assert "posted" in world.message(gid).request_payload

    monkeypatch.setattr(ErpClient, "insert_order", real)  # the client unblocked in the ERP
    assert cancellations.to_erp.replay(message.id) == "done"
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"
    assert world.link(gid).nro_pedvenda == held["nropedvenda"]


def test_an_order_refunded_while_the_erp_refuses_it_posted_again_still_learns_its_number(world, monkeypatch):
    """Answer lost, the retry refused by the ERP (422), then the order refunded in full in Shopify.
    Once the ERP stops refusing, the retry posts the kept input again and learns the number of the
    order the ERP holds, instead of skipping it as "will not be paid" (a live ERP order with no
    number on its link)."""
    from erp.client import ErpClient
    from jobs import orders
    from sandbox.shopify import order_store

    real = ErpClient.insert_order
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)
    refusing(monkeypatch, blocked())
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.FAILED.value

    def refund_all(ctx, order):
        paid = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        value, gateway = Decimal(paid["amountSet"]["shopMoney"]["amount"]), paid["gateway"]
        order["_transactions"].append(
            order_store.new_transaction(ctx, "REFUND", "SUCCESS", gateway, value, parent_id=paid["id"])
        )

    change_order(world, gid, refund_all)
    monkeypatch.setattr(ErpClient, "insert_order", real)
    assert orders.import_order(world.shop_id, num, trigger="retry") == "done"
    assert world.link(gid).nro_pedvenda == held["nropedvenda"]


def test_a_post_cut_off_by_a_killed_worker_counts_as_maybe_taken(world, monkeypatch):
    """The worker dies during the POST (the ERP committed the order; nothing is recorded after the
    call). The order is marked "may have been taken" before the POST, so the cancellation learns
    its number rather than closing it as never sent, and a refusal of the order posted again does
    not drop the input kept to post it."""
    from erp.client import ErpClient
    from jobs import cancellations, orders

    class Killed(BaseException):
        """What the job sees of a worker killed mid-call: nothing after it runs."""

    real = ErpClient.insert_order

    def killed(self, order):
        real(self, order)
        raise Killed

    monkeypatch.setattr(ErpClient, "insert_order", killed)
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    num = gid.rsplit("/", 1)[-1]
    with pytest.raises(Killed):
        orders.import_order(world.shop_id, num, trigger="orders/create")
    [held] = world.erp_orders_for(gid)
    message = cancelled_while_the_erp_refuses(world, monkeypatch, gid, num)
    monkeypatch.setattr(ErpClient, "insert_order", real)
    assert cancellations.to_erp.replay(message.id) == "done"
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"


def refusal(kind: str):
    from erp.errors import ErpAuthError, ErpRejected

    if kind == "login":
        return ErpAuthError("usuário ou senha inválidos", status=401)
    return ErpRejected("Produto inativo", codigo="PRODUTO_INATIVO", status=422)


@pytest.mark.parametrize("refused", ["body", "login"])
def test_cancelling_an_order_the_erp_refused_closes_it_as_never_sent(world, monkeypatch, refused):
    """The ERP refused the only POST (its body, or the login): it holds nothing under the order's
    key. Cancelled in Shopify, the order is closed as never sent (the cancellation skipped, the
    orders message closed so it stops holding stock), not failed as CANCEL_ERP_NUMBER_UNKNOWN
    claiming a lost answer and flagging the order for a person."""
    refusing(monkeypatch, refusal(refused))
    gid = world.place(gateway="pix")
    world.drain()
    num = gid.rsplit("/", 1)[-1]
    assert world.message(gid).status == MessageStatus.FAILED.value and world.erp_orders_for(gid) == []
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert message.status == MessageStatus.SKIPPED.value, f"{message.error_detail}: {message.error_text}"
    assert world.message(gid).status == MessageStatus.SKIPPED.value
    assert world.link(gid).needs_attention is None
    assert world.erp_orders_for(gid) == []


def login_refused(monkeypatch) -> None:
    refusing(monkeypatch, refusal("login"))


def test_the_unknown_number_note_goes_once_the_retried_cancellation_cancels_the_erp_order(world, monkeypatch):
    """Answer lost; at the cancellation the ERP refuses the login, so the number cannot be learned
    and the order link is flagged. Once the password is fixed the Retry cancels the ERP order:
    nothing is left for a person to do, so the cancellation's own note goes."""
    from erp.client import ErpClient
    from jobs import cancellations

    real = ErpClient.insert_order
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    login_refused(monkeypatch)
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert (message.error_detail or {}).get("code") == "CANCEL_ERP_NUMBER_UNKNOWN"
    assert world.link(gid).needs_attention.startswith("cancellations: ")

    monkeypatch.setattr(ErpClient, "insert_order", real)
    assert cancellations.to_erp.replay(message.id) == "done"
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["situacaoped"] == "C"
    assert world.link(gid).needs_attention is None


def test_an_invoiced_cancellation_note_is_not_the_unknown_number_note():
    """Only the unknown-number note is cleared by a cancellation that went through; the note asking
    a person to cancel an NF-e is not."""
    from jobs.cancellations import to_erp
    from ledger.models import OrderLink

    link = OrderLink(needs_attention=f"{to_erp.FLOW}: Order #1 was cancelled in Shopify, but ERP order 7 is "
                     "already invoiced. An NF-e cannot be undone silently")  # fmt: skip
    to_erp.clear_unsure_note(link)
    assert link.needs_attention.startswith("cancellations: Order #1")
    link.needs_attention = f"{to_erp.UNSURE_NOTE}Order #1 was cancelled in Shopify."
    to_erp.clear_unsure_note(link)
    assert link.needs_attention is None


def test_a_cancelled_order_left_unsure_stops_holding_its_stock(world, monkeypatch):
    """Left at CANCEL_ERP_NUMBER_UNKNOWN, the orders message stays open (the Retry still learns the
    number through it), but Shopify cancelled and restocked the order: its units no longer count
    as pending (if the ERP holds it, its reservation counts them), and the stock flow rechecks its
    products, whose levels were computed with it."""
    from jobs import stock_pending
    from jobs.stock_pending import flag_order_changes
    from ledger import bindings
    from ledger.bindings import STOCK_RECHECK_KIND as RECHECK_KIND

    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=3)
    login_refused(monkeypatch)
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert (message.error_detail or {}).get("code") == "CANCEL_ERP_NUMBER_UNKNOWN"
    assert world.message(gid).status == MessageStatus.FAILED.value
    name = world.link(gid).shopify_order_name
    assert [p for p in stock_pending.pending_payloads(world.shop_id) if p.get("order_name") == name] == []
    with session_scope() as session:
        flag_order_changes(session, world.shop_id)
        assert world.sku(0) in bindings.get_many(session, world.shop_id, RECHECK_KIND, [world.sku(0)])


def test_a_refusal_of_the_transports_retry_after_a_lost_answer_keeps_the_order_maybe_taken(
    world, monkeypatch
):
    """The ERP committed the first attempt of the POST and its answer was lost (a read timeout, a
    504); the transport sent it again and the ERP refused that attempt (erp.transport flags the
    refusal `maybe_taken`). The order stays maybe taken with its input kept, so its cancellation
    learns the number of the order the ERP holds and cancels it, rather than closing it as never
    sent."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected
    from jobs import cancellations, orders
    from jobs.order_posted import KEY, TAKEN

    real = ErpClient.insert_order

    def retry_refused(self, order):
        real(self, order)  # attempt 1: committed, its answer lost
        raise ErpRejected(
            "ORA-00001: restrição exclusiva violada", codigo="ERRO", status=400, maybe_taken=True
        )

    monkeypatch.setattr(ErpClient, "insert_order", retry_refused)
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 1}],
                      gateway="pix", discount_rate=0.0)  # fmt: skip
    world.delivered()
    num = gid.rsplit("/", 1)[-1]
    assert orders.import_order(world.shop_id, num, trigger="orders/create") == MessageStatus.FAILED.value
    request = world.message(gid).request_payload
    assert KEY in request and request[TAKEN] is True
    [held] = world.erp_orders_for(gid)
    message = cancelled_while_the_erp_refuses(world, monkeypatch, gid, num)
    monkeypatch.setattr(ErpClient, "insert_order", real)
    assert cancellations.to_erp.replay(message.id) == "done"
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"
