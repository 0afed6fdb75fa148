"""Load 1: Consinco products (ProdutoCV) -> Shopify products. Source: ProdutoCV, cursor:
DtaHorAlteracao (MAP_PRODUTO.DTAHORALTERACAO), unit of work: one product ("product:<seq>").

This flow owns the product-level facts (title, description, brand, category, weighed flag,
INDINTEGRAECOMMERCE). It merges the ProdutoCV records changed since its watermark into the
ledger cache and upserts each touched product with productSet, building it from the cache with
the SKU records the skus flow (jobs/skus.py) keeps there: a product change needs no SKU
re-read. Both flows go through jobs/catalog_flow.py (shared catalog lock, same push function),
so they never fight; see that module for the watermark rule and jobs/catalog_map.py for how a
product is mapped (statuses, inactive SKUs, weighed items).
"""

from __future__ import annotations

from typing import Any

from jobs import catalog_flow
from jobs.catalog_load import schedule_progress
from jobs.shop_served import served_only, skipped_dict
from ledger.handled import unless_handled

FLOW = "products"


@served_only(FLOW, skipped_dict, needs_erp=True)
def run(shop_id: int) -> dict[str, Any]:
    """One scheduled pass (jobs.scheduler); progress on Schedule.progress for the dashboard."""
    job_id = _current_job_id()
    result = catalog_flow.run_flow(shop_id, FLOW, progress=schedule_progress(shop_id, FLOW), job_id=job_id)
    return result.as_dict()


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """Re-send one product from the ledger cache (see catalog_flow.replay)."""
    return catalog_flow.replay(message_id).as_dict()


def _current_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None
