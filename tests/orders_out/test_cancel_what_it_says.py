"""ERP -> Shopify cancellation: what the message and the order link tell a person.

- fulfillments the app cancelled before Shopify's cancellation failed are named (the order is live
  without them, and may be shipped again);
- a fulfillment refused before invoicing is the store's, not "fulfilled at invoicing";
- an invoiced order cancelled with cancel_refund off does not say a refund was sent;
- an order paid at checkout that the ERP cancels before invoicing with cancel_refund off keeps the
  customer's money: the link says so (refund what they paid), not a silent "done".
"""

from __future__ import annotations

from typing import Any

from ledger import order_notes
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import MessageStatus, Shop
from sandbox.shopify import order_store
from sandbox.shopify.resolvers.order_cancel import fail_next_cancel
from shopify_app.admin_api import for_shop


def _settings(world, **values: Any) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), **values}


def _fulfilled_by_the_store(world, order) -> None:
    client = for_shop(world.domain)
    fos = client.fulfillment_orders(order.gid)
    client.fulfillment_create({fo.id: None for fo in fos if fo.status == "OPEN"},
                              tracking={"number": "BR123", "company": "Loggi"})  # fmt: skip


def test_a_cancel_that_fails_after_cancelling_fulfillments_names_them(world) -> None:
    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    _fulfilled_by_the_store(world, order)
    [fulfillment] = world.settlement(order.gid).active_fulfillments
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == "CANCEL_NOT_APPLIED"
    state = world.settlement(order.gid)
    assert not state.cancelled_at and not state.active_fulfillments  # undone, the order live
    for said in (message.error_text, world.link(order.gid).needs_attention or ""):
        assert "BR123" in said and (fulfillment.name or fulfillment.id) in said, said
        assert "shipped again" in said
    assert message.error_detail["fulfillments_cancelled"] == [fulfillment.id]


def test_a_store_fulfillment_refused_before_invoicing_is_not_called_made_at_invoicing(world, monkeypatch):
    from jobs.cancellations import to_shopify

    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    _fulfilled_by_the_store(world, order)

    def refuse(_client, fid):
        raise Rejected("Fulfillment cannot be cancelled", system="shopify")

    monkeypatch.setattr(to_shopify, "fulfillment_cancel", refuse)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value
    assert "fulfilled at invoicing" not in message.error_text, message.error_text
    assert "by the store or a delivery app" in message.error_text


def test_nfe_cancelled_with_refund_off_does_not_say_a_refund_reached_the_customer(world) -> None:
    _settings(world, cancel_refund=False)
    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    world.erp.invoice(order.nro)
    world.poll()
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.order_doc(order.gid)["displayFinancialStatus"] == "PAID"
    note = world.link(order.gid).needs_attention or ""
    assert "the refund reached the customer" not in note, note
    assert "payment was kept" in note and "Shopify shows paid" in note, note
    from ledger import order_notes
    from shopify_app.note_words import say_note

    [said] = [say_note(p, "pt-BR") for p in order_notes.words_of(world.link(order.gid)).values()]
    assert said and "a Shopify mostra pago" in said and "PAID" not in said, said  # no raw status code


def test_money_kept_on_an_erp_cancel_before_invoicing_is_flagged_for_a_person(world) -> None:
    """The review's case: paid at checkout (Pix), cancelled in the ERP before invoicing, cancel_refund
    off. Shopify cancels the order still PAID; the message ended done, the link had no note and the
    reconciliation saw nothing (both sides cancelled): the money was kept and nobody was told."""
    from ledger import order_notes
    from shopify_app.note_words import say_note

    _settings(world, cancel_refund=False)
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")  # paid at checkout
    world.erp.cancel(order.nro, "Ruptura de estoque")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    doc = world.order_doc(order.gid)
    assert doc["cancelledAt"] and doc["displayFinancialStatus"] == "PAID"  # the money was kept
    link = world.link(order.gid)
    note = order_notes.note_of(link, "cancellations") or ""
    assert "before invoicing" in note and f"event #{message.unit_key.split(':')[1]}" in note, note
    assert "payment was kept" in note and "refund the customer what they paid" in note, note
    assert "Shopify shows paid" in note, note
    [said] = [say_note(p, "pt-BR") for p in order_notes.words_of(link).values()]
    assert said and "reembolse ao cliente" in said and "antes de faturá-lo" in said, said


def test_refund_off_before_invoicing_with_nothing_taken_flags_nothing(world) -> None:
    """cancel_refund off, a card only authorised (the app captures at invoicing): orderCancel voids
    it, nothing was kept, so there is nothing to tell a person."""
    _settings(world, cancel_refund=False)
    order = world.linked_order([(world.plain(1), 2)], gateway="cartao", capture="manual")
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.order_doc(order.gid)["displayFinancialStatus"] == "VOIDED"
    assert world.link(order.gid).needs_attention is None


def test_nfe_cancelled_with_refund_on_says_to_check_the_refund(world) -> None:
    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    world.erp.invoice(order.nro)
    world.poll()
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "the refund reached the customer" in (world.link(order.gid).needs_attention or "")


def test_nfe_cancelled_on_an_order_cancelled_in_shopify_before_says_to_check_the_payment(world) -> None:
    """Cancelled in the Shopify admin first (by someone else, refund as they chose), then the ERP
    cancels the NF-e: the note cannot tell what became of the money, and does not guess."""
    import time

    from shopify_app.admin_api.order_settlement import fulfillment_cancel

    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    world.erp.invoice(order.nro)
    world.poll()
    client = for_shop(world.domain)
    for fulfillment in world.settlement(order.gid).active_fulfillments:  # made at invoicing
        fulfillment_cancel(client, fulfillment.id)
    job = client.order_cancel(order.gid, reason="CUSTOMER", restock=True)
    for _ in range(100):
        if job.done:
            break
        time.sleep(0.05)
        job = client.job(job.id)
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    note = world.link(order.gid).needs_attention or ""
    assert "how the payment was settled" in note and "the refund reached" not in note, note


def test_refund_off_on_an_authorised_order_does_not_say_the_payment_was_kept(world) -> None:
    """cancel_refund off, a card order only authorised (the app captures at invoicing), fulfilled by
    the store, cancelled in the ERP before invoicing: orderCancel voids an open authorisation
    whatever its refund argument, so nothing was kept, and the note must not say it was."""
    _settings(world, cancel_refund=False)
    order = world.linked_order([(world.plain(1), 2)], gateway="cartao", capture="manual")
    assert world.order_doc(order.gid)["displayFinancialStatus"] == "AUTHORIZED"
    _fulfilled_by_the_store(world, order)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.order_doc(order.gid)["displayFinancialStatus"] == "VOIDED"
    note = world.link(order.gid).needs_attention or ""
    assert "was kept" not in note, note
    assert "voided the open authorisation" in note and "was not charged" in note, note


def test_a_lost_answer_on_a_voided_order_does_not_say_the_payment_was_kept() -> None:
    from decimal import Decimal

    from jobs.cancellations.to_shopify import _answer_lost, _money_to_check
    from shopify_app.admin_api.order_settlement import Settlement

    state = Settlement(
        id="gid://shopify/Order/1", name="#1001", cancelled_at="2026-11-30T10:00:00Z",
        financial_status="VOIDED", fulfillment_status=None, tags=[], current_total=Decimal("10"),
        currency="BRL", total_capturable=Decimal("0"), authorizations=[], paid=Decimal("0"), nfe={},
    )  # fmt: skip
    words = _answer_lost(state, {"restock": True, "refund": False})
    assert "payment kept" not in words and "nothing was charged" in words, words
    assert "was kept" not in _money_to_check(state, {"refund": False})


def test_a_hand_cancellation_after_a_failed_one_does_not_tell_its_refund_as_done(world) -> None:
    """The app's cancellation failed in Shopify (CANCEL_NOT_APPLIED) after it cancelled the store's
    fulfillment; the merchant cancels by hand keeping the payment; the Retry finds it cancelled. The
    failed attempt's settings (refund on) are not what happened: the note says what Shopify shows."""

    from jobs.cancellations import to_shopify
    from ledger import order_notes
    from shopify_app.note_words import say_note

    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    _fulfilled_by_the_store(world, order)
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.error_detail["code"] == "CANCEL_NOT_APPLIED"

    cancel_by_hand_keeping_the_payment(world, order.gid)

    to_shopify.replay(message.id)
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    link = world.link(order.gid)
    note = order_notes.note_of(link, "cancellations") or ""
    assert "was refunded" not in note and "setting asks" not in note, note
    assert "was settled by whoever cancelled the order" in note and "Shopify shows paid" in note, note
    parts = order_notes.words_of(link)
    [said] = [say_note(p, "pt-BR") for label, p in parts.items() if label.startswith("cancellations")]
    assert said and "reembolsado" not in said and "PAID" not in said and "pago" in said, said


def test_a_hand_cancellation_after_the_apps_job_failed_unwatched_is_not_told_as_its_refund(
    world, monkeypatch
) -> None:
    """The app's cancel job is still running when the app stops polling it (the retry keeps it);
    the job then fails in Shopify (a refund declined) and the merchant cancels by hand keeping the
    payment, with no staff note. The retry polled the remembered job, found the order cancelled and
    told the app's refund as done (restocked, no note): the customer's money, still held, was never
    flagged. The money Shopify shows kept tells it is someone else's cancellation."""
    import time

    from jobs.cancellations import to_shopify
    from ledger import order_notes

    monkeypatch.setattr(to_shopify, "POLL_DELAYS", ())  # the job is still running when the app looks
    order = world.linked_order([(world.plain(1), 2)], gateway="pix")  # paid at checkout
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value and message.response_payload.get("cancel_job")
    time.sleep(0.5)  # Shopify's job ends without cancelling
    assert not world.settlement(order.gid).cancelled_at

    cancel_by_hand_keeping_the_payment(world, order.gid)

    to_shopify.replay(message.id)  # RQ's retry
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.response_payload)
    assert "refund" not in (message.response_payload or {})  # not what happened
    note = order_notes.note_of(world.link(order.gid), "cancellations") or ""
    assert "before invoicing" in note and "Shopify shows paid" in note, note


def test_a_refused_fulfillment_cancel_is_said_in_portuguese_naming_it(world, monkeypatch) -> None:
    """Shopify refuses to cancel the store's fulfillment: the failure says it in the merchant's
    words (Shopify's refusal nested in its own words, not "FulfillmentCancel rejected: ..."), naming
    the fulfillment as the admin shows it (#1001-F1), not by its gid."""
    from jobs.cancellations import to_shopify
    from shopify_app import fail_words
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    _fulfilled_by_the_store(world, order)
    [fulfillment] = world.settlement(order.gid).active_fulfillments
    assert fulfillment.name

    def refuse(_client, fid):
        raise ShopifyUserErrors(
            "FulfillmentCancel", [UserError(("id",), "Fulfillment cannot be cancelled.", "INVALID")]
        )

    monkeypatch.setattr(to_shopify, "fulfillment_cancel", refuse)
    world.erp.cancel(order.nro, "Cancelado pela loja")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value
    said = fail_words.reason(message, "pt-BR")
    assert said and "rejected" not in said and "o cancelamento do processamento" in said, said
    assert fulfillment.name in said and fulfillment.id not in said, said
    assert fulfillment.name in message.error_text and fulfillment.id not in message.error_text
    assert fail_words.reason(message, "en") == message.error_text


def cancel_by_hand_keeping_the_payment(world, gid: str) -> None:
    """The merchant, in the Shopify admin: cancel the order, keep the payment (its job awaited)."""
    import time

    client = for_shop(world.domain)
    job = client.order_cancel(gid, reason="OTHER", restock=False, refund_to_original=False)
    for _ in range(100):
        if job.done:
            break
        time.sleep(0.05)
        job = client.job(job.id)
    assert world.settlement(gid).financial_status == "PAID"


def test_an_erp_cancellation_whose_pix_refund_is_under_way_is_not_flagged_as_money_kept(world, monkeypatch):
    """The ERP cancels a Pix order before invoicing; the app's orderCancel refunds it and the payment
    provider answers the refund later (PENDING): every such order was flagged as cancelled keeping
    the customer's money, for a person, with nothing wrong."""
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    real = order_store.new_transaction

    def pix_gateway(ctx, kind, status, *args, **kwargs):
        return real(ctx, kind, "PENDING" if kind == "REFUND" else status, *args, **kwargs)

    monkeypatch.setattr(order_store, "new_transaction", pix_gateway)
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    assert state.cancelled_at and state.refunding == state.paid > 0
    assert order_notes.note_of(world.link(order.gid), "cancellations") is None
