"""ProdutoSku pages from keys ordered once per snapshot (its change time is an expression no
index serves): the same promises as the keyset pages, under writes during the read."""

from __future__ import annotations

import random

import pytest

from tests.sandbox_consinco.test_paging import _read_all


def _key(item: dict) -> tuple:
    return (item["seqProduto"], item["qtdEmbalagem"])


@pytest.mark.parametrize("mode", ["cursor", "page"])
def test_sku_paging_under_writes_neither_skips_nor_repeats(served, api, mode):
    url = f"{served.url}/api/v1/Cadastros/ProdutoSku"
    everything, _ = _read_all(api, url, {"PageSize": 1000}, "cursor")
    simulator = served.erp.simulator
    rng = random.Random(11)
    touched: set[int] = set()

    def write_some() -> None:
        for seq in rng.sample(range(1, simulator.max_product + 1), 3):
            simulator.deactivate_product(seq)
            touched.add(seq)

    items, snapshot = _read_all(api, url, {"PageSize": 37}, mode, write_some)
    keys = [_key(i) for i in items]
    assert len(keys) == len(set(keys)), "a row was repeated"
    order = [(i["dtaHorAlteracao"], *_key(i)) for i in items]
    assert order == sorted(order), "rows out of (change time, key) order"
    untouched = {_key(i) for i in everything if i["seqProduto"] not in touched}
    assert untouched <= set(keys), "an unchanged row was skipped"
    assert touched, "the test must write during the read"

    again, _ = _read_all(api, url, {"PageSize": 37, "DtaHorAlteracao": snapshot}, mode)
    assert {i["seqProduto"] for i in again} == touched
    assert all(i["indIntegraEcommerce"] == "N" and i["ativo"] is False for i in again)


def test_sku_total_is_the_window_and_pages_fill(served, api):
    url = f"{served.url}/api/v1/Cadastros/ProdutoSku"
    first = api.get(url, params={"PageSize": 50}).json()
    items, _ = _read_all(api, url, {"PageSize": 50}, "cursor")
    assert first["total"] == len(items) == len({_key(i) for i in items})
    assert len(first["items"]) == 50 and first["hasNext"]
