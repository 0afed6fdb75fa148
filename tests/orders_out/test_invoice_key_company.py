"""ERP -> Shopify: a key is held to the order's company and to the order itself, whatever the event
names: its cUF is the issuing company's state, its issuer the order's company (by CNPJ root), and
its document not issued before the order existed — refused before anything is written, captured
or fulfilled, and applied on Retry once the ERP is corrected. (Without an ERP: test_invoice_keys.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from erp.client import ErpClient
from erp.records import Invoice
from jobs import company_cnpj, invoice_keys, invoices
from jobs.nfe import check_digit
from ledger.errors import Rejected
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.consinco.order_records import format_time
from shopify_app.api_explain import explain

from .conftest import NRO_EMPRESA, World
from .test_invoice_key_guards import _nothing_written


def _with(key: str, start: int, end: int, value: str) -> str:
    body = key[:start] + value + key[end:43]
    return body + str(check_digit(body))


def test_a_key_whose_cuf_is_not_the_issuing_companys_state_is_refused(world: World) -> None:
    """The key's cUF is the issuer's state (SEFAZ rejection 226 otherwise): a key with another state's
    cUF, every other field the document's and its check digit right, names no authorised NF-e."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    real = document["chaveAcesso"]
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    company = next(c for c in client.companies() if c.nro_empresa == NRO_EMPRESA)
    client.close()
    assert company.uf == "SP" and real[:2] == "35", (company.uf, real[:2])  # the app can know the state
    forged = _with(real, 0, 2, "33")  # RJ
    world.erp_key(order.nro, forged)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert detail["code"] == "NFE_KEY_MISMATCH" and detail["part"] == "uf", detail
    assert (detail["in_key"], detail["in_document"]) == ("33", "35 (SP)"), detail
    _nothing_written(world, order.gid)
    explained = explain(message, "pt")
    assert explained is not None and "UF da empresa emitente" in explained["what_happened"]
    world.erp_key(order.nro, real, event=False)  # corrected in the ERP; the event stays as read
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    assert world.settlement(order.gid).nfe.get("chave") == real


def test_an_nfe_issued_before_the_order_existed_is_refused(world: World) -> None:
    """An NF-e (key AAMM and dtaHorEmissao alike) issued a year before the order was placed cannot be
    this order's document: refused, nothing written on the order nor captured."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    issued = datetime.now(UTC) - timedelta(days=400)
    old = _with(document["chaveAcesso"], 2, 6, f"{issued:%y%m}")
    world.erp_key(order.nro, old)
    world.rewrite_event(
        order.nro, "F", lambda d: d["documentoFiscal"].update(dtaHorEmissao=format_time(issued))
    )
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.nropedidovenda == order.nro).values(dtahoremissao=issued))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert detail["code"] == "NFE_KEY_INVALID" and "before the order existed" in detail["rule"], detail
    _nothing_written(world, order.gid)
    explained = explain(message, "en")
    assert explained is not None and "before the order was created" in explained["what_happened"]


OURS, THEIRS = "20695448000184", "11222333000181"
ISSUED = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def _key(issuer: str) -> str:
    body = "35" + "2611" + issuer + "55" + "001" + "000003589" + "1" + "98183992"
    return body + str(check_digit(body))


def test_a_document_of_another_company_is_refused_though_it_names_its_issuer(monkeypatch) -> None:
    """The order is of ERP company OURS; the event's document names issuer THEIRS (another company's
    root) and its key says THEIRS too: the order's company is held to all the same."""
    asked = []
    monkeypatch.setattr(company_cnpj, "of", lambda shop, nro: asked.append(nro) or OURS)
    doc = Invoice(seq_nf=7, key=_key(THEIRS), number=3589, series="1", model="55", status="V",
                  issued_at=ISSUED, total=Decimal("50.00"), issuer_cnpj=THEIRS,
                  danfe_url=None, xml_url=None)  # fmt: skip
    with pytest.raises(Rejected) as raised:
        invoice_keys.checked(doc, [doc], company=(1, 2), now=ISSUED + timedelta(minutes=5))
    assert raised.value.code == "NFE_KEY_MISMATCH" and raised.value.detail["part"] == "company"
    assert asked == [2]
