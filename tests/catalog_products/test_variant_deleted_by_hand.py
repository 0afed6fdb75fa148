"""A variant (or a product) a person deleted in Shopify while the ERP still sells it, with no ERP
edit afterwards: no pass, not the daily full sweep (its digest unchanged), not the reconciliation
(it listed it and sent nothing), made it again, and the prices flow failed it for good. The
reconciliation's finding and the prices flow's refusal (PRODUCT_VARIANT_DOES_NOT_EXIST) now have the
product sent again by the next products pass."""

from __future__ import annotations

import erp
from jobs import catalog_flow, reconcile
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx
from tests.catalog_products.conftest import SHOP_NAME, InstalledShop
from tests.catalog_products.test_catalog_flows import doc, products_by_seq
from tests.catalog_products.test_variant_identity import delete_product_by_hand


def _skus(installed: InstalledShop, seq: int) -> set[str]:
    return {v["sku"] for v in products_by_seq(installed)[seq]["variants"]}


def test_a_variant_deleted_by_hand_comes_back_without_waiting_for_an_erp_edit(
    installed: InstalledShop,
) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    before = {v["sku"]: v["id"] for v in products_by_seq(installed)[1]["variants"]}
    assert "P1E6" in before
    ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
    catalog.delete_variant(ctx, doc(installed, before["P1E6"]))  # a person, in the Shopify admin

    # the ERP changes nothing; every catalog path a day runs:
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=None)  # the daily catalog_full sweep
    erp_client = erp.for_shop(installed.shop_id)
    report = reconcile._catalog(
        installed.shop_id, client, erp_client, sample=1000
    )  # the daily reconciliation
    assert any(r.get("sku") == "P1E6" for r in report["shopify_differs"])  # it IS seen as deleted...
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # ...and the next pass after it

    assert "P1E6" in _skus(installed, 1), report["sent_again"]
    assert report["sent_again"] == [1]
    client.close()


def test_a_price_change_refused_for_a_variant_deleted_by_hand_has_it_made_again(
    installed: InstalledShop,
) -> None:
    from decimal import Decimal

    from jobs import prices
    from ledger.db import session_scope
    from ledger.models import Message
    from sandbox.consinco import tables as t

    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    prices.run(installed.shop_id)
    before = {v["sku"]: v["id"] for v in products_by_seq(installed)[1]["variants"]}
    ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
    catalog.delete_variant(ctx, doc(installed, before["P1E6"]))
    ps = t.mrl_prodempseg
    with installed.erp.erp.store.write() as (conn, now):
        conn.execute(
            ps.update()
            .where(ps.c.seqproduto == 1, ps.c.nroempresa == 1, ps.c.nrosegmento == 1)
            .values(precovalidnormal=ps.c.precovalidnormal + Decimal("1.00"), dtaalteracao=now)
        )
    for _ in range(2):
        prices.run(installed.shop_id)
        catalog_flow.run_flow(installed.shop_id, "products", client=client)
        catalog_flow.initial_load(installed.shop_id, client=client, bulk=None)
    with session_scope() as session:
        rows = [
            (m.flow, m.unit_key, str(m.status), (m.error_text or "")[:200])
            for m in session.query(Message).filter(Message.shop_id == installed.shop_id)
            if "done" not in str(m.status)
        ]
    assert "P1E6" in _skus(installed, 1), rows


def test_a_product_deleted_whose_webhook_never_came_is_made_again(installed: InstalledShop) -> None:
    """products/delete is at-least-once but can be missed (shopify.md: reconcile): the daily full
    sweep and the reconciliation are the app's only other chances."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    delete_product_by_hand(installed, products_by_seq(installed)[1])

    catalog_flow.initial_load(installed.shop_id, client=client, bulk=None)  # the daily catalog_full sweep
    report = reconcile._catalog(installed.shop_id, client, erp.for_shop(installed.shop_id), sample=1000)
    assert {r.get("sku") for r in report["shopify_differs"]} >= {"P1E1", "P1E6"}  # seen as deleted
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert 1 in products_by_seq(installed), f"product 1 still gone; sent again: {report['sent_again']}"
    client.close()
