"""A worker killed after Shopify accepted bulkOperationRunMutation but before the app wrote the
operation's id (SIGKILL, OOM, the job's timeout): the operation still runs in Shopify. Unguarded,
the next pass would send directly and the orphan's older lines land over the newer ones, while
the ledger keeps the newer digest (Shopify stale until the ERP changes the product again). The
intent written before the start guards it: the next pass finds it by its text and waits for it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from jobs import catalog_flow
from shopify_app.admin_api.bulk import BulkRunner
from shopify_app.admin_api.errors import BulkStillRunning

from .conftest import InstalledShop
from .erp_writes import set_title

REAL = BulkRunner.run_mutation


class WorkerKilled(BaseException):
    pass


def titles(installed: InstalledShop) -> dict[int, str]:
    return {int(p["metafields"]["consinco.seq_produto"]): p["title"] for p in installed.state()["products"]}


def test_an_operation_started_by_a_run_killed_before_recording_it_never_lands_over_a_later_push(
    installed: InstalledShop, monkeypatch
) -> None:
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    changed = sorted(titles(installed))[:10]
    target = changed[0]

    # the orphan: Shopify runs it, held until released (a big operation takes minutes)
    sandbox_bulk = installed.shopify.sandbox.bulk
    gate = threading.Event()
    held: set[str] = set()
    holding = [False]
    original_line = sandbox_bulk._line

    def slow_line(executor: Any, shop: str, op: dict, raw: str, number: int) -> Any:
        if holding[0] and "productSet" in op["query"]:
            held.add(op["id"])
        if op["id"] in held:
            gate.wait(30)
        return original_line(executor, shop, op, raw, number)

    def killed_after_accept(self: BulkRunner, name: str, path: str, ident: Any) -> Any:
        REAL(self, name, path, ident)
        raise WorkerKilled  # SIGKILL between Shopify's answer and the Redis record

    monkeypatch.setattr(sandbox_bulk, "_line", slow_line)
    try:
        installed.set_setting("bulk_threshold", 5)
        for seq in changed:
            set_title(installed.erp, seq, f"Novo {seq}")
        monkeypatch.setattr(BulkRunner, "run_mutation", killed_after_accept)
        holding[0] = True
        with pytest.raises(WorkerKilled):
            catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
        monkeypatch.setattr(BulkRunner, "run_mutation", REAL)
        deadline = time.monotonic() + 15  # Shopify starts the operation on its own time
        while not held and time.monotonic() < deadline:
            time.sleep(0.02)
        holding[0] = False
        assert held

        # the ERP changes the product again; the next pass (direct: under the threshold) must not
        # send while the orphan still writes
        installed.set_setting("bulk_threshold", 1000)
        set_title(installed.erp, target, f"Mais novo {target}")
        client = installed.client()
        client.bulk.leftover_wait = 0.3
        with pytest.raises(BulkStillRunning):
            catalog_flow.run_flow(installed.shop_id, "products", client=client)
    finally:
        gate.set()  # the orphan operation ends
    for op_id in held:
        sandbox_bulk.wait(op_id)

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    now = titles(installed)
    assert now[target] == f"Mais novo {target}"
    assert all(now[seq] == f"Novo {seq}" for seq in changed[1:])
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.created + again.changed == 0
