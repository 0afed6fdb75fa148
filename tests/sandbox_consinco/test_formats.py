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
    dated = {"alteracaoSoData": True, "paginacaoOffset": False, "textoMaiusculo": False}
    assert answer.status_code == 200 and answer.json() == dated
    assert api.get(f"{served.root}_sandbox/estado").json()["formatos"] == dated
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
    off = {"alteracaoSoData": False, "paginacaoOffset": False, "textoMaiusculo": False}
    assert api.delete(f"{served.root}_sandbox/formatos").json() == off
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


def _ordered(body: dict) -> list[tuple]:
    return [(i["nroEmpresa"], i["nroSegmento"], i["seqProduto"], i["qtdEmbalagem"]) for i in body["items"]]


def test_offset_paging_has_no_cursor_and_moves_rows_up_when_one_changes_mid_read(served, api):
    """`paginacaoOffset`: Page / PageSize by plain OFFSET, as TDN suggests a real installation
    pages. A row of page 1 changed before page 2 is asked for leaves the window, every later row
    moves up one: page 2 starts one row late (the contract's keyset paging starts it on time)."""
    url = f"{served.url}/api/v1/{PRICES}"
    answer = api.post(f"{served.root}_sandbox/formatos", json={"paginacaoOffset": True})
    assert answer.json() == {"alteracaoSoData": False, "paginacaoOffset": True, "textoMaiusculo": False}
    first = api.get(url, params={"PageSize": 5}).json()
    pinned = {"PageSize": 5, "DtaHorSnapshot": first["dtaHorSnapshot"]}
    whole = _ordered(api.get(url, params={**pinned, "PageSize": 11}).json())
    assert first["nextCursor"] is None and first["hasNext"] and _ordered(first) == whole[:5]

    ps, key = t.mrl_prodempseg, whole[0]
    with served.erp.store.write() as (conn, now):
        conn.execute(ps.update().where(ps.c.nroempresa == key[0], ps.c.nrosegmento == key[1],
                                       ps.c.seqproduto == key[2], ps.c.qtdembalagem == key[3])
                     .values(dtaalteracao=now))  # fmt: skip
    second = api.get(url, params={**pinned, "Page": 2}).json()
    assert _ordered(second) == whole[6:11]  # whole[5] is never served
    assert second["total"] == first["total"] - 1  # counted again for each request
    # a Cursor is not a parameter of this server: ignored, as any other it does not list
    with_cursor = api.get(url, params={**pinned, "Page": 2, "Cursor": "eyJ4Ijo"}).json()
    assert _ordered(with_cursor) == _ordered(second)
    keyset = api.delete(f"{served.root}_sandbox/formatos").json()
    assert keyset == {"alteracaoSoData": False, "paginacaoOffset": False, "textoMaiusculo": False}
    assert api.post(f"{served.root}_sandbox/formatos", json={"paginacaoOffset": 1}).status_code == 400


def test_offset_paging_of_skus(served, api):
    """ProdutoSku (ordered once per read by the keyset pager) pages by OFFSET all the same."""
    served.erp.formats.set(offset_paging=True)
    url = f"{served.url}/api/v1/Cadastros/ProdutoSku"
    first = api.get(url, params={"PageSize": 7}).json()
    pinned = {"PageSize": 7, "DtaHorSnapshot": first["dtaHorSnapshot"]}
    whole = [i["idSku"] for i in api.get(url, params={**pinned, "PageSize": 14}).json()["items"]]
    second = api.get(url, params={**pinned, "Page": 2}).json()
    assert [i["idSku"] for i in first["items"] + second["items"]] == whole and second["nextCursor"] is None
