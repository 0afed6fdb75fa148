"""An ERP event carrying another ERP order's NF-e (a valid key of the same company, internally
consistent): the ERP order read for the event lists its own documents, and this one is not among
them. Applied, order Y showed order X's key (the same key on two orders) and its goods fulfilled
against it, its own NF-e never written; now the event is read as one carrying no document: the
ERP order's own NF-e applies, and the message says which the event carried."""

from __future__ import annotations

import json

from sqlalchemy import select

from ledger.models import MessageStatus
from sandbox.consinco import tables as t

from .conftest import World


def _event_document(world: World, nro: int) -> dict:
    events = t.mad_pedvendaevento
    with world.erp.store.read() as conn:
        row = conn.execute(
            select(events.c.dados).where(events.c.nropedvenda == nro, events.c.tipoevento == "F")
        ).one()
    return json.loads(row.dados)["documentoFiscal"]


def test_another_orders_nfe_in_the_event_gives_way_to_the_orders_own(world: World) -> None:
    x = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    _total, done = world.invoice(x)
    assert done.status == MessageStatus.DONE.value, done.error_text
    y = world.linked_order([(world.plain(1), 1)], gateway="cartao", capture="manual")
    [own] = world.erp.invoice(y.nro)["documentosFiscais"]
    other = _event_document(world, x.nro)
    world.rewrite_event(y.nro, "F", lambda data: data.update(documentoFiscal=dict(other)))
    world.poll()

    [message] = world.messages("invoices", y)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(y.gid).nfe.get("chave") == own["chaveAcesso"]  # Y's own, never X's
    said = message.response_payload["event_document_not_of_order"]
    assert other["chaveAcesso"] in said and own["chaveAcesso"] in said
