"""The daily full price sweep (schedule `prices_full`): every pair's prices read whole once a day.

Why: the prices flow reads what changed since its watermark, and two things change what the ERP
means without a change time a read can see. A promotion the ERP gives by its running flag alone
(promocaoVigente, no start or end date: jobs.price_map.promotion_running trusts the flag then)
ends at the ERP's midnight with its row untouched (Consinco leaves DTAALTERACAO as it was), and
with no date remembered nothing ends it: the variant stayed at the promotional price, the
reconciliation comparing against the same remembered state. And a row an ERP batch job stamped
(SYSDATE at its UPDATE) more than the read overlap (ERP_READ_OVERLAP) before it committed is
behind the watermark when it becomes visible. This reads the store's (company, segment) pair and
every market's pair from no watermark (jobs.prices.sweep, the path a pair's first pass takes),
once a day shortly after the ERP's midnight (default 03:30 UTC, 00:30 in Brasília; editable on
the Flows page like every schedule). It sends only what differs from what was sent (the digests),
so an unchanged catalog costs the ERP reads and not one Shopify call: about one request per 500
price records of each pair (50,000 SKUs: ~100 requests a pair). The watermarks only move forward. Its
messages are the prices flow's; a whole read also does what one always does there (SKUs the pair
no longer lists taken off sale or held for a person: jobs.price_unlisted).

It holds its own lock (the Flows page shows it running by it) and the prices flow's: a prices
pass running raises Transient (RQ runs the sweep again shortly; after its last retry the schedule
shows it failed, and the next day's sweep tries again), never a silent skip.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jobs import prices, sweeps
from jobs.shop_served import served_only, skipped_dict
from ledger.errors import Transient
from ledger.handled import unless_handled

FLOW = "prices_full"


@served_only(FLOW, skipped_dict)
def run(shop_id: int, *, today: date | None = None) -> dict[str, Any]:
    """One scheduled sweep (jobs.scheduler). Skipped when a sweep of the shop already runs."""
    busy = Transient(
        f"the prices flow of shop {shop_id} is running; the full price sweep is retried later"
    ).worded("prices_busy_full_sweep")
    result = sweeps.run_alone(shop_id, FLOW, lambda: prices.sweep(shop_id, today=today), busy)
    if result is None:
        return {"busy": True}
    return {
        "read": result.read,
        "products_sent": result.products_sent,
        "variants_sent": result.variants_sent,
        "unchanged": result.unchanged,
        "waiting": result.waiting,
        "list_prices": result.list_prices,
        "failed": list(result.failed),
    }


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """The flows' contract (ledger.flows): the sweep writes no message of its own (its prices' are
    the prices flow's), so a replay of one is the shop's sweep run again."""
    return run(sweeps.shop_of(message_id))
