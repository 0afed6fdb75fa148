"""A catalog bulk operation whose results the app never recorded: the worker was killed after the
results file was read but before its part was recorded (the custom ids set, the bindings written),
or while it waited on the operation, which Shopify ran to the end.

Shopify's productSet(identifier: {customId}) may create a product without setting the custom id
(the sandbox's `product_set_sets_custom_id` off): such a product, unbound, is found by no later
productSet, so a restart that sends it again creates it a second time. The runner keeps the
operation's record until the catalog has recorded the part (`keep_record`, then `forget`), and a
leftover the next sync finds has its results read and recorded (custom ids set, bindings
written) before its products are sent again (`settle_leftover`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from jobs import catalog_custom_id, catalog_flow, catalog_load
from jobs import catalog_ledger as cl
from ledger import bindings
from ledger.bindings import PRODUCT_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from shopify_app.admin_api.bulk import STARTED_PREFIX, BulkRunner

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import set_title

ERP_PRODUCTS = 38


class WorkerKilled(BaseException):
    """SIGKILL, OOM, a deploy, the job's timeout: nothing after it runs."""


def record_key(installed: InstalledShop) -> str:
    """The Redis record guarding the catalog's bulk operation (shopify_app.admin_api.bulk)."""
    client = installed.client()
    try:
        return f"{STARTED_PREFIX}{client.bulk.shop}:{catalog_load.bulk_identifier(installed.shop_id)}"
    finally:
        client.close()


def custom_ids(installed: InstalledShop) -> Counter:
    return Counter(p["metafields"].get("consinco.seq_produto") for p in installed.state()["products"])


def assert_each_product_once_and_bound(installed: InstalledShop) -> None:
    products = installed.state()["products"]
    assert len(products) == ERP_PRODUCTS, f"{len(products)} products in Shopify for {ERP_PRODUCTS} in the ERP"
    ids = custom_ids(installed)
    assert None not in ids and set(ids.values()) == {1}  # each with its custom id, none twice
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, list(ids))
    by_seq = {p["metafields"]["consinco.seq_produto"]: p["id"] for p in products}
    assert {seq: row.shopify_id for seq, row in bound.items()} == by_seq


def assert_all_published(installed: InstalledShop) -> None:
    store = installed.shopify.sandbox.store
    products = installed.state()["products"]
    unpublished = [p["id"] for p in products if not store.get(SHOP_NAME, p["id"])["publishedOn"]]
    assert not unpublished, f"{len(unpublished)} products on no sales channel"


def test_a_worker_killed_between_reading_the_results_and_recording_them_creates_no_product_twice(
    installed: InstalledShop, monkeypatch, redis_conn
) -> None:
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    real = catalog_custom_id.set_ids

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise WorkerKilled  # right after the results file was read: ~800 metafieldsSet calls for 20k

    monkeypatch.setattr(catalog_custom_id, "set_ids", killed)
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert len(installed.state()["products"]) == ERP_PRODUCTS
    assert set(custom_ids(installed)) == {None}  # created, no custom id, nothing bound
    assert redis_conn.exists(record_key(installed))  # the operation stays guarded until its part is recorded

    monkeypatch.setattr(catalog_custom_id, "set_ids", real)
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert_each_product_once_and_bound(installed)
    assert_all_published(installed)
    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert again.created + again.changed == 0
    assert len(installed.state()["products"]) == ERP_PRODUCTS


def test_a_worker_killed_before_the_bindings_committed_creates_no_product_twice(
    installed: InstalledShop, monkeypatch
) -> None:
    """The same window with Shopify setting the custom id itself (the sandbox's default)."""
    real = cl.record_sent

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise WorkerKilled

    monkeypatch.setattr(cl, "record_sent", killed)
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    monkeypatch.setattr(cl, "record_sent", real)
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert_each_product_once_and_bound(installed)
    assert_all_published(installed)


def test_a_bulk_run_that_records_its_parts_itself_forgets_each_operation_once_recorded(
    installed: InstalledShop, redis_conn
) -> None:
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert not redis_conn.exists(record_key(installed))


@pytest.mark.parametrize("erp_changed", [True, False], ids=["erp-changed", "erp-same"])
def test_an_operation_finished_after_its_worker_died_has_its_results_recorded_before_anything_is_sent(
    installed: InstalledShop, monkeypatch, erp_changed: bool
) -> None:
    """Killed while waiting (Shopify runs the operation to the end). The ERP changing meanwhile
    makes the next file another one: the leftover's products are sent again, never created again."""
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    real_wait = BulkRunner.wait

    def killed(self: BulkRunner, bulk_id: str, **kwargs: Any) -> Any:
        if kwargs.get("token"):  # the run's own wait
            real_wait(self, bulk_id)  # Shopify finishes it; the worker died before reading it
            raise WorkerKilled
        return real_wait(self, bulk_id, **kwargs)

    monkeypatch.setattr(BulkRunner, "wait", killed)
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    monkeypatch.setattr(BulkRunner, "wait", real_wait)
    assert len(installed.state()["products"]) == ERP_PRODUCTS

    if erp_changed:
        set_title(installed.erp, 1, "Novo titulo")
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert_each_product_once_and_bound(installed)
    assert_all_published(installed)
    if erp_changed:
        by_id = {p["metafields"]["consinco.seq_produto"]: p for p in installed.state()["products"]}
        assert by_id["1"]["title"] == "Novo titulo"
    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert again.created + again.changed == 0
    assert len(installed.state()["products"]) == ERP_PRODUCTS


def _killed_while_waiting(installed: InstalledShop, monkeypatch) -> None:
    """An initial load whose worker dies while Shopify runs its operation to the end, productSet
    setting no custom id: 38 products in Shopify, none with its id, none bound."""
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    real_wait = BulkRunner.wait

    def killed(self: BulkRunner, bulk_id: str, **kwargs: Any) -> Any:
        if kwargs.get("token"):
            real_wait(self, bulk_id)
            raise WorkerKilled
        return real_wait(self, bulk_id, **kwargs)

    monkeypatch.setattr(BulkRunner, "wait", killed)
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    monkeypatch.setattr(BulkRunner, "wait", real_wait)
    assert set(custom_ids(installed)) == {None} and len(installed.state()["products"]) == ERP_PRODUCTS


def test_a_leftover_whose_custom_ids_cannot_be_set_yet_stays_unsettled_and_nothing_is_sent(
    installed: InstalledShop, monkeypatch
) -> None:
    _killed_while_waiting(installed, monkeypatch)
    set_title(installed.erp, 1, "Novo titulo")  # another file: nothing to adopt
    client = installed.client()

    def down(metafields: object) -> None:
        raise Transient("Shopify is down for the test")

    client.metafields_set = down  # type: ignore[method-assign]
    started = installed.mutations.count("bulkOperationRunMutation")
    with pytest.raises(Transient, match="down for the test"):
        catalog_flow.initial_load(installed.shop_id, client=client, bulk=True)
    assert installed.mutations.count("bulkOperationRunMutation") == started  # nothing sent
    assert installed.mutations.count("productSet") == 0
    assert len(installed.state()["products"]) == ERP_PRODUCTS

    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)  # the retry
    assert_each_product_once_and_bound(installed)
    assert_all_published(installed)


def test_a_leftover_product_whose_custom_id_a_duplicate_holds_is_held_with_words_and_not_sent(
    installed: InstalledShop, monkeypatch
) -> None:
    """A duplicate made earlier holds the id: the leftover's product cannot get it. It is bound as
    lacking it (custom_id_missing), so it is never sent (productSet would land on the duplicate)
    and its message names the duplicate (CUSTOM_ID_TAKEN); the others are sent once."""
    _killed_while_waiting(installed, monkeypatch)
    target = 5
    client = installed.client()
    duplicate_id = installed.duplicate_holding(client, target)
    set_title(installed.erp, 1, "Novo titulo")

    catalog_flow.initial_load(installed.shop_id, client=client, bulk=True)
    products = installed.state()["products"]
    assert len(products) == ERP_PRODUCTS + 1  # the orphan's 38 and the duplicate: none made again
    ids = custom_ids(installed)
    assert ids[None] == 1 and set(ids.values()) == {1}  # the leftover's product of `target` lacks it
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(target)])[str(target)]
        assert bound.shopify_id != duplicate_id and (bound.data or {}).get(catalog_custom_id.MISSING)
        message = session.scalars(
            select(Message).where(Message.flow == "products", Message.unit_key == f"product:{target}")
        ).one()
        assert message.status == MessageStatus.FAILED.value
        assert message.error_detail["code"] == "CUSTOM_ID_TAKEN" and duplicate_id in message.error_text
