"""A packaging renamed in the ERP (MAP_FAMEMBALAGEM.EMBALAGEM CX -> FD) changes its variant's
option value. productSet matches variants without an `id` by their option values, so the bound
variant's id goes with it (jobs.catalog_ledger.plan): the variant is updated in place and keeps
its id, its inventory item and the orders that sold it.

A bound id can be stale: the merchant deleted the variant (or the whole product) by hand.
Shopify then answers PRODUCT_VARIANT_DOES_NOT_EXIST and the product is sent again without
ids, on the direct path and for a bulk line alike (jobs.catalog_load): it lands, and its
bindings name the variants Shopify made."""

from __future__ import annotations

from typing import Any

from jobs import catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from ledger import bindings
from ledger.db import session_scope
from ledger.models import Binding, Message, MessageStatus
from sandbox.consinco import tables as t
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx
from sandbox.shopify.resolvers.publications import ONLINE_STORE

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import family_of
from .test_catalog_flows import doc, products_by_seq


def _rename_packaging(installed: InstalledShop, seq: int, qtd: int, name: str) -> None:
    e = t.map_famembalagem
    with installed.erp.erp.store.write() as (conn, now):
        conn.execute(
            e.update()
            .where(e.c.seqfamilia == family_of(installed.erp, seq), e.c.qtdembalagem == qtd)
            .values(embalagem=name, dtahoraltembpreco=now)
        )


def _variants(installed: InstalledShop, seq: int) -> dict[str, str]:
    return {v["sku"]: v["id"] for v in products_by_seq(installed)[seq]["variants"]}


def _bound(installed: InstalledShop, skus: list[str]) -> dict[str, str | None]:
    with session_scope() as session:
        return {
            k: b.shopify_id
            for k, b in bindings.get_many(session, installed.shop_id, VARIANT_KIND, skus).items()
        }


def _by_hand(installed: InstalledShop) -> Ctx:
    """What a person's deletion in the Shopify admin goes through (the sandbox's store)."""
    return Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")


def delete_product_by_hand(installed: InstalledShop, product: dict[str, Any]) -> None:
    """A person deletes the product in the Shopify admin: its variants, its metafields, itself."""
    ctx, store = _by_hand(installed), installed.shopify.sandbox.store
    for variant in product["variants"]:
        catalog.delete_variant(ctx, doc(installed, variant["id"]))
    for metafield in store.scan(SHOP_NAME, "Metafield"):
        if metafield["ownerId"] == product["id"]:
            store.delete(SHOP_NAME, metafield["id"])
    store.delete(SHOP_NAME, product["id"])


def _failed(installed: InstalledShop) -> list[Message]:
    with session_scope() as session:
        rows = session.query(Message).filter(Message.shop_id == installed.shop_id)
        return [
            m
            for m in rows
            if m.status in (MessageStatus.FAILED, MessageStatus.RETRYING, MessageStatus.PARKED)
        ]


def test_a_renamed_packaging_keeps_its_variant(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    before = _variants(installed, 1)
    item = doc(installed, before["P1E6"])["inventoryItemId"]
    _rename_packaging(installed, 1, 6, "FD")
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    after = _variants(installed, 1)
    options = doc(installed, after["P1E6"])["selectedOptions"]
    assert [o["value"] for o in options] == ["FD-6"]  # the rename reached Shopify
    assert after == before
    assert doc(installed, after["P1E6"])["inventoryItemId"] == item
    assert _bound(installed, list(before)) == before
    client.close()


def _stale_variant_lands(installed: InstalledShop, *, bulk: bool) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    before = _variants(installed, 1)
    gone = doc(installed, before["P1E6"])
    catalog.delete_variant(_by_hand(installed), gone)  # deleted by hand: its binding is stale
    if bulk:
        installed.set_setting("bulk_threshold", 0)
    _rename_packaging(installed, 1, 6, "FD")

    result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    assert (result.failed, result.bulk) == (0, bulk) and result.changed  # (the family's products)
    assert _failed(installed) == []
    after = _variants(installed, 1)
    assert set(after) == set(before) and after["P1E6"] != before["P1E6"]  # made again
    assert after["P1E1"] == before["P1E1"]  # matched by its option value, as before ids were sent
    assert [o["value"] for o in doc(installed, after["P1E6"])["selectedOptions"]] == ["FD-6"]
    assert _bound(installed, list(after)) == after  # the stale id forgotten
    sent = installed.mutations.count()
    for flow in ("products", "skus"):
        catalog_flow.run_flow(installed.shop_id, flow, client=client)
    assert installed.mutations.count() == sent  # settled: the next passes cost nothing
    client.close()


def test_a_variant_deleted_by_hand_is_made_again_on_the_direct_path(installed: InstalledShop) -> None:
    _stale_variant_lands(installed, bulk=False)


def test_a_variant_deleted_by_hand_is_made_again_on_the_bulk_path(installed: InstalledShop) -> None:
    _stale_variant_lands(installed, bulk=True)


def _deleted_product_lands(installed: InstalledShop, *, bulk: bool) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    product: dict[str, Any] = products_by_seq(installed)[1]
    store = installed.shopify.sandbox.store
    assert store.get(SHOP_NAME, product["id"])["publishedOn"] == [ONLINE_STORE]
    delete_product_by_hand(installed, product)
    if bulk:
        installed.set_setting("bulk_threshold", 0)
    _rename_packaging(installed, 1, 6, "FD")

    result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    assert (result.failed, result.bulk) == (0, bulk) and result.changed
    again = products_by_seq(installed)[1]
    assert again["id"] != product["id"] and again["status"] == "ACTIVE"
    titles = [p["title"] for p in installed.state()["products"]]
    assert titles.count(product["title"]) == 1  # one product, no half-made one left by the refusal
    after = _variants(installed, 1)
    assert _bound(installed, list(after)) == after
    # A product made anew is published like any product the app creates: the "published once" rule
    # keeps off a channel only the product the merchant took off it, not its successor.
    assert store.get(SHOP_NAME, again["id"])["publishedOn"] == [ONLINE_STORE]
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, ["1"])["1"]
        assert bound.shopify_id == again["id"] and not (bound.data or {}).get("publish_pending")
    client.close()


def test_a_product_deleted_by_hand_is_made_again_once_and_published(installed: InstalledShop) -> None:
    _deleted_product_lands(installed, bulk=False)


def test_a_product_deleted_by_hand_is_made_again_and_published_on_the_bulk_path(
    installed: InstalledShop,
) -> None:
    _deleted_product_lands(installed, bulk=True)


def _pesavel(installed: InstalledShop, seq: int, flag: str) -> None:
    """The product's family is sold by weight (S) or not (N) from now on."""
    family = family_of(installed.erp, seq)
    with installed.erp.erp.store.write() as (conn, now):
        conn.execute(t.map_familia.update().where(t.map_familia.c.seqfamilia == family).values(pesavel=flag))
        e = t.map_famembalagem
        conn.execute(e.update().where(e.c.seqfamilia == family).values(dtahoraltembpreco=now))


def test_a_family_turned_weighed_keeps_its_variants_and_has_their_stock_rechecked(
    installed: InstalledShop,
) -> None:
    """PESAVEL N -> S: the labels become KG (catalog_map), the variants stay. Their stock counts in
    other units now (kg, not boxes), with no ERP stock movement to say so: the stock flow rechecks
    them, as it did when the variants were made anew."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    before = _variants(installed, 1)
    _pesavel(installed, 1, "S")
    with session_scope() as session:  # what earlier passes asked for is not this test's
        session.query(Binding).filter(
            Binding.shop_id == installed.shop_id, Binding.kind == "stock_recheck"
        ).delete()

    catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    after = _variants(installed, 1)
    assert after == before
    # every packaging is KG now: each kept apart by its SKU (catalog_map: never by its position)
    assert [o["value"] for o in doc(installed, after["P1E1"])["selectedOptions"]] == ["KG (P1E1)"]
    with session_scope() as session:
        rechecks = bindings.get_many(session, installed.shop_id, "stock_recheck", list(before))
        variants = bindings.get_many(session, installed.shop_id, VARIANT_KIND, list(before))
        assert set(rechecks) == set(before)
        assert all(v.data["weighed"] for v in variants.values())
    client.close()


def test_a_family_no_longer_weighed_stops_showing_its_per_kg_unit_price(installed: InstalledShop) -> None:
    """PESAVEL S -> N: the single unit (KG -> UN) has no unit price, and an input without one
    leaves the kept variant's alone (productSet keeps absent fields): the variant is told to stop
    showing it (showUnitPrice false), once, while the digests of every other product stay."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    unit = _variants(installed, 1)["P1E1"]
    assert doc(installed, unit)["unitPriceMeasurement"] is None  # a unit item: no unit price
    _pesavel(installed, 1, "S")
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    weighed = doc(installed, unit)
    assert weighed["unitPriceMeasurement"]["quantityUnit"] == "KG" and weighed["showUnitPrice"]

    _pesavel(installed, 1, "N")
    result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    assert result.failed == 0 and _variants(installed, 1)["P1E1"] == unit  # kept, updated in place
    back = doc(installed, unit)
    assert [o["value"] for o in back["selectedOptions"]] == ["UN"]
    assert back["showUnitPrice"] is False  # the storefront shows no "R$ x / kg" for one unit
    box = doc(installed, _variants(installed, 1)["P1E6"])
    assert box["unitPriceMeasurement"]["quantityUnit"] == "ITEM" and box["showUnitPrice"]
    with session_scope() as session:
        assert not bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E1"])["P1E1"].data[
            "weighed"
        ]
    sent = installed.mutations.count()
    for flow in ("products", "skus"):
        catalog_flow.run_flow(installed.shop_id, flow, client=client)
    assert installed.mutations.count() == sent  # settled: no digest moved, nothing sent again
    client.close()


def _sibling_keeps_its_variant(installed: InstalledShop, *, bulk: bool) -> None:
    """P1E1 deleted by hand, P1E6's packaging renamed meanwhile (CX -> FD): Shopify refuses P1E1's
    stale id, and the product sent again without it keeps P1E6's (valid) id, so P1E6 is updated in
    place, not matched by its new option value, found nowhere, deleted and made anew."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    before = _variants(installed, 1)
    item = doc(installed, before["P1E6"])["inventoryItemId"]
    catalog.delete_variant(_by_hand(installed), doc(installed, before["P1E1"]))
    if bulk:
        installed.set_setting("bulk_threshold", 0)
    _rename_packaging(installed, 1, 6, "FD")

    result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    assert (result.failed, result.bulk) == (0, bulk) and _failed(installed) == []
    after = _variants(installed, 1)
    assert after["P1E6"] == before["P1E6"] and doc(installed, after["P1E6"])["inventoryItemId"] == item
    assert [o["value"] for o in doc(installed, after["P1E6"])["selectedOptions"]] == ["FD-6"]
    assert after["P1E1"] != before["P1E1"]  # the one deleted by hand, made again
    assert _bound(installed, list(after)) == after
    client.close()


def test_a_variant_deleted_by_hand_leaves_its_siblings_ids_on_the_direct_path(
    installed: InstalledShop,
) -> None:
    _sibling_keeps_its_variant(installed, bulk=False)


def test_a_variant_deleted_by_hand_leaves_its_siblings_ids_on_the_bulk_path(installed: InstalledShop) -> None:
    _sibling_keeps_its_variant(installed, bulk=True)
