"""A new product's ERP stock row read before the catalog flow created it in Shopify, by a
ProdutoEstoque with no per-SKU list: the record named no SKU of the shop and its figure was dropped,
the watermark moving past it; the product's first price asked for a stock recheck, which found no
figure, and the new product showed sold out until its stock row moved again or the daily sweep.
The pass now remembers such a record's base per product (jobs.stock_unsold)."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

import sandbox.consinco.catalogue as erp_catalogue
from jobs import catalog_flow, prices, stock, stock_unsold
from ledger.db import session_scope
from ledger.mappings import set_location_mapping
from ledger.models import Binding
from sandbox.consinco import tables as t
from tests.catalog_products.erp_writes import add_product


def _variant(installed, sku):
    for product in installed.state()["products"]:
        for variant in product["variants"]:
            if variant["sku"] == sku:
                return variant
    raise AssertionError(f"{sku} is not in Shopify")


def test_a_new_products_stock_read_before_the_shop_sold_it_reaches_its_first_packaging(
    installed, env, monkeypatch
) -> None:
    installed_env = env
    real = erp_catalogue.stock_record

    def without_list(*args, **kwargs):  # a ProdutoEstoque with no per-SKU list ([assumed] convenience)
        record = real(*args, **kwargs)
        record.pop("skus")
        return record

    monkeypatch.setattr(erp_catalogue, "stock_record", without_list)
    client = installed.client()
    location = next(iter(client.locations())).id
    with session_scope() as session:
        set_location_mapping(session, installed.shop_id, 1, location)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # initial load
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)

    store = installed.erp.erp.store
    with store.read() as conn:  # a unit-sold (not weighed) product with a packaging of 1
        like = conn.execute(
            select(t.map_produto.c.seqproduto)
            .join(t.map_familia, t.map_familia.c.seqfamilia == t.map_produto.c.seqfamilia)
            .join(t.map_famembalagem, t.map_famembalagem.c.seqfamilia == t.map_produto.c.seqfamilia)
            .where(
                t.map_familia.c.pesavel == "N",
                t.map_famembalagem.c.qtdembalagem == 1,
                t.map_famembalagem.c.status == "A",
                t.map_produto.c.indintegraecommerce == "S",
            )
            .order_by(t.map_produto.c.seqproduto)
        ).first()[0]
    # The ERP registers a new product, receives 100 units at company 1 and prices it.
    seq = add_product(installed.erp, like, "Produto novo")
    with store.write() as (conn, now):
        conn.execute(
            t.mrl_produtoempresa.insert().values(
                nroempresa=1,
                seqproduto=seq,
                estqloja=100,
                estqdeposito=0,
                estqtroca=0,
                estqterceiro=0,
                qtdreservadavda=0,
                qtdreservadareceb=0,
                qtdreservadafixa=0,
                indcontrolaestoqueecomm="S",
                estqsegurancaecommerce=0,
                dtaalteracao=now,
                dtahorultmovtoestq=now,
            )
        )
        conn.execute(
            t.mrl_prodempseg.insert().values(
                nroempresa=1,
                nrosegmento=1,
                seqproduto=seq,
                qtdembalagem=1,
                precovalidnormal=Decimal("10.00"),
                precovalidpromoc=Decimal("0"),
                statusvenda="A",
                dtaalteracao=now,
            )
        )
    # The flows run on their own schedules: the stock pass happens to come first. The catalog
    # flow creates the product later than the read overlap (ERP_READ_OVERLAP, 120 s by default;
    # 2 s here so the test does not wait two minutes).
    installed_env.setenv("ERP_READ_OVERLAP", "2")
    stock.run(installed.shop_id)
    time.sleep(3)
    stock.run(installed.shop_id)  # the next scheduled stock pass: its window starts past the row
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    stock.run(installed.shop_id)

    new = _variant(installed, f"P{seq}E1")
    assert Decimal(str(new["price"])) == Decimal("10.00")
    level = client.inventory_level(new["inventoryItemId"], location, ("available",))
    got = None if level is None else level.quantities["available"]
    client.close()
    assert got == 100, f"new product P{seq}E1: Shopify shows {got}, the ERP has 100"
    stock.sweep(installed.shop_id)  # a whole read: the product sold now, its memory goes
    with session_scope() as session:
        kept = session.scalars(
            select(Binding.erp_id).where(
                Binding.shop_id == installed.shop_id,
                Binding.kind == stock_unsold.UNSOLD_KIND,
                Binding.erp_id == f"1:{seq}",
            )
        ).all()
    assert kept == []
