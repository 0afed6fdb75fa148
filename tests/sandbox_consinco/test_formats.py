"""Format switches: the prices' and stock's change columns kept as dates (Consinco's DTA columns)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.catalogue import catalogue_resources
from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.paging import format_time

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PRICES, STOCK = "Cadastros/TabelaPrecoItem", "Cadastros/ProdutoEstoque"


def _changed_at(erp, key: tuple) -> dt.datetime:
    ps = t.mrl_prodempseg
    with erp.store.read() as conn:
        return conn.execute(
            select(ps.c.dtaalteracao).where(
                ps.c.nroempresa == key[0], ps.c.nrosegmento == key[1],
                ps.c.seqproduto == key[2], ps.c.qtdembalagem == key[3],
            )
        ).scalar_one()  # fmt: skip


def _keys(body: dict) -> set[tuple]:
    return {(i["nroEmpresa"], i["nroSegmento"], i["seqProduto"], i["qtdEmbalagem"]) for i in body["items"]}


def test_date_only_changes_serve_and_compare_prices_and_stock_by_their_day(served, api):
    url = f"{served.url}/api/v1/"
    assert "T" in api.get(url + PRICES, params={"PageSize": 1}).json()["items"][0]["dtaAlteracao"]
    key = served.erp.simulator.update_prices([3], 1.1)[0].key
    changed = _changed_at(served.erp, key)
    since = {"PageSize": 1000, "DtaHorAlteracao": format_time(changed)}
    assert key in _keys(api.get(url + PRICES, params=since).json())

    answer = api.post(f"{served.root}_sandbox/formatos", json={"alteracaoSoData": True})
    assert answer.status_code == 200 and answer.json() == {"alteracaoSoData": True}
    assert api.get(f"{served.root}_sandbox/estado").json()["formatos"] == {"alteracaoSoData": True}
    for path in (PRICES, STOCK):
        items = api.get(url + path, params={"PageSize": 1000}).json()["items"]
        assert items and all(DAY.match(i["dtaAlteracao"]) for i in items), items[0]
    assert (
        "T"
        in api.get(url + "Cadastros/ProdutoSku", params={"PageSize": 1}).json()["items"][0]["dtaHorAlteracao"]
    )  # a DTAHOR column stays a date-time
    # the row's date is before its own change time: a read since that time no longer has it,
    # a read since the day's start does
    assert key not in _keys(api.get(url + PRICES, params=since).json())
    day = dt.datetime.combine(changed.date(), dt.time())
    by_day = api.get(url + PRICES, params={"PageSize": 1000, "DtaHorAlteracao": format_time(day)}).json()
    assert key in _keys(by_day)  # (the chain was generated today: its first rows, by key)

    assert api.post(f"{served.root}_sandbox/formatos", json={"alteracaoSoData": "sim"}).status_code == 400
    assert api.delete(f"{served.root}_sandbox/formatos").json() == {"alteracaoSoData": False}
    assert key in _keys(api.get(url + PRICES, params=since).json())


def test_the_dated_window_on_postgresql(consinco_pg_url):
    """day_of is SQL of its own per dialect: the same window on PostgreSQL."""
    erp = ConsincoErp(consinco_pg_url, skus=20, companies=1, seed=3)
    try:
        key = erp.simulator.update_prices([2], 1.1)[0].key
        changed = _changed_at(erp, key)
        dated = catalogue_resources(lambda: "", erp.store.clock.today, dates_only=True)[PRICES]
        day = dt.datetime.combine(changed.date(), dt.time())
        since_change = erp.pager.read(dated, {"PageSize": "1000", "DtaHorAlteracao": format_time(changed)})
        since_day = erp.pager.read(dated, {"PageSize": "1000", "DtaHorAlteracao": format_time(day)})
        assert key not in _keys(since_change) and key in _keys(since_day)
        assert {i["dtaAlteracao"] for i in since_day["items"]} == {changed.date().isoformat()}
    finally:
        erp.close()
