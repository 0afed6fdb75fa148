"""A live shop upgraded: the items an earlier version created untracked (Shopify's default) are
tracked by the next products pass, though the ERP changed none of those products lately: that
pass re-plans every product from the ERP cache once (jobs/catalog_tracking.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, update

from jobs import catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND
from ledger.bindings import ITEMS_TRACKED_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding
from sandbox.consinco import tables as t
from shopify_app.admin_api.executor import RetryPolicy

from .conftest import SHOP_NAME, InstalledShop


def age_erp_records(installed: InstalledShop) -> None:
    """The catalogue as a live ERP has it: last changed a day ago, not within the reads' overlap."""
    with installed.erp.erp.store.write() as (conn, now):
        old = now - dt.timedelta(days=1)
        conn.execute(t.map_produto.update().values(dtahoralteracao=old))
        conn.execute(t.map_famembalagem.update().values(dtahoraltembpreco=old))


def as_an_earlier_version_left_it(installed: InstalledShop) -> list[str]:
    """Every item untracked, every product's digest of the earlier input, no marker (the earlier
    version had none); the inventory item gids."""
    store = installed.shopify.sandbox.store
    items = [v["inventoryItemId"] for p in installed.state()["products"] for v in p["variants"]]
    with store.transaction():
        for gid in items:
            store.put(SHOP_NAME, {**store.get(SHOP_NAME, gid), "tracked": False})
    with session_scope() as session:
        session.execute(
            update(Binding)
            .where(Binding.shop_id == installed.shop_id, Binding.kind == PRODUCT_KIND)
            .values(digest="digest-of-the-earlier-input")
        )
        session.execute(
            delete(Binding).where(Binding.shop_id == installed.shop_id, Binding.kind == ITEMS_TRACKED_KIND)
        )
    return items


def untracked(installed: InstalledShop, items: list[str]) -> list[str]:
    store = installed.shopify.sandbox.store
    return [g for g in items if not store.get(SHOP_NAME, g)["tracked"]]


def passes(installed: InstalledShop) -> list:
    return [
        catalog_flow.run_flow(installed.shop_id, f, client=installed.client()) for f in ("products", "skus")
    ]


def test_items_left_untracked_are_tracked_by_the_next_sync_though_the_erp_changed_nothing(installed):
    age_erp_records(installed)
    passes(installed)  # the first load
    items = as_an_earlier_version_left_it(installed)
    products, skus = passes(installed)  # the upgrade: the next scheduled passes
    assert untracked(installed, items) == [], f"products pass changed {products.changed}, skus {skus.changed}"
    assert products.changed == 38 and skus.changed == 0
    before = installed.mutations.count()
    with session_scope() as session:  # once: a product whose digest moved since is not re-planned
        session.execute(
            update(Binding)
            .where(Binding.shop_id == installed.shop_id, Binding.kind == PRODUCT_KIND)
            .values(digest="moved-after-the-heal")
        )
    again = passes(installed)
    assert installed.mutations.count() == before and all(r.changed == 0 for r in again)


def test_the_heal_of_a_big_catalog_is_one_bulk_operation(installed):
    age_erp_records(installed)
    passes(installed)
    items = as_an_earlier_version_left_it(installed)
    installed.set_setting("bulk_threshold", 10)
    before = installed.mutations.count("productSet")
    products = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert products.bulk and products.changed == 38
    assert installed.mutations.count("productSet") == before  # no direct call per product
    assert installed.mutations.count("bulkOperationRunMutation") == 1
    assert untracked(installed, items) == []


def test_a_heal_pass_shopify_failed_is_planned_again_by_the_next(installed):
    age_erp_records(installed)
    passes(installed)
    items = as_an_earlier_version_left_it(installed)
    installed.mutations.fail_after = installed.mutations.count()  # Shopify down for mutations
    down = installed.client()
    down.executor.retry = RetryPolicy(max_attempts=1)  # the run fails at once (no backoff slept out)
    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=down)
    assert len(untracked(installed, items)) == len(items)
    installed.mutations.fail_after = None
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert untracked(installed, items) == []
