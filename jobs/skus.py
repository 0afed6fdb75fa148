"""Load 2: Consinco SKUs (ProdutoSku: product x packaging) -> Shopify variants. Source:
ProdutoSku, cursor: DtaHorAlteracao (the later of MAP_PRODUTO.DTAHORALTERACAO and
MAP_FAMEMBALAGEM.DTAHORALTEMBPRECO), unit of work: one product ("product:<seq>").

Why per product and not per SKU: productSet replaces a product's variant list whole, so a new
packaging, an EAN, a weight or a status change is sent as the whole product, built from the
ledger cache (this flow's SKU records + the products flow's product record). The split with
jobs/products.py: this flow merges ProdutoSku records into the cache, the products flow merges
ProdutoCV records; both push the touched products through the same function
(jobs/catalog_flow.py) under one catalog lock, so they never fight and an unchanged product
costs nothing (digest). A SKU inactive in the ERP keeps its variant with inventoryPolicy DENY
(binding `active: false`, the stock flow sends 0); see jobs/catalog_map.py. The flow's
"catalog:unlisted" message is a full sync's: packagings its read did not list, held for a person
rather than retired; its "catalog:unlisted:moved" message is this pass's, packagings of changed
products its read no longer listed, held when they are many (jobs.catalog_unlisted.moved), apart so
neither rewrites the other. Either's Retry runs the full sync again, retiring those it named that
are still missing; a full sync closes the moved one, saying what it decided (jobs.catalog_unlisted).
"""

from __future__ import annotations

from typing import Any

from jobs import catalog_flow
from jobs.catalog_load import schedule_progress
from jobs.shop_served import served_only, skipped_dict
from ledger.handled import unless_handled

FLOW = "skus"


@served_only(FLOW, skipped_dict, needs_erp=True)
def run(shop_id: int) -> dict[str, Any]:
    """One scheduled pass (jobs.scheduler); progress on Schedule.progress for the dashboard."""
    from rq import get_current_job

    job = get_current_job()
    result = catalog_flow.run_flow(
        shop_id, FLOW, progress=schedule_progress(shop_id, FLOW), job_id=job.id if job else None
    )
    return result.as_dict()


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """Re-send one product from the ledger cache, or run the full sync a held "catalog:unlisted"
    message asks for (see catalog_flow.replay)."""
    return catalog_flow.replay(message_id).as_dict()
