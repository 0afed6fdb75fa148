"""A bulkOperationRunMutation whose answer is lost (a 502 on the way) and that Shopify never
started: the runner looks for the operation it may have started among the app's newest, and must
not take an earlier one for it (the previous part's, the previous pass's, already finished and
read), whose result lines would be mapped by line number onto other products."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jobs import catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND
from ledger import bindings
from ledger.db import session_scope
from ledger.errors import Transient
from shopify_app.admin_api.bulk import LOST_ANSWER_GRACE_SECONDS, BulkRunner
from shopify_app.admin_api.errors import ShopifyServerError

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import set_title
from .test_bulk_parts import products, small_limit

REAL_RUN_MUTATION = BulkRunner.run_mutation


def _lost(answer_lost: Any) -> Any:
    real = REAL_RUN_MUTATION

    def lossy(self: BulkRunner, mutation_name: str, staged_path: str, client_identifier: Any) -> Any:
        if mutation_name == "ProductSet" and answer_lost():
            raise ShopifyServerError("502 Bad Gateway", status=502)  # never reached Shopify
        return real(self, mutation_name, staged_path, client_identifier)

    return lossy


def _a_minute_later(client: Any) -> Any:
    """The lost start's intent is looked for again until Shopify's list has had its minute to show
    the operation (BulkRunner._resolve); this client's runner lives past it."""
    client.bulk.clock = lambda: time.time() + LOST_ANSWER_GRACE_SECONDS + 1
    return client


def _product_sets(installed: InstalledShop) -> int:
    store = installed.shopify.sandbox.store
    return sum("productSet" in op["query"] for op in store.scan(SHOP_NAME, "BulkOperation"))


def _misbound(installed: InstalledShop) -> dict[int, int | None]:
    """{seqProduto: the seqProduto of the Shopify product it is bound to} where they differ."""
    with session_scope() as session:
        rows = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(s) for s in range(1, 200)])
    by_gid = {p["id"]: int(p["metafields"]["consinco.seq_produto"]) for p in installed.state()["products"]}
    return {
        int(seq): by_gid.get(row.shopify_id)
        for seq, row in rows.items()
        if row.shopify_id and by_gid.get(row.shopify_id) != int(seq)
    }


def test_a_lost_start_of_the_second_part_is_not_confirmed_and_binds_nothing_wrong(
    installed: InstalledShop, monkeypatch
) -> None:
    starts: list[int] = []

    def second_start() -> bool:
        starts.append(1)
        return len(starts) == 2

    monkeypatch.setattr(BulkRunner, "run_mutation", _lost(second_start))
    with pytest.raises(Transient, match="not confirmed"):
        catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert _misbound(installed) == {}
    monkeypatch.setattr(BulkRunner, "run_mutation", REAL_RUN_MUTATION)
    with pytest.raises(Transient, match="does not list it yet"):  # at once: nothing sent blind
        catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    result = catalog_flow.initial_load(
        installed.shop_id, client=_a_minute_later(small_limit(installed)), bulk=True
    )
    assert result.failed == 0 and _misbound(installed) == {}
    assert len(products(installed)) == len(set(products(installed))) == 38


def test_a_lost_start_a_minute_after_the_previous_pass_adopts_nothing(
    installed: InstalledShop, monkeypatch
) -> None:
    """The skus and products passes are due the same minute: the previous pass's operation,
    finished and read, is not the one the lost answer started."""
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    installed.set_setting("bulk_threshold", 5)
    for seq in range(20, 30):
        set_title(installed.erp, seq, f"Novo {seq}")
    sent = _product_sets(installed)
    monkeypatch.setattr(BulkRunner, "run_mutation", _lost(lambda: True))
    with pytest.raises(Transient, match="not confirmed"):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert _misbound(installed) == {}
    monkeypatch.setattr(BulkRunner, "run_mutation", REAL_RUN_MUTATION)
    catalog_flow.run_flow(installed.shop_id, "products", client=_a_minute_later(installed.client()))
    assert _misbound(installed) == {} and _product_sets(installed) == sent + 1
    titles = {int(p["metafields"]["consinco.seq_produto"]): p["title"] for p in installed.state()["products"]}
    renamed = [seq for seq in range(20, 30) if seq in titles]
    assert renamed and all(titles[seq] == f"Novo {seq}" for seq in renamed)
