"""The daily full stock sweep (schedule `stock_full`): every mapped company's stock read whole.

Why: the stock flow reads the rows changed since each company's watermark, less the read overlap
(ERP_READ_OVERLAP, 120 s by default). Oracle stamps DTAALTERACAO (SYSDATE) when a transaction
UPDATEs a row and readers see the row only at its COMMIT: an ERP batch job (a nightly stock
routine, an inventory count closing) committing minutes after its stamps leaves rows behind a
watermark that moved past them meanwhile, never read again: Shopify went on selling what the ERP
no longer had. This reads every mapped company from no watermark (jobs.stock.sweep, the path a
company's first pass takes) once a day shortly after the ERP's midnight (default 03:45 UTC, 00:45
in Brasília; editable on the Flows page like every schedule), so such a row lands within a day;
an ERP whose batches commit later than the overlap should also raise ERP_READ_OVERLAP, so the next
incremental pass reads them.

Cost: the ERP reads and a comparison per level, not one Shopify call for a level unchanged since
it was last sent (the "stock" binding's digest); a changed one is written by compare-and-swap like any
other. ProdutoEstoque has one row per company and product: 50,000 SKUs at 10 companies is at most
500,000 rows, about 1,000 requests of 500 rows, and the ledger's bindings of those levels read in
the comparison. The watermarks only move forward. Its messages are the stock flow's.

It holds its own lock (the Flows page shows it running by it) and the stock flow's: a stock pass
running raises Transient (RQ runs the sweep again shortly; after its last retry the schedule shows
it failed, and the next day's sweep tries again), never a silent skip.
"""

from __future__ import annotations

from typing import Any

from jobs import stock, sweeps
from jobs.shop_served import served_only, skipped_dict
from ledger.errors import Transient
from ledger.handled import unless_handled

FLOW = "stock_full"


@served_only(FLOW, skipped_dict)
def run(shop_id: int) -> dict[str, Any]:
    """One scheduled sweep (jobs.scheduler). Skipped when a sweep of the shop already runs."""
    busy = Transient(
        f"the stock flow of shop {shop_id} is running; the full stock sweep is retried later"
    ).worded("stock_busy_full_sweep")
    result = sweeps.run_alone(shop_id, FLOW, lambda: stock.sweep(shop_id), busy)
    if result is None:
        return {"busy": True}
    return {
        "companies": list(result.companies),
        "refused": list(result.refused),
        "closed": list(result.closed),
        "levels_sent": result.levels_sent,
        "unchanged": result.unchanged,
        "policies_sent": result.policies_sent,
        "failed": list(result.failed),
    }


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """The flows' contract (ledger.flows): the sweep writes no message of its own (its levels' are
    the stock flow's), so a replay of one is the shop's sweep run again."""
    return run(sweeps.shop_of(message_id))
