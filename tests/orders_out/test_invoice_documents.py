"""ERP -> Shopify: which fiscal document an invoice event may write, and what an order with more
than one NF-e is charged — a cancelled document, a key that is another document's, an order
invoiced in two NF-e (partial invoicing), an NF-e cancelled and re-issued."""

from __future__ import annotations

from ledger.models import MessageStatus

from .conftest import World

# -- a cancelled document ----------------------------------------------------------------------


def test_an_invoice_event_whose_nfe_is_cancelled_is_skipped_and_nothing_is_written(world: World) -> None:
    """The event's own document has statusDf 'C' (cancelled) and the Shopify order is not
    cancelled: nothing of a cancelled NF-e is written, charged, fulfilled nor tagged (the rule of an
    event with no document, which takes only a valid one); the message says why."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(statusDf="C"))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.error_text)
    assert document["chaveAcesso"] in (message.error_text or "") and "cancelled" in (message.error_text or "")
    state = world.settlement(order.gid)
    assert state.paid == 0 and state.open_authorization() is not None
    assert state.nfe == {} and not state.active_fulfillments and "NF-e emitida" not in state.tags
    assert world.link(order.gid).nfe_key is None
