"""The result file of a catalog bulk operation: read whatever order its lines come in, read in
part when the operation stopped part-way, and read again by the retry when its download failed
(the operation finished in Shopify: its products are not sent a second time)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from jobs import catalog_flow
from ledger import watermarks
from ledger.db import session_scope
from ledger.errors import Transient

from .conftest import SHOP_NAME, InstalledShop
from .test_bulk_lost_answer import _misbound
from .test_bulk_parts import products


def _product_set_operations(installed: InstalledShop) -> int:
    store = installed.shopify.sandbox.store
    return sum("productSet" in op["query"] for op in store.scan(SHOP_NAME, "BulkOperation"))


def test_failed_with_partial_results_records_what_landed_and_the_rerun_duplicates_nothing(
    installed: InstalledShop, monkeypatch
) -> None:
    sandbox_bulk = installed.shopify.sandbox.bulk
    original = sandbox_bulk._line
    calls = [0]

    def dies_at_line_20(executor: Any, shop: str, op: dict, raw: str, number: int) -> Any:
        if "productSet" in op["query"]:
            calls[0] += 1
            if calls[0] == 21:
                raise RuntimeError("shopify internal error")
        return original(executor, shop, op, raw, number)

    installed.set_setting("bulk_threshold", 5)
    monkeypatch.setattr(sandbox_bulk, "_line", dies_at_line_20)
    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert len(products(installed)) == 20
    with session_scope() as session:
        assert watermarks.read(session, installed.shop_id, "products").last_changed_at is None
    monkeypatch.setattr(sandbox_bulk, "_line", original)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    assert len(products(installed)) == len(set(products(installed))) == 38
    assert _misbound(installed) == {}


def test_result_lines_in_any_order_bind_each_product_to_its_own(
    installed: InstalledShop, monkeypatch
) -> None:
    store = installed.shopify.sandbox.store
    real_put = store.put_blob

    def shuffled(key: str, data: bytes) -> Any:
        if key.startswith("bulk:"):
            lines = data.splitlines()
            random.Random(3).shuffle(lines)
            data = b"\n".join(lines) + b"\n" if lines else data
        return real_put(key, data)

    monkeypatch.setattr(store, "put_blob", shuffled)
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert result.failed == 0 and result.created == 38
    assert _misbound(installed) == {}


def test_a_result_file_that_cannot_be_read_is_read_by_the_retry_without_sending_again(
    installed: InstalledShop, monkeypatch
) -> None:
    sandbox_bulk = installed.shopify.sandbox.bulk
    real_file = sandbox_bulk.result_file
    refused = [0]

    def once_not_found(op_num: int) -> bytes | None:
        if not refused[0]:
            refused[0] += 1
            return None  # a 404: the link expired, the storage failed
        return real_file(op_num)

    monkeypatch.setattr(sandbox_bulk, "result_file", once_not_found)
    with pytest.raises(Transient, match="download"):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert _product_set_operations(installed) == 1
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert _product_set_operations(installed) == 1  # the finished operation's results, read again
    assert result.failed == 0 and _misbound(installed) == {}
    assert len(products(installed)) == len(set(products(installed))) == 38
