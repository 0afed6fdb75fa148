"""Records as the reference describes them (../shared/reference/consinco.md), not only as the sandbox
serves them: the app reads what it uses and requires nothing it computes itself.

- ProdutoEstoque: the stock figure is worked out from MRL_PRODUTOEMPRESA's columns (jobs.stock_map),
  so the API's own total (qtdDisponivel) is not required; only INDCONTROLAESTOQUEECOMM = 'N' sells an
  item without stock control, so a record without the flag, or with a null, is controlled.
- ProdutoSku: without the derived `ativo`, a SKU is active by its packaging's STATUS and its product's
  INDINTEGRAECOMMERCE (STATUSVENDA is per company and segment: the prices flow reads it).
- POST PedidoVenda's answer (its body is not public): the order's number is all it must say; an ERP
  answering {nroPedVenda} alone had its inserted order failed as "unexpected shape", every retry too.
"""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from erp_samples import LOGIN, SKU, STOCK
from erp_test_urls import API

from erp.errors import ErpUnexpectedShape
from erp.parse_catalogue import parse_sku, parse_stock
from erp.parse_orders import parse_insert_result


def _without(record: dict, *keys: str) -> dict:
    out = copy.deepcopy(record)
    for key in keys:
        out.pop(key, None)
    return out


def test_a_stock_record_without_the_apis_totals_or_the_flag_is_read_and_controlled() -> None:
    stock = parse_stock(_without(STOCK, "qtdDisponivel", "controlaEstoque"))
    assert stock.controlled is True and stock.available is None
    assert stock.store == parse_stock(STOCK).store


@pytest.mark.parametrize(("flag", "controlled"), [(None, True), ("S", True), ("N", False), (False, False)])
def test_only_n_lifts_the_stock_control(flag, controlled) -> None:
    assert parse_stock({**STOCK, "controlaEstoque": flag}).controlled is controlled


def test_the_sandbox_controls_an_item_whose_flag_is_not_n() -> None:
    from sandbox.consinco.catalogue import stock_record

    moment = datetime(2026, 11, 28, 12, 0)
    row = {"nroempresa": 1, "seqproduto": 919, "estqloja": 10.0, "estqdeposito": 0.0, "estqtroca": 0.0,
           "estqterceiro": 0.0, "qtdreservadavda": 0.0, "qtdreservadareceb": 0.0, "qtdreservadafixa": 0.0,
           "indcontrolaestoqueecomm": None, "estqsegurancaecommerce": 0.0, "dtaalteracao": moment,
           "dtahorultmovtoestq": moment}  # fmt: skip
    assert stock_record(row, [(1, False)])["controlaEstoque"] is True
    assert stock_record({**row, "indcontrolaestoqueecomm": "N"}, [(1, False)])["controlaEstoque"] is False


@pytest.mark.parametrize(
    ("status", "integrate", "active"),
    [("A", "S", True), ("I", "S", False), ("A", "N", False), ("A", None, True)],
)
def test_a_sku_without_ativo_is_active_by_its_packaging_and_product_flags(status, integrate, active) -> None:
    raw = {**_without(SKU, "ativo"), "statusEmbalagem": status, "indIntegraEcommerce": integrate}
    assert parse_sku(raw).active is active


def test_a_sku_with_neither_ativo_nor_its_packaging_status_is_unreadable() -> None:
    with pytest.raises(ErpUnexpectedShape):
        parse_sku(_without(SKU, "ativo", "statusEmbalagem"))


def test_the_insert_answer_needs_only_the_order_number(client, requests_mock) -> None:
    assert parse_insert_result({"nroPedVenda": 1001}).situacao is None
    from tests.erp.test_erp_orders import ORDER_IN

    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.post(API + "PedidoVenda", status_code=201, json={"nroPedVenda": 1001})
    result = client.insert_order(ORDER_IN)
    assert result.nro_pedvenda == 1001 and result.situacao is None
