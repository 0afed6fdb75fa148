"""ProdutoEstoque: loja + deposito - reservations + terceiro; unlimited without stock control;
safety stock reported and subtracted from what e-commerce may sell."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.catalogue import stock_record

ROW = {
    "nroempresa": 1,
    "seqproduto": 919,
    "estqloja": 120.0,
    "estqdeposito": 48.0,
    "estqtroca": 2.0,
    "estqterceiro": 6.0,
    "qtdreservadavda": 5.0,
    "qtdreservadareceb": 1.0,
    "qtdreservadafixa": 2.0,
    "indcontrolaestoqueecomm": "S",
    "estqsegurancaecommerce": 10.0,
    "dtaalteracao": None,
    "dtahorultmovtoestq": None,
}


def test_formula_safety_stock_and_packagings():
    record = stock_record(ROW, [(1, False), (12, False)])
    assert record["qtdDisponivel"] == 120 + 48 - 5 - 1 - 2 + 6  # troca is not sellable
    assert record["qtdDisponivelEcommerce"] == 166 - 10
    assert [s["qtdDisponivelEcommerce"] for s in record["skus"]] == [156, 13]
    assert [s["idSku"] for s in record["skus"]] == ["P919E1", "P919E12"]


def test_without_stock_control_is_unlimited():
    record = stock_record({**ROW, "indcontrolaestoqueecomm": "N"}, [(1, False)])
    assert record["controlaEstoque"] is False and record["qtdDisponivelEcommerce"] is None
    assert record["skus"][0]["qtdDisponivelEcommerce"] is None and record["qtdDisponivel"] == 166


def test_never_negative_and_weighed_keeps_decimals():
    low = stock_record({**ROW, "estqloja": 0.0, "estqdeposito": 0.0, "estqterceiro": 0.0}, [(1, False)])
    assert low["qtdDisponivel"] == -8 and low["qtdDisponivelEcommerce"] == 0
    kg = stock_record(
        {
            **ROW,
            "estqloja": 12.345,
            "estqdeposito": 0.0,
            "estqterceiro": 0.0,
            "qtdreservadavda": 0.0,
            "qtdreservadareceb": 0.0,
            "qtdreservadafixa": 0.0,
            "estqsegurancaecommerce": 0.5,
        },
        [(1, True)],
    )
    assert kg["skus"][0]["qtdDisponivelEcommerce"] == pytest.approx(11.845)


def test_api_reports_the_database_rows(served, api):
    pe = t.mrl_produtoempresa
    with served.erp.store.read() as conn:
        rows = {(r["nroempresa"], r["seqproduto"]): r for r in conn.execute(select(pe)).mappings()}
    items = []
    body = api.get(f"{served.url}/api/v1/Cadastros/ProdutoEstoque", params={"PageSize": 1000}).json()
    items += body["items"]
    assert body["total"] == len(rows) == len(items)
    for item in items:
        row = rows[(item["nroEmpresa"], item["seqProduto"])]
        expected = (
            row["estqloja"]
            + row["estqdeposito"]
            - row["qtdreservadavda"]
            - row["qtdreservadareceb"]
            - row["qtdreservadafixa"]
            + row["estqterceiro"]
        )
        assert item["qtdDisponivel"] == pytest.approx(expected)
        assert item["controlaEstoque"] == (row["indcontrolaestoqueecomm"] == "S")
        assert item["estqSegurancaEcommerce"] == row["estqsegurancaecommerce"]
        if item["controlaEstoque"]:
            assert item["qtdDisponivelEcommerce"] == pytest.approx(
                max(0, expected - row["estqsegurancaecommerce"])
            )
        else:
            assert item["qtdDisponivelEcommerce"] is None
    assert any(not i["controlaEstoque"] for i in items) and any(i["estqSegurancaEcommerce"] for i in items)
