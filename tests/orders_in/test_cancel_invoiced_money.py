"""An order cancelled in Shopify after its NF-e: the note asks a person to cancel the NF-e in the
ERP, and says what Shopify did with the money, so that nobody refunds the customer twice."""

from __future__ import annotations

import by_hand

from sandbox.shopify import order_store
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_settlement import fulfillment_cancel, settlement
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_and_cancels import imported


def _cancel_in_shopify(world, gid: str, *, refund: bool) -> None:
    client = for_shop(world.domain)
    for fulfilment in settlement(client, gid).active_fulfillments:
        fulfillment_cancel(client, fulfilment.id)
    client.close()
    by_hand.cancel_in_shopify(world.domain, gid, refund=refund)
    world.drain()


def test_a_cancellation_that_refunded_says_not_to_refund_again(world) -> None:
    gid, nro = imported(world, gateway="cartao", capture="automatic")
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    world.drain()
    assert world.link(gid).nfe_key
    _cancel_in_shopify(world, gid, refund=True)
    note = world.link(gid).needs_attention or ""
    assert "must cancel the NF-e in the ERP" in note
    assert "Shopify refunded" in note and "do not refund it again" in note, note


def test_a_cancellation_that_kept_the_money_says_to_refund_it(world) -> None:
    gid, nro = imported(world, gateway="cartao", capture="automatic")
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    world.drain()
    _cancel_in_shopify(world, gid, refund=False)
    note = world.link(gid).needs_attention or ""
    assert "Shopify keeps the payment" in note and "refund it to the customer" in note, note


def test_a_pix_refund_waiting_for_the_payment_provider_says_not_to_refund_again(world, monkeypatch) -> None:
    """A Pix refund (devolução) is answered by the payment provider later (PENDING): the note told
    the person settling the NF-e that Shopify kept the payment and to refund it, a second refund."""
    gid, nro = imported(world, gateway="pix")
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    world.drain()
    real = order_store.new_transaction

    def pix_gateway(ctx, kind, status, *args, **kwargs):
        return real(ctx, kind, "PENDING" if kind == "REFUND" else status, *args, **kwargs)

    monkeypatch.setattr(order_store, "new_transaction", pix_gateway)
    _cancel_in_shopify(world, gid, refund=True)
    client = for_shop(world.domain)
    state = settlement(client, gid)
    client.close()
    assert state.refunding == state.paid > 0  # the whole payment on its way back
    note = world.link(gid).needs_attention or ""
    assert "must cancel the NF-e in the ERP" in note
    assert "Shopify is refunding" in note and "do not refund it again" in note, note
    assert "refund it to the customer" not in note, note
