"""The stock flow over an ERP paging by plain OFFSET, as TDN's Page / PageSize suggest (the
sandbox's format switch `paginacaoOffset`): stock sold while a pass reads it moves every later
row up one, and the row pushed past the page boundary must still reach Shopify."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from erp import factory as erp_factory
from jobs import stock
from sandbox.consinco import tables as t

from .chain import erp_update
from .test_stock_flow import erp_stock, expected

PAGE = 3  # the ERP client's page size here: company 1's stock rows span several pages


def test_stock_sold_mid_read_loses_no_other_row(chain, monkeypatch):
    erp = chain.consinco.erp
    erp.formats.set(offset_paging=True)
    shop = chain.install("estoque-offset", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    monkeypatch.setattr(stock, "erp_for_shop", lambda shop_id: erp_factory.for_shop(shop_id, page_size=PAGE))
    pe = t.mrl_produtoempresa
    with erp.store.read() as conn:
        products = sorted(conn.execute(select(pe.c.seqproduto).where(pe.c.nroempresa == 1)).scalars())
    assert len(products) > 2 * PAGE
    # one change time each, an hour ago (the next pass's overlap no longer covers them), in product
    # order (the order the ERP pages them in); every row stocked and controlled: a level lost is a
    # level left at the catalog's 0
    with erp.store.write() as (conn, now):
        for n, seq in enumerate(products):
            conn.execute(pe.update().where(pe.c.nroempresa == 1, pe.c.seqproduto == seq).values(
                dtaalteracao=now - timedelta(hours=1) + timedelta(seconds=n), estqloja=120 + n,
                indcontrolaestoqueecomm="S", estqsegurancaecommerce=0, qtdreservadavda=0,
                qtdreservadareceb=0, qtdreservadafixa=0,
            ))  # fmt: skip
    requests = 0

    def sell_the_first_row(resource: str, params: Mapping[str, str]) -> None:
        """Before the pass's second stock request: the first product of page 1 is sold."""
        nonlocal requests
        if resource.startswith("ProdutoEstoque") and params.get("nroempresa") == "1":
            requests += 1
            if requests == 2:
                erp_update(chain, pe, {"nroempresa": 1, "seqproduto": products[0]}, estqloja=100)

    erp.pager.before_page = sell_the_first_row
    stock.run(shop.shop_id)
    erp.pager.before_page = None
    assert requests > 2  # the read went on past the sale
    stock.run(shop.shop_id)  # the product sold mid-read: the next pass reads it

    rows = erp_stock(chain, 1)
    levels = {}
    for sku, data in catalog.items():
        row, s = rows[sku]
        want = expected(row, s, weighed=data["weighed"])
        assert want is not None and want > 0, sku
        levels[sku] = (chain.level(shop, data["inventory_item_id"], 1), want)
    assert {sku: got for sku, (got, _) in levels.items()} == {sku: want for sku, (_, want) in levels.items()}


def test_dated_stock_sold_mid_read_loses_no_other_row(chain, monkeypatch):
    """The same with the change column kept as a date (DTA, `alteracaoSoData`): every row last
    moved three days ago is one run of one change time, paged by number; the sale moves the first
    row to today, the others up one. The pass finds page 2 shifted (the last row of page 1, asked
    alone, is another) and asks page 1 again: no level is left behind."""
    erp = chain.consinco.erp
    erp.formats.set(offset_paging=True, date_only_changes=True)
    shop = chain.install("estoque-dta-offset", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    monkeypatch.setattr(stock, "erp_for_shop", lambda shop_id: erp_factory.for_shop(shop_id, page_size=PAGE))
    pe = t.mrl_produtoempresa
    with erp.store.read() as conn:
        products = sorted(conn.execute(select(pe.c.seqproduto).where(pe.c.nroempresa == 1)).scalars())
    assert len(products) > 2 * PAGE
    with erp.store.write() as (conn, now):
        for n, seq in enumerate(products):
            conn.execute(pe.update().where(pe.c.nroempresa == 1, pe.c.seqproduto == seq).values(
                dtaalteracao=now - timedelta(days=3) + timedelta(seconds=n), estqloja=120 + n,
                indcontrolaestoqueecomm="S", estqsegurancaecommerce=0, qtdreservadavda=0,
                qtdreservadareceb=0, qtdreservadafixa=0,
            ))  # fmt: skip
    requests = 0

    def sell_the_first_row(resource: str, params: Mapping[str, str]) -> None:
        nonlocal requests
        if resource.startswith("ProdutoEstoque") and params.get("nroempresa") == "1":
            requests += 1
            if requests == 2:
                erp_update(chain, pe, {"nroempresa": 1, "seqproduto": products[0]}, estqloja=100)

    erp.pager.before_page = sell_the_first_row
    stock.run(shop.shop_id)
    erp.pager.before_page = None
    assert requests > 2
    stock.run(shop.shop_id)  # the day is read again (a date column): nothing else moves

    rows = erp_stock(chain, 1)
    levels = {}
    for sku, data in catalog.items():
        row, s = rows[sku]
        want = expected(row, s, weighed=data["weighed"])
        assert want is not None and want > 0, sku
        levels[sku] = (chain.level(shop, data["inventory_item_id"], 1), want)
    assert {sku: got for sku, (got, _) in levels.items()} == {sku: want for sku, (_, want) in levels.items()}
