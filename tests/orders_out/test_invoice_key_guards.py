"""ERP -> Shopify: an NF-e key is held to its issuer when the event omits cnpjEmitente, and a key or
an issue still to come is refused — before anything is written, captured or fulfilled."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from erp.client import ErpClient
from jobs import company_cnpj, invoices
from jobs.nfe import check_digit
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.api_explain import explain

from .conftest import World

ANOTHER_RETAILER = "11222333000181"


def _with(key: str, start: int, end: int, value: str) -> str:
    body = key[:start] + value + key[end:43]
    return body + str(check_digit(body))


def _nothing_written(world: World, gid: str) -> None:
    state = world.settlement(gid)
    assert state.nfe == {} and state.paid == 0 and not state.active_fulfillments, state
    assert "NF-e emitida" not in state.tags


def _forge_issuer(world: World) -> tuple[Any, str, str]:
    """An order invoiced in the ERP whose F event gives a key carrying another retailer's CNPJ
    and no cnpjEmitente: (the order, the forged key, the document's real key)."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    real = document["chaveAcesso"]
    forged = _with(real, 6, 20, ANOTHER_RETAILER)
    world.erp_key(order.nro, forged)
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].pop("cnpjEmitente", None))
    return order, forged, real


def _refused_for_issuer(world: World, order: Any, forged: str, real: str, whose: str) -> Message:
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert detail["code"] == "NFE_KEY_MISMATCH" and detail["part"] == "issuer", detail
    assert (detail["in_key"], detail["in_document"]) == (ANOTHER_RETAILER, real[6:20]), detail
    text = message.error_text or ""
    assert forged in text and ANOTHER_RETAILER in text and real[6:20] in text and whose in text, text
    _nothing_written(world, order.gid)
    return message


def _retried_once_corrected(world: World, order: Any, message: Message, real: str) -> None:
    world.erp_key(order.nro, real, event=False)  # corrected in the ERP; the event stays as read
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    with session_scope() as session:
        done = session.get(Message, message.id)
        assert done is not None and done.response_payload["key"] == real
    assert world.settlement(order.gid).nfe.get("chave") == real


def test_a_key_of_another_company_is_refused_by_the_erp_orders_copy_when_the_event_omits_the_issuer(
    world: World,
) -> None:
    order, forged, real = _forge_issuer(world)
    world.poll()
    message = _refused_for_issuer(world, order, forged, real, "the ERP order's copy of the document's")
    _retried_once_corrected(world, order, message, real)


def test_a_key_of_another_company_is_refused_by_the_orders_company_when_no_copy_names_the_issuer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = ErpClient.get_order

    def without_issuer(self: ErpClient, nro_pedvenda: int) -> Any:
        order = read(self, nro_pedvenda)
        return replace(order, invoices=tuple(replace(d, issuer_cnpj=None) for d in order.invoices))

    monkeypatch.setattr(ErpClient, "get_order", without_issuer)
    company_cnpj.reset()
    order, forged, real = _forge_issuer(world)
    world.poll()
    message = _refused_for_issuer(world, order, forged, real, "the order's ERP company's")
    explained = explain(message, "pt")
    assert explained is not None and "CNPJ da empresa do pedido" in explained["what_happened"]
    _retried_once_corrected(world, order, message, real)


def test_a_key_and_an_issue_still_to_come_are_refused(world: World) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    future = _with(document["chaveAcesso"], 2, 6, "2803")  # AAMM March 2028
    world.erp_key(order.nro, future, event=False)
    world.rewrite_event(
        order.nro,
        "F",
        lambda data: data["documentoFiscal"].update(
            chaveAcesso=future, dtaHorEmissao="2028-03-10T10:00:00-03:00"
        ),
    )
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert (
        detail["code"] == "NFE_KEY_INVALID" and "AAMM 2803 is later than the current month" in detail["rule"]
    )
    _nothing_written(world, order.gid)
    explained = explain(message, "en")
    assert explained is not None and "still to come" in explained["what_happened"]
