"""The daily full catalog sweep (schedule `catalog_full`): `catalog sync --full` without a person.

Why: the products and skus passes read what changed since their watermark, and a packaging
deleted in the ERP (its ProdutoSku row gone) changes nothing they can read, so its variant would
stay ACTIVE, priced and stocked, and its orders fail in the ERP. Only a read of every packaging
tells it is gone (jobs/catalog_flow.py, jobs.catalog_unlisted: retired once its absence is
proven, held for a person when the read cannot prove it). This runs that read once a day (default
05:00 UTC, 02:00 in Brasília, before the reconciliation; editable on the Flows page like every
schedule). It pushes only what differs from what Shopify has (the digest), by direct calls or one
bulk operation above `bulk_threshold`, so an unchanged catalog costs a read and no mutation. Its
product messages are the products flow's, its held packagings the skus flow's "catalog:unlisted".

It holds both catalog flows' locks and the shop's catalog lock for the read: a catalog pass
running raises Transient (RQ runs the sweep again shortly; after its last retry the schedule shows
it failed, and the next day's sweep tries again).
"""

from __future__ import annotations

from typing import Any

from jobs import catalog_flow, sweeps
from jobs.catalog_load import SyncResult, reset_progress, schedule_progress
from jobs.shop_served import served_only, skipped_dict
from ledger.errors import Transient
from ledger.handled import unless_handled

FLOW = "catalog_full"


@served_only(FLOW, skipped_dict, needs_erp=True)
def run(shop_id: int) -> dict[str, Any]:
    """One scheduled sweep (jobs.scheduler); progress on its Schedule row for the Flows page.
    Skipped when a sweep of the shop already runs."""
    from rq import get_current_job

    job = get_current_job()

    def sweep() -> SyncResult:
        # Its bar is on its own Schedule row, which initial_load does not clear (products, skus):
        # shown running from here, not with the last sweep's count.
        reset_progress(shop_id, [FLOW])
        return catalog_flow.initial_load(
            shop_id, progress=schedule_progress(shop_id, FLOW), bulk=None, job_id=job.id if job else None
        )

    busy = Transient(f"catalog of shop {shop_id} is busy; the full sweep is retried later").worded(
        "catalog_busy_full_sweep"
    )
    result = sweeps.run_alone(shop_id, FLOW, sweep, busy)
    return (result or SyncResult(busy=True)).as_dict()


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """The flows' contract (ledger.flows): the sweep writes no message of its own (its products'
    are the products flow's), so a replay of one is the shop's sweep run again."""
    return run(sweeps.shop_of(message_id))
