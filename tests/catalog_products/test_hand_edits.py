"""Fields the ERP owns, edited by hand in Shopify (jobs.catalog_drift): the product's digest is
unchanged, so no pass sends it; `catalog diff --drift` names the fields without writing anything,
and the reconciliation's catalog sample names them and has the product sent again (the ERP owns
the catalog). An untouched catalog reports nothing and sends nothing."""

from __future__ import annotations

from typing import Any

import erp
from jobs import catalog_diff, catalog_drift, catalog_flow, reconcile
from jobs.catalog_ledger import PRODUCT_KIND
from jobs.catalog_map import map_product
from ledger import bindings
from ledger.db import session_scope

from .conftest import SHOP_NAME, InstalledShop
from .test_catalog_flows import doc, products_by_seq


def _synced(installed: InstalledShop) -> None:
    for flow in ("products", "skus"):
        catalog_flow.run_flow(installed.shop_id, flow, client=installed.client())


def _edit(installed: InstalledShop, gid: str, **fields: Any) -> None:
    """A person's edit in the Shopify admin (the store's document, as the sandbox keeps it)."""
    installed.shopify.sandbox.store.put(SHOP_NAME, {**doc(installed, gid), **fields})


def _reconcile_catalog(installed: InstalledShop) -> dict[str, Any]:
    client = installed.client()
    try:
        return reconcile._catalog(installed.shop_id, client, erp.for_shop(installed.shop_id), 1000)
    finally:
        client.close()


def _digest(shop_id: int, seq: int) -> str | None:
    with session_scope() as session:
        return bindings.get_many(session, shop_id, PRODUCT_KIND, [str(seq)])[str(seq)].digest


def test_a_title_and_a_barcode_edited_by_hand_are_named_by_the_diff_and_restored_by_reconciliation(
    installed: InstalledShop,
) -> None:
    _synced(installed)
    product = products_by_seq(installed)[5]
    title, variant = product["title"], product["variants"][0]
    _edit(installed, product["id"], title="EDITADO NA MAO")
    _edit(installed, variant["id"], barcode="0000000000000")
    assert catalog_flow.run_flow(installed.shop_id, "products", client=installed.client()).changed == 0
    digest, sent = _digest(installed.shop_id, 5), installed.mutations.count()

    diff = catalog_diff.compute(installed.shop_id, drift=True, client=installed.client())

    assert diff["drift"] == [
        {
            "seq_produto": 5,
            "problem": f"edited in Shopify: title, barcode of {variant['sku']}",
            "fields": ["title", f"barcode of {variant['sku']}"],
        }
    ]
    # The diff only reports: nothing sent, the product's digest as it was.
    assert installed.mutations.count() == sent and _digest(installed.shop_id, 5) == digest

    catalog = _reconcile_catalog(installed)

    [row] = catalog["shopify_differs"]
    assert (row["seq_produto"], row["product"]) == (5, product["id"])
    assert row["fields"] == ["title", f"barcode of {variant['sku']}"]
    assert row["why"] == f"edited in Shopify: title, barcode of {variant['sku']}"
    assert row["sent_again"] == reconcile.SENT_AGAIN
    fields = [{"key": "recon_field_title", "params": {}},
              {"key": "recon_field_barcode_of", "params": {"sku": variant["sku"]}}]  # fmt: skip
    assert row["why_words"] == [{"key": "recon_edited_in_shopify", "params": {"fields": fields}}]
    assert row["sent_again_words"] == [{"key": "recon_sent_again", "params": {}}]
    assert (catalog["sent_again"], catalog["sent_again_count"]) == ([5], 1)
    assert reconcile.summary({"catalog": catalog})["catalog_differs_in_shopify"] == 1
    assert installed.mutations.count() == sent  # sent by the products flow, not by the report

    before = installed.mutations.count("productSet")
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

    assert again.changed == 1 and installed.mutations.count("productSet") - before == 1  # product 5 only
    restored = products_by_seq(installed)[5]
    assert restored["title"] == title and restored["title"] != "EDITADO NA MAO"
    assert doc(installed, variant["id"])["barcode"] == variant["barcode"] != "0000000000000"
    assert _digest(installed.shop_id, 5) == digest
    assert catalog_diff.compute(installed.shop_id, drift=True, client=installed.client())["drift"] == []
    assert _reconcile_catalog(installed)["sent_again"] == []


def test_an_untouched_catalog_reports_no_edit_and_sends_nothing(installed: InstalledShop) -> None:
    _synced(installed)
    sent = installed.mutations.count()

    assert catalog_diff.compute(installed.shop_id, drift=True, client=installed.client())["drift"] == []
    catalog = _reconcile_catalog(installed)
    assert catalog["shopify_checked"] > 0
    assert (catalog["shopify_differs"], catalog["sent_again"], catalog["sent_again_count"]) == ([], [], 0)
    assert catalog_flow.run_flow(installed.shop_id, "products", client=installed.client()).changed == 0
    assert installed.mutations.count() == sent


def test_a_product_the_erp_changed_is_no_edit_by_hand_the_sync_sends_it_anyway(
    installed: InstalledShop,
) -> None:
    """Shopify differs from what the app sends next by the ERP's own change (its send refused
    here, so the change waits): that is the diff's `change`, not drift, and nothing is marked."""
    from .erp_writes import set_title

    _synced(installed)
    set_title(installed.erp, 5, "NOVO NOME NO ERP")
    installed.mutations.reject_seq = "5"
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    installed.mutations.reject_seq = None

    diff = catalog_diff.compute(installed.shop_id, drift=True, client=installed.client())

    assert [(c["seq_produto"], c["title"]) for c in diff["change"]] == [(5, "NOVO NOME NO ERP")]
    assert diff["drift"] == []
    catalog = _reconcile_catalog(installed)
    assert (catalog["shopify_differs"], catalog["sent_again"]) == ([], [])


def test_markup_and_whitespace_are_no_edit_a_changed_text_or_field_is() -> None:
    product = {"seq_produto": 9, "description": "Café & Leite", "brand": "Marca", "family": "Bebidas"}
    skus = [{"id_sku": "P9E1", "qtd_embalagem": "1", "ean": "7894900011517", "active": True}]
    sent = map_product(product, skus).input
    shopify = {name: str(sent[name]) for name in ("title", "status", "vendor", "productType")}
    rewritten = sent["descriptionHtml"].replace("&amp;", "&#38;").replace("<ul>", "\n<ul>\n")

    assert catalog_drift.product_differs(sent, {**shopify, "descriptionHtml": rewritten}) == []
    assert catalog_drift.product_differs(sent, {**shopify, "title": " Café &  Leite "}) == []
    assert catalog_drift.product_differs(sent, {"descriptionHtml": "<p>Outro texto</p>"}) == [
        "descriptionHtml"
    ]
    assert catalog_drift.product_differs(sent, {**shopify, "vendor": "", "status": "DRAFT"}) == [
        "status",
        "vendor",
    ]
    assert catalog_drift.variant_differs(sent, "P9E1", "P9E1", "7894900011517") == []
    assert catalog_drift.variant_differs(sent, "P9E1", "OUTRO", None) == ["sku of P9E1", "barcode of P9E1"]
    assert catalog_drift.variant_differs(sent, "P9E6", "X", "Y") == []  # not a variant of this input
