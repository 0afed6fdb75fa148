"""The prices and stock flows over an ERP keeping their change columns as dates (Consinco's DTA
columns: MRL_PRODEMPSEG / MRL_PRODUTOEMPRESA.DTAALTERACAO served as "2026-11-28"): a change made
after a pass, the same day, is stamped with the date the pass already read, and must still land."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, insert, select

from jobs import prices, stock
from jobs.price_map import erp_today
from sandbox.consinco import tables as t
from settings import get_settings

from .chain import erp_update


def _dates_only(chain) -> None:
    chain.consinco.erp.formats.set(date_only_changes=True)


def test_a_price_changed_later_the_same_day_reaches_shopify(chain):
    _dates_only(chain)
    shop = chain.install("preco-do-dia", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)
    assert prices.run(shop.shop_id, today=today).variants_sent == len(catalog)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=77.7, precovalidpromoc=0)

    again = prices.run(shop.shop_id, today=today)
    doc = chain.variant(shop, data["variant_id"])
    assert (Decimal(str(doc["price"])), doc.get("compareAtPrice")) == (Decimal("77.7"), None), sku
    # the day is read again (its other rows too); their digests are unchanged: nothing else sent
    assert again.variants_sent == 1 and again.unchanged >= len(catalog) - 1


def test_stock_moved_later_the_same_day_reaches_shopify(chain):
    _dates_only(chain)
    shop = chain.install("estoque-do-dia", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    erp = chain.erp()
    try:
        rows = {s.id_sku: (row, s) for row in erp.stock(None, 1) for s in row.skus}
    finally:
        erp.close()
    sku, data = next(
        (k, d) for k, d in catalog.items()
        if not d["weighed"] and rows[k][1].qtd_embalagem == 1 and rows[k][0].controlled
        and rows[k][0].available >= rows[k][0].safety  # (25 more sell as 25 more)
    )  # fmt: skip
    stock.run(shop.shop_id)
    before = chain.level(shop, data["inventory_item_id"], 1)
    row = rows[sku][0]
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 1, "seqproduto": data["seq_produto"]},
               estqloja=float(row.store) + 25)  # fmt: skip

    again = stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == before + 25, sku
    assert again.levels_sent >= 1


def test_a_new_branchs_stock_loaded_later_the_day_it_was_linked_reaches_shopify(chain):
    """Branch 2 is linked before its stock rows exist: its first pass reads nothing. Its rows are
    loaded later that day and stamped with the date; the empty pass must not have left a watermark
    at its time of day (every row, dated midnight, would be before it and never read)."""
    _dates_only(chain)
    shop = chain.install("filial-nova", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    pe, store = t.mrl_produtoempresa, chain.consinco.erp.store
    with store.write() as (conn, _):
        saved = [dict(r) for r in conn.execute(select(pe).where(pe.c.nroempresa == 2)).mappings()]
        conn.execute(delete(pe).where(pe.c.nroempresa == 2))
    stock.run(shop.shop_id)
    with store.write() as (conn, now):  # later the same day: the branch's stock is loaded
        conn.execute(insert(pe), [{**r, "dtaalteracao": now} for r in saved])
    erp = chain.erp()
    try:
        rows = {s.id_sku: (row, s) for row in erp.stock(None, 2) for s in row.skus}
    finally:
        erp.close()
    sku, data = next(
        (k, d) for k, d in catalog.items()
        if not d["weighed"] and rows[k][1].qtd_embalagem == 1 and rows[k][0].controlled
        and rows[k][0].available >= rows[k][0].safety + 1
    )  # fmt: skip

    again = stock.run(shop.shop_id)
    assert (chain.level(shop, data["inventory_item_id"], 2) or 0) > 0, sku
    assert again.levels_sent >= 1
