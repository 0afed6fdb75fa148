"""ERP -> Shopify: which fiscal document an invoice event may write, and what an order with more
than one NF-e is charged — a cancelled document, a key that is another document's, an order
invoiced in two NF-e (partial invoicing), an NF-e cancelled and re-issued."""

from __future__ import annotations

import pytest

from jobs.nfe import check_digit
from ledger.models import MessageStatus
from shopify_app.api_explain import explain

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


# -- a key that is another document's ---------------------------------------------------------


def _with(key: str, start: int, end: int, value: str) -> str:
    body = key[:start] + value + key[end:43]
    assert len(body) == 43
    return body + str(check_digit(body))


FORGED = {  # part of the key -> (the key with that part changed, what the message names)
    "model": (lambda k: _with(k, 20, 22, "65"), "model 65"),  # an NFC-e key on an NF-e (55)
    "series": (lambda k: _with(k, 22, 25, f"{int(k[22:25]) + 7:03d}"), "series"),
    "number": (lambda k: _with(k, 25, 34, f"{int(k[25:34]) + 1000:09d}"), "number"),
    "issuer": (lambda k: _with(k, 6, 20, "11222333000181"), "issuer CNPJ 11222333000181"),  # another company
    "month": (lambda k: _with(k, 2, 6, "1901"), "year-month 1901"),  # years from dtaHorEmissao
}


@pytest.mark.parametrize("part", sorted(FORGED))
def test_a_key_whose_fields_disagree_with_its_document_is_refused_and_nothing_is_written(
    world: World, part: str
) -> None:
    """The key carries the document's model, series, number, issuer CNPJ and year-month: a key
    that disagrees with the document the event describes is another document's (or a typing
    error), so it is refused naming the part and both values, before anything is written."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    forge, named = FORGED[part]
    forged = forge(document["chaveAcesso"])
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(chaveAcesso=forged))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert detail["code"] == "NFE_KEY_MISMATCH" and detail["part"] == part, detail
    assert forged in (message.error_text or "") and named in (message.error_text or ""), message.error_text
    state = world.settlement(order.gid)
    assert state.nfe == {} and state.paid == 0 and not state.active_fulfillments
    assert "NF-e emitida" not in state.tags
    explained = explain(message, "en")
    assert explained is not None and "another fiscal document" in explained["what_happened"]
