"""A product the ERP took off the e-commerce (inactive: its binding `active: false`, DRAFT in Shopify,
its levels held at 0) that a person then deleted in Shopify: jobs.catalog_deleted keeps its bindings
on purpose (a person's cleanup). The catalog check rightly says nothing (not sold), but the stock
check listed every one of its SKUs as differing at every location (ERP 0, Shopify none) every day,
counted them as drift and offered to set levels of items that no longer exist. Shopify no longer
having the item of a SKU not for sale is no drift; a deleted variant the ERP sells still is."""

from __future__ import annotations

from sqlalchemy import update

from jobs import reconcile
from ledger import bindings
from ledger.db import session_scope
from sandbox.consinco import tables as t
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.variant_products import variant_products

from .conftest import World


def _delete_product_by_hand(world: World, sku_id: str) -> None:
    client = for_shop(world.domain)
    product_id = variant_products(client, [world.variants[sku_id]])[world.variants[sku_id]].product_id
    catalog.delete_product_by_hand(
        Ctx(shop=world.name, sandbox=world.shopify.sandbox, api_key=""), product_id
    )


def _stock_rows(report: dict, sku_id: str) -> list[dict]:
    return [row for loc in report["stock"]["locations"] for row in loc["differ"] if row["sku"] == sku_id]


def test_a_product_deleted_after_the_erp_stopped_selling_it_is_no_stock_drift(world: World) -> None:
    sku_id = world.plain(0)
    sku = next(s for s in world.chain.skus if s.id_sku == sku_id)
    world.erp.simulator.deactivate_product(sku.seq_produto)  # the ERP takes it off the e-commerce
    try:
        with session_scope() as session:  # ...and the catalog flow sent it inactive
            row = bindings.get_many(session, world.shop_id, "variant", [sku_id])[sku_id]
            row.data = {**row.data, "active": False}
        _delete_product_by_hand(world, sku_id)

        report = reconcile.run(world.shop_id, stock_sample=10)
    finally:  # the ERP chain is the session's: the next tests find it selling the product again
        with world.erp.store.write() as (conn, _now):
            conn.execute(update(t.map_produto).where(t.map_produto.c.seqproduto == sku.seq_produto)
                         .values(indintegraecommerce="S"))  # fmt: skip

    assert all(r.get("sku") != sku_id for r in report["catalog"]["orphan_bindings"])
    assert all(r.get("sku") != sku_id for r in report["catalog"]["shopify_differs"])
    assert _stock_rows(report, sku_id) == []


def test_a_product_deleted_while_the_erp_sells_it_is_still_reported(world: World) -> None:
    sku_id = world.plain(0)
    with session_scope() as session:  # priced by the prices flow: for sale
        price = bindings.BindingRow(sku_id, world.variants[sku_id], None, {"sale_active": True})
        bindings.upsert_many(session, world.shop_id, "price", [price])
    _delete_product_by_hand(world, sku_id)

    report = reconcile.run(world.shop_id, stock_sample=10)

    assert any(r.get("sku") == sku_id for r in report["catalog"]["shopify_differs"])
    assert [row["shopify"] for row in _stock_rows(report, sku_id)] == [None]
