"""Redact and reinstall of an order a person settled by hand: the store uninstalls the app, Shopify
sends shop/redact (the app erases the store's data, the order's message closed as handled with it),
the merchant installs the app again. The order reaching the app again (an orders/updated, the
reconciliation's import, a replay) must not become an ERP order: the merchant settled it outside the
app (entered it in the ERP by hand, say), and a second ERP order would be picked and invoiced twice.
What the redact keeps of it is a domain, an order id and a time (ledger.handled_before): no
personal data."""

from __future__ import annotations

from sqlalchemy import select

from jobs import orders
from ledger import trace
from ledger.db import session_scope
from ledger.handled import info
from ledger.models import HandledOrder, MessageStatus
from sandbox.shopify.order_documents import localized_fields
from shopify_app import fail_words, skip_words

from .test_edits_and_cancels import cancel_in_shopify
from .test_handled_orders import BAD_CPF, mark_handled  # noqa: F401  (the fixture)
from .test_import_rules import rest_event
from .test_not_for_erp import change_order
from .test_reinstall_after_redact import reinstalled


def test_an_order_closed_as_handled_before_the_redact_is_not_sent_after_the_reinstall(world, mark_handled):  # noqa: F811
    """Refused (a CPF the ERP will not take), entered in the ERP by hand and marked handled; the
    store uninstalls, is redacted, installs again; then the CPF is corrected in Shopify: its
    orders/updated, the reconciliation's import and a replay each leave it out of the ERP, saying
    it was closed by hand in an earlier installation."""
    gid = world.place(gateway="pix", tax_id=BAD_CPF)
    world.drain()
    refused = world.message(gid)
    assert refused.status == MessageStatus.FAILED.value and world.erp_orders_for(gid) == []
    mark_handled(refused.id, "entered by hand in the ERP for Maria, maria@example.com")
    closed_at = info(world.message(gid))["at"]

    reinstalled(world)
    with session_scope() as session:  # what the redact kept of it: the domain, the order, when
        [kept] = session.scalars(select(HandledOrder).where(HandledOrder.domain == world.domain)).all()
        assert kept.order_id == gid.rsplit("/", 1)[-1] and kept.handled_at.isoformat() == closed_at
        assert "maria" not in repr(vars(kept)).lower()

    change_order(
        world, gid, lambda order: order.update(_localizedFields=localized_fields("52998224725", False))
    )
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 1)) == "handled"
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.error_text)
    assert "closed as handled outside the app in an earlier installation" in message.error_text
    said = skip_words.reason(message, "pt-BR")
    assert said and "instalação anterior" in said and closed_at[:10] in said, said
    assert "maria" not in (message.error_text + said).lower()
    attempts = message.attempts

    # the reconciliation's import of an order it finds missing in the ledger, and a replay
    assert orders.import_order(world.shop_id, gid, trigger="reconcile") == "handled"
    assert orders.replay(message.id) == "handled"
    world.drain()
    assert world.erp_orders_for(gid) == [] and world.message(gid).attempts == attempts

    # cancelled in Shopify now: the app knows no ERP order of it, and one typed by hand may be live
    cancel_in_shopify(world, gid)
    world.drain()
    cancellation = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert cancellation.status == MessageStatus.FAILED.value, cancellation.error_text
    assert cancellation.error_detail["code"] == "CANCEL_HANDLED_BY_HAND"
    said = fail_words.said(cancellation.error_detail[trace.FAIL], "pt-BR")
    assert said and "resolvida fora do app numa instalação anterior do app" in said, said


def test_an_order_never_closed_before_the_redact_still_goes_after_the_reinstall(world):
    """Only an order closed by hand is held: one refused and left so, then fixed in Shopify after
    the reinstall, goes to the ERP as any other."""
    gid = world.place(gateway="pix", tax_id=BAD_CPF)
    world.drain()
    assert world.message(gid).status == MessageStatus.FAILED.value
    reinstalled(world)
    change_order(
        world, gid, lambda order: order.update(_localizedFields=localized_fields("52998224725", False))
    )
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 1)) == "done"
    assert len(world.erp_orders_for(gid)) == 1


def test_an_order_sent_before_the_redact_and_cancelled_after_the_reinstall_fails_for_a_person(world):
    """Posted in the first installation (the ERP holds it, open); its link erased by the redact; then
    cancelled in Shopify after the reinstall. The app knows no ERP order of it and cannot look one up
    by the Shopify order: not "never sent to the ERP" (the ERP order would be picked, invoiced and
    delivered), but a failure for a person naming the order, as the ERP's events of such an order do."""
    gid = world.place(gateway="pix")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    reinstalled(world)
    cancel_in_shopify(world, gid)
    world.drain()
    num = gid.rsplit("/", 1)[-1]
    cancellation = world.message(gid, "cancellations", f"cancel:{num}")
    assert cancellation.status == MessageStatus.FAILED.value, (cancellation.status, cancellation.error_text)
    assert cancellation.error_detail["code"] == "CANCEL_ORDER_ERASED"
    assert f"channel order id {gid}" in cancellation.error_text and "erased" in cancellation.error_text
    said = fail_words.said(cancellation.error_detail[trace.FAIL], "pt-BR")
    assert said and gid in said and "apagados" in said, said
    [still] = world.erp_orders_for(gid)
    assert still["nropedvenda"] == erp_order["nropedvenda"]  # nothing posted, nothing cancelled by guess


def test_an_order_of_the_new_installation_cancelled_before_its_import_is_never_sent(world):
    """After the reinstall, an order placed and cancelled at once (its import not run yet) is the new
    installation's: never sent, nothing to cancel, as before any redact."""
    reinstalled(world)
    gid = world.place(gateway="boleto")  # waits for its payment
    world.drain()
    cancel_in_shopify(world, gid)
    world.drain()
    cancellation = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert cancellation.status == MessageStatus.SKIPPED.value, cancellation.error_text
    assert world.erp_orders_for(gid) == []
