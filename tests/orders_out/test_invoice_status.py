"""An NF-e's status (statusDf) as the installation writes it: 'V' valid, 'C' cancelled (erp.names
formats nfe_valid / nfe_cancelled, read whatever their case or padding); any other code (a denied
NF-e, a voided number, a code the app does not know) is never taken for valid: the event is refused
naming it (NFE_STATUS_UNKNOWN), nothing written, charged or fulfilled, and its Retry applies it once
the ERP order lists it valid."""

from __future__ import annotations

from dataclasses import replace

import pytest

from erp.names import load_names
from jobs import invoices
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from shopify_app.api_explain import explain

from .conftest import World


def _status(world: World, order, status: str) -> None:
    erp_order = world.erp.invoice(order.nro)
    [doc] = erp_order["documentosFiscais"]
    with world.erp.store.write() as (conn, _now):
        documents = t.mfl_doctofiscal
        conn.execute(documents.update().where(documents.c.seqnf == doc["seqNf"]).values(statusdf=status))
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(statusDf=status))


@pytest.mark.parametrize("status", ["D", "A"])
def test_an_nfe_neither_valid_nor_cancelled_is_refused_and_nothing_is_written(
    world: World, status: str
) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    _status(world, order, status)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    assert message.error_detail["code"] == "NFE_STATUS_UNKNOWN" and f"status '{status}'" in message.error_text
    assert "formats.nfe_valid" in explain(message, "en")["what_to_do"]
    after = world.settlement(order.gid)
    assert after.paid == before.paid and not after.nfe.get("chave") and not after.fulfillments

    with world.erp.store.write() as (conn, _now):  # the NF-e authorised in the ERP since: Retry
        documents = t.mfl_doctofiscal
        conn.execute(documents.update().where(documents.c.nropedidovenda == order.nro).values(statusdf="V"))
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    assert world.settlement(order.gid).nfe.get("chave")


def test_a_lower_case_or_padded_code_reads_as_the_installations_and_its_own_codes_are_named() -> None:
    plain = load_names()
    assert [plain.nfe_status(code) for code in ("V", " v ", "c", "C ", "D")] == ["V", "V", "C", "C", "D"]
    named = replace(plain, formats={**plain.formats, "nfe_valid": "A, V", "nfe_cancelled": "X"})
    assert [named.nfe_status(code) for code in ("a", "V", "x", "C")] == ["V", "V", "C", "C"]
    with pytest.raises(ValueError, match="nfe_valid"):
        replace(plain, formats={**plain.formats, "nfe_valid": "V", "nfe_cancelled": "V"})
