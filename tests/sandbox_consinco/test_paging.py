"""Paging never skips or repeats a row while the ERP keeps writing; incremental reads are exact."""

from __future__ import annotations

import random

import pytest


def _key(item: dict) -> tuple:
    return (item["nroEmpresa"], item["nroSegmento"], item["seqProduto"], item["qtdEmbalagem"])


def _read_all(api, url: str, params: dict, mode: str, between=None) -> tuple[list[dict], str]:
    """Every page of one read; `between()` runs after each page (writes during the read)."""
    first = api.get(url, params=params)
    assert first.status_code == 200, first.text
    body = first.json()
    items, snapshot = list(body["items"]), body["dtaHorSnapshot"]
    while body["hasNext"]:
        if between:
            between()
        follow = dict(params)
        if mode == "cursor":
            follow["Cursor"] = body["nextCursor"]
        else:
            follow.update(Page=body["page"] + 1, DtaHorSnapshot=snapshot)
        body = api.get(url, params=follow).json()
        items += body["items"]
    return items, snapshot


@pytest.mark.parametrize("mode", ["cursor", "page"])
def test_paging_under_concurrent_writes_neither_skips_nor_repeats(served, api, mode):
    url = f"{served.url}/api/v1/Cadastros/TabelaPrecoItem"
    simulator = served.erp.simulator
    rng = random.Random(5)
    touched: set[tuple] = set()

    def write_some() -> None:
        products = rng.sample(range(1, simulator.max_product + 1), 4)
        touched.update(change.key for change in simulator.update_prices(products, 1.07))

    items, snapshot = _read_all(api, url, {"PageSize": 97}, mode, write_some)
    keys = [_key(i) for i in items]
    assert len(keys) == len(set(keys)), "a row was repeated"
    total = served.erp.state()["precos"]
    untouched_seen = set(keys) - touched
    assert len(untouched_seen) == total - len(touched), "an unchanged row was skipped"
    assert touched, "the test must write during the read"

    again, _ = _read_all(api, url, {"PageSize": 97, "DtaHorAlteracao": snapshot}, mode)
    assert {_key(i) for i in again} == touched
    assert set(keys) | {_key(i) for i in again} == set(keys) | touched


def test_incremental_read_returns_exactly_what_changed(served, api):
    url = f"{served.url}/api/v1/Cadastros/TabelaPrecoItem"
    _, watermark = _read_all(api, url, {"PageSize": 500}, "cursor")
    before = {(_key(i)): i["precoValidNormal"] for i in _read_all(api, url, {"PageSize": 1000}, "cursor")[0]}
    changes = served.erp.simulator.update_prices([3, 17], factor=1.1, nroempresa=2)
    changed, new_mark = _read_all(api, url, {"PageSize": 50, "DtaHorAlteracao": watermark}, "cursor")
    assert {_key(i) for i in changed} == {c.key for c in changes}
    assert all(k[0] == 2 and k[2] in (3, 17) for k in {_key(i) for i in changed})
    for item in changed:
        assert item["precoValidNormal"] == pytest.approx(round(before[_key(item)] * 1.1, 2), abs=0.011)
    assert _read_all(api, url, {"DtaHorAlteracao": new_mark}, "cursor")[0] == []


def test_incremental_reads_of_other_resources(served, api):
    erp = served.erp
    base = f"{served.url}/api/v1/Cadastros"
    marks = {
        name: api.get(f"{base}/{name}").json()["dtaHorSnapshot"]
        for name in ("ProdutoEstoque", "ProdutoCV", "ProdutoSku")
    }
    erp.simulator.move_stock(1, 5, 12)
    erp.simulator.deactivate_product(9)
    stock = api.get(f"{base}/ProdutoEstoque", params={"DtaHorAlteracao": marks["ProdutoEstoque"]}).json()[
        "items"
    ]
    assert [(s["nroEmpresa"], s["seqProduto"]) for s in stock] == [(1, 5)]
    products = api.get(f"{base}/ProdutoCV", params={"DtaHorAlteracao": marks["ProdutoCV"]}).json()["items"]
    assert [(p["seqProduto"], p["indIntegraEcommerce"]) for p in products] == [(9, "N")]
    skus = api.get(f"{base}/ProdutoSku", params={"DtaHorAlteracao": marks["ProdutoSku"]}).json()["items"]
    assert skus and {s["seqProduto"] for s in skus} == {9} and not any(s["ativo"] for s in skus)
    assert all(s["idSku"] == f"P9E{s['qtdEmbalagem']}" for s in skus)


def test_filters_and_bad_parameters(served, api):
    url = f"{served.url}/api/v1/Cadastros/TabelaPrecoItem"
    body = api.get(url, params={"NroEmpresa": 2, "NroSegmento": 1, "PageSize": 1000}).json()
    assert body["total"] == 300 and {(i["nroEmpresa"], i["nroSegmento"]) for i in body["items"]} == {(2, 1)}
    bad = api.get(url, params={"PageSize": 5000})
    assert bad.status_code == 400 and bad.json()["campo"] == "PageSize"
    assert api.get(url, params={"DtaHorAlteracao": "ontem"}).json()["codigo"] == "REQUISICAO_INVALIDA"
    assert api.get(url, params={"Cursor": "nao-e-um-cursor"}).status_code == 400
