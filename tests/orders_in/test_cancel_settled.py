"""A cancellation settled from the other side, or by a person: what the app leaves behind says so.

- the ERP cancelled the order, Shopify's cancel job failed, and the merchant cancelled it in the
  Shopify admin as the message advised: the failed ERP -> Shopify message and its note go;
- the ERP cancelled an order whose Shopify edit was flagged: the edit's note goes (the sale is off);
- the ERP answers a repeated Cancelamento 409 PEDIDO_CANCELADO: the order is cancelled there, done;
- a cancellation a person closed as handled is never reopened and carried out by a later import.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import orders
from ledger import handled
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.shopify.resolvers.order_cancel import fail_next_cancel
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    edit_in_shopify,
    imported,
    placed_with_its_erp_answer_lost,
)


def cancellations(gid: str) -> list[Message]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.flow == "cancellations", Message.shopify_id == gid)
                .order_by(Message.id)
            )
        )


def test_cancelling_in_shopify_as_advised_closes_the_erps_failed_cancellation(world):
    gid, nro = imported(world)
    fail_next_cancel(world.shopify.sandbox, world.name, gid)
    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)
    [failed] = cancellations(gid)
    assert failed.status == MessageStatus.FAILED.value and failed.error_detail["code"] == "CANCEL_NOT_APPLIED"
    assert "failed in Shopify" in (world.link(gid).needs_attention or "")

    cancel_in_shopify(world, gid)  # "or cancel the order there"
    world.drain()
    poll_erp_events(world)

    from_erp, from_shopify = cancellations(gid)
    assert from_shopify.direction == "shopify_to_erp" and from_shopify.status == MessageStatus.DONE.value
    assert from_erp.status == MessageStatus.SKIPPED.value
    assert "cancelled in Shopify" in from_erp.error_text, from_erp.error_text
    link = world.link(gid)
    assert link.needs_attention is None and link.erp_status == "C"


def test_an_invoiced_order_the_erp_cancelled_then_cancelled_in_shopify_as_advised_closes_both(world):
    """The ERP cancels an invoiced order with its NF-e; Shopify's cancellation fails; a person cancels
    it in Shopify as the message advised. The orders/cancelled side must not ask a person to cancel
    an NF-e the ERP already cancelled, and the ERP's failed cancellation closes."""
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    assert world.link(gid).nfe_key
    fail_next_cancel(world.shopify.sandbox, world.name, gid)
    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)
    [failed] = cancellations(gid)
    assert failed.status == MessageStatus.FAILED.value and failed.error_detail["code"] == "CANCEL_NOT_APPLIED"

    cancel_in_shopify(world, gid)  # "or cancel the order there"
    world.drain()
    poll_erp_events(world)

    from_erp, from_shopify = cancellations(gid)
    assert from_shopify.status == MessageStatus.DONE.value, from_shopify.error_text
    assert from_shopify.response_payload["cancelled_by_erp_event"] == int(from_erp.unit_key.split(":")[1])
    assert from_erp.status == MessageStatus.SKIPPED.value, from_erp.error_text
    link = world.link(gid)
    assert link.erp_status == "C" and "cancel the NF-e in the ERP" not in (link.needs_attention or "")


def test_the_echo_of_the_apps_own_cancellation_of_an_invoiced_order_before_its_retry_asks_nothing(
    world, monkeypatch
):
    """Shopify still cancelling when the app stops waiting (Transient, retried): the orders/cancelled
    echo that runs before the retry must not flag the NF-e (the ERP cancelled it) nor fail."""
    from jobs.cancellations import to_shopify
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.order_settlement import settlement

    def side(direction: str) -> list[Message]:
        return [m for m in cancellations(gid) if m.direction == direction]

    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    real = to_shopify._wait
    monkeypatch.setattr(to_shopify, "_wait", lambda *a, **k: False)  # still running after the polls
    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)
    [waiting] = side("erp_to_shopify")
    assert waiting.status == MessageStatus.RETRYING.value
    client = for_shop(world.domain)
    for _ in range(200):  # Shopify's cancel job ends by itself a moment later (its timer)
        if settlement(client, gid).cancelled_at:
            break
        time.sleep(0.05)
    client.close()
    world.drain()  # the echo orders/cancelled (a loaded machine may have run it already)

    [from_shopify] = side("shopify_to_erp")
    assert from_shopify.status == MessageStatus.DONE.value, from_shopify.error_text
    assert "cancel the NF-e in the ERP" not in (world.link(gid).needs_attention or "")
    monkeypatch.setattr(to_shopify, "_wait", real)
    to_shopify.replay(waiting.id)
    [from_erp] = side("erp_to_shopify")
    assert from_erp.status == MessageStatus.DONE.value
    assert "NF-e" in (world.link(gid).needs_attention or "")  # the ERP's: NF-e cancelled, check the money


def test_an_erp_cancellation_clears_a_flagged_shopify_edits_note(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    assert (world.link(gid).needs_attention or "").startswith("order_edits: ")

    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)  # the app cancels the Shopify order
    link = world.link(gid)
    assert link.cancelled_at is not None and link.erp_status == "C"
    assert link.needs_attention is None, link.needs_attention
    world.drain()  # Shopify's orders/cancelled, the echo: already cancelled in the ERP
    assert world.link(gid).needs_attention is None


def test_the_echo_of_an_erp_cancellation_clears_a_flagged_shopify_edits_note(world):
    """The orders/cancelled side's skip ("already cancelled") clears it too: a link the ERP's
    cancellation reached (erp_status C) with an edit's note still on it (one flagged meanwhile)."""
    from jobs.order_edits import to_erp as edits_to_erp
    from ledger import order_notes
    from ledger.models import OrderLink

    gid, nro = imported(world)
    world.chain.handle.erp.cancel(nro)
    with session_scope() as session:
        link = session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == gid)).one()
        link.erp_status = "C"
        order_notes.put(link, edits_to_erp.FLOW, f"{edits_to_erp.NOTE}edit 1 flagged after picking")
    cancel_in_shopify(world, gid)
    world.drain()
    [message] = cancellations(gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert world.link(gid).needs_attention is None


def test_an_erp_answering_pedido_cancelado_holds_the_order_cancelled(world, monkeypatch):
    gid, nro = imported(world)
    world.chain.handle.erp.cancel(nro)  # cancelled in the ERP; its C event not polled yet

    def conflict(self, nro_pedvenda, reason=None):
        raise ErpRejected(f"Pedido {nro_pedvenda} cancelado: não pode ser alterado.",
                          codigo="PEDIDO_CANCELADO", status=409)  # fmt: skip

    monkeypatch.setattr(ErpClient, "cancel_order", conflict)
    cancel_in_shopify(world, gid)
    world.drain()
    [message] = cancellations(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["already_cancelled_in_erp"] == "PEDIDO_CANCELADO"
    link = world.link(gid)
    assert link.erp_status == "C" and link.needs_attention is None


def test_a_conflict_worded_otherwise_on_an_order_the_erp_holds_cancelled_is_done(world, monkeypatch):
    gid, nro = imported(world)
    world.chain.handle.erp.cancel(nro)

    def conflict(self, nro_pedvenda, reason=None):
        raise ErpRejected("Situação do pedido não permite a operação", codigo="CONFLITO", status=409)

    monkeypatch.setattr(ErpClient, "cancel_order", conflict)
    cancel_in_shopify(world, gid)
    world.drain()
    [message] = cancellations(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "still live" not in (world.link(gid).needs_attention or "")


def _cancel_unsure(world, monkeypatch) -> tuple[str, str, Message]:
    """Cancelled in Shopify; its ERP answer was lost and posting it again is refused: the
    cancellation fails CANCEL_ERP_NUMBER_UNKNOWN. The ERP answers normally after."""
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    real = ErpClient.insert_order

    def refused(self, order):
        raise ErpRejected("cliente bloqueado", codigo="CLIENTE_BLOQUEADO", status=422)

    monkeypatch.setattr(ErpClient, "insert_order", refused)
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert message.error_detail["code"] == "CANCEL_ERP_NUMBER_UNKNOWN"
    monkeypatch.setattr(ErpClient, "insert_order", real)
    return gid, num, message


def test_a_cancellation_closed_as_handled_stays_so_when_the_import_learns_the_number(world, monkeypatch):
    gid, num, message = _cancel_unsure(world, monkeypatch)
    [erp_order] = world.erp_orders_for(gid)
    world.chain.handle.erp.cancel(erp_order["nropedvenda"])  # the person cancels it in the ERP ...
    with session_scope() as session:  # ... and closes the message
        handled.mark(session, session.get(Message, message.id), by="31", note="cancelled in the ERP by hand")
    orders.import_order(world.shop_id, num, trigger="replay")  # the orders message's retry
    world.drain()
    with session_scope() as session:
        row = session.get(Message, message.id)
        assert row.status == MessageStatus.SKIPPED.value and handled.info(row) is not None, row.error_text


def test_an_erp_order_a_person_kept_is_not_cancelled_by_a_later_import(world, monkeypatch):
    gid, num, message = _cancel_unsure(world, monkeypatch)
    with session_scope() as session:
        row = session.get(Message, message.id)
        handled.mark(session, row, by="31", note="kept in the ERP: the customer paid at the counter")
    orders.import_order(world.shop_id, num, trigger="replay")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["situacaoped"] != "C", "the ERP order the person kept was cancelled by the app"


def test_fulfillments_cancelled_before_the_failure_stay_named_once_cancelled_in_shopify(world):
    """The store fulfilled it (tracking BR123); the ERP cancelled it; the app cancelled the
    fulfillment, then Shopify's cancel job failed; the merchant cancelled it in Shopify. The failed
    message closes, but the goods may have left: the link still names the fulfillment."""
    from shopify_app.admin_api import for_shop

    gid, nro = imported(world)
    client = for_shop(world.domain)
    fos = client.fulfillment_orders(gid)
    client.fulfillment_create({fo.id: None for fo in fos if fo.status == "OPEN"},
                              tracking={"number": "BR123", "company": "Loggi"})  # fmt: skip
    fail_next_cancel(world.shopify.sandbox, world.name, gid)
    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)
    [failed] = cancellations(gid)
    assert failed.status == MessageStatus.FAILED.value and "BR123" in failed.error_text

    cancel_in_shopify(world, gid)
    world.drain()
    from_erp, _ = cancellations(gid)
    assert from_erp.status == MessageStatus.SKIPPED.value
    note = world.link(gid).needs_attention or ""
    assert note.startswith("cancellations: ") and "BR123" in note, note
    assert "cancelled in Shopify since" in note, note
    assert "failed in Shopify" not in note
