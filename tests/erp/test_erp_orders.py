"""Order insert / edit / cancel through the client (requests-mock), and their payloads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from erp_samples import INSERTED, LOGIN, ORDER, sample
from erp_test_urls import API

from erp.errors import ErpRejected
from erp.payloads import edit_payload, order_payload
from erp.records import CustomerInput, OrderInput, OrderLineInput, PaymentInput

ORDER_IN = OrderInput(
    seq_canal_venda=7,
    channel_order_id="gid://shopify/Order/1001",
    ordered_at=datetime(2026, 11, 28, 12, 0, tzinfo=timezone(timedelta(hours=-3))),  # Sao Paulo
    nro_empresa=1,
    nro_segmento=2,
    cod_geral_oper=207,
    freight=Decimal("15.00"),
    obs="Shopify #1001",
    customer=CustomerInput(cpf_cnpj="529.982.247-25", name="MARIA SILVA", email="maria@example.com", uf="SP"),
    lines=(
        OrderLineInput(
            qty=Decimal(2), ean="7891234567895", unit_price=Decimal("215.90"), table_price=Decimal("239.40")
        ),
        OrderLineInput(qty=Decimal("1.234"), seq_produto=77, qtd_embalagem=Decimal(1)),
    ),
    payments=(PaymentInput(nro_forma_pagto=3, amount=Decimal("447.80"), channel_payment_id="pi_123"),),
)


def test_order_payload_follows_the_tdn_body() -> None:
    body = order_payload(ORDER_IN)
    assert body["seqCanalVenda"] == 7 and body["idPedidoCanalVenda"] == "gid://shopify/Order/1001"
    assert body["nroEmpresa"] == 1 and body["nroSegmento"] == 2 and body["codGeralOper"] == 207
    assert body["vlrTotFrete"] == 15 and body["tipoEntrega"] == "E"
    assert body["clienteDto"]["cpfCnpj"] == "529.982.247-25" and body["clienteDto"]["fisicaJuridica"] == "F"
    first, weighed = body["itemDto"]
    assert first == {
        "codAcesso": "7891234567895",
        "seqProduto": None,
        "qtdPedida": 2,
        "qtdEmbalagem": None,
        "vlrEmbTabPreco": 239.4,
        "vlrEmbInformado": 215.9,
        "vlrEmbTabPromoc": None,
        "vlrEmbDesconto": 0,
        "observacaoItem": None,
    }
    assert weighed["qtdPedida"] == 1.234 and weighed["seqProduto"] == 77 and weighed["qtdEmbalagem"] == 1
    assert body["formaPagtoDto"] == [
        {"nroFormaPagto": 3, "vlrPagto": 447.8, "qtdParcelas": 1, "idPagtoCanalVenda": "pi_123"}
    ]
    json.dumps(body)  # serialisable as it is


def test_order_date_sent_in_utc_without_offset() -> None:
    assert order_payload(ORDER_IN)["dtaHorPedidoCanalVenda"] == "2026-11-28T15:00:00.000000"


def test_line_needs_a_product_reference() -> None:
    with pytest.raises(ValueError):
        OrderLineInput(qty=Decimal(1))


def test_edit_payload_only_sends_what_changes() -> None:
    assert edit_payload(None, freight=Decimal("9.90")) == {"vlrTotFrete": 9.9}
    body = edit_payload([OrderLineInput(qty=Decimal(1), ean="789")], obs="menos 1")
    assert body["obsPedido"] == "menos 1" and body["itemDto"][0]["codAcesso"] == "789"
    with pytest.raises(ValueError):
        edit_payload([])
    assert "formaPagtoDto" not in body  # left out: the ERP keeps its payment forms
    payment = PaymentInput(2, Decimal("61.30"), installments=1, channel_payment_id="77")
    paid = edit_payload(None, payments=[payment])
    assert paid == {"formaPagtoDto": [{"nroFormaPagto": 2, "vlrPagto": 61.3, "qtdParcelas": 1,
                                       "idPagtoCanalVenda": "77"}]}  # fmt: skip


def test_insert_then_repeat_surfaces_duplicated(requests_mock, client) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    post = requests_mock.post(
        API + "PedidoVenda",
        [
            {"status_code": 201, "json": INSERTED},
            {"status_code": 200, "json": sample(INSERTED, duplicado=True)},
        ],
    )
    first, second = client.insert_order(ORDER_IN), client.insert_order(ORDER_IN)
    assert (first.nro_pedvenda, first.duplicated, first.situacao) == (1001, False, "L")
    assert (second.nro_pedvenda, second.duplicated) == (1001, True)
    assert first.total == Decimal("462.8")
    assert post.request_history[0].json() == post.request_history[1].json() == order_payload(ORDER_IN)


def test_insert_rejected_by_business_rule(requests_mock, client, sleeps) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    body = {
        "codigo": "PRODUTO_NAO_ENCONTRADO",
        "mensagem": "Produto não encontrado.",
        "campo": "itemDto[0].codAcesso",
    }
    post = requests_mock.post(API + "PedidoVenda", status_code=422, json=body)
    with pytest.raises(ErpRejected) as caught:
        client.insert_order(ORDER_IN)
    assert caught.value.campo == "itemDto[0].codAcesso" and post.call_count == 1 and sleeps == []


def test_edit_and_cancel(requests_mock, client) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    put = requests_mock.put(API + "PedidoVenda/1001", json=sample(ORDER, situacaoPed="L"))
    order = client.edit_order(1001, [OrderLineInput(qty=Decimal(1), ean="7891234567895")], freight=Decimal(0))
    assert order.situacao == "L" and put.last_request.json()["vlrTotFrete"] == 0
    cancelled = sample(
        ORDER, situacaoPed="C", motCancelamento="Cliente desistiu", dtaCancelamento=ORDER["dtaAlteracao"]
    )
    post = requests_mock.post(API + "PedidoVenda/1001/Cancelamento", json=cancelled)
    order = client.cancel_order(1001, "Cliente desistiu")
    assert post.last_request.json() == {"motivo": "Cliente desistiu"}
    assert (
        order.situacao == "C" and order.cancel_reason == "Cliente desistiu" and order.cancelled_at is not None
    )


def test_edit_refused_while_separating(requests_mock, client) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.put(
        API + "PedidoVenda/1001",
        status_code=409,
        json={"codigo": "PEDIDO_EM_SEPARACAO", "mensagem": "Pedido em separação.", "campo": None},
    )
    with pytest.raises(ErpRejected) as caught:
        client.edit_order(1001, freight=Decimal(1))
    assert (caught.value.status, caught.value.codigo, caught.value.campo) == (
        409,
        "PEDIDO_EM_SEPARACAO",
        None,
    )
