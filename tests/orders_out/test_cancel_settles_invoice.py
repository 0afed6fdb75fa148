"""ERP -> Shopify: an F (invoice) event that failed for a person, then the ERP cancels the order (its
C event applied, or skipped: Shopify had cancelled it already). The invoice has nothing left to do:
its message is closed as skipped, saying the cancellation's event settled it (as its Retry would),
and its note on the order goes, instead of asking forever to fix the NF-e key or saying "cancelled
but the ERP invoiced it"."""

from __future__ import annotations

import time

from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app import skip_words
from shopify_app.admin_api import for_shop

from .conftest import World


def _settled_by(world: World, order, cancel) -> None:
    link = world.link(order.gid)
    assert order_notes.note_of(link, "invoices", event=True) is None, link.needs_attention
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.SKIPPED.value, invoice.error_text
    seq = cancel.unit_key.split(":")[1]
    said_en = invoice.error_text or ""
    assert f"ERP event #{seq} cancelled ERP order {order.nro}" in said_en, said_en
    said = skip_words.reason(invoice, "pt-BR")
    assert said and f"evento {seq} do ERP cancelou" in said and said != invoice.error_text, said
    assert skip_words.reason(invoice, "en") == invoice.error_text


def test_a_refused_invoice_goes_once_the_erp_cancels_the_order(world: World) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    good = document["chaveAcesso"]
    world.erp_key(order.nro, good[:-1] + str((int(good[-1]) + 1) % 10))  # a wrong check digit
    world.poll()
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.FAILED.value
    assert order_notes.note_of(world.link(order.gid), "invoices", event=True)

    world.erp.cancel(order.nro, "NF-e cancelada: cliente desistiu")
    world.poll()
    [cancel] = world.messages("cancellations", order)
    assert cancel.status == MessageStatus.DONE.value, cancel.error_text
    assert world.settlement(order.gid).cancelled_at
    _settled_by(world, order, cancel)


def test_the_race_settled_as_advised_leaves_no_stale_invoice_failure(world: World) -> None:
    """The store cancels in Shopify while the ERP invoices: the F event fails ORDER_CANCELLED for a
    person, who does what it says (cancels the NF-e in the ERP); the C event is skipped (Shopify
    cancelled already), and the invoice's failure goes with it."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    client = for_shop(world.domain)
    job = client.order_cancel(order.gid, reason="CUSTOMER", restock=True, refund_to_original=True)
    for _ in range(100):
        if job.done:
            break
        time.sleep(0.05)
        job = client.job(job.id)
    world.erp.invoice(order.nro)
    world.poll()
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.FAILED.value and invoice.error_detail["code"] == "ORDER_CANCELLED"

    world.erp.cancel(order.nro, "NF-e cancelada: pedido cancelado na loja virtual")
    world.poll()
    [cancel] = world.messages("cancellations", order)
    assert cancel.status == MessageStatus.SKIPPED.value, cancel.error_text
    _settled_by(world, order, cancel)
