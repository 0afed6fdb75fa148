"""Items an earlier version created untracked: tracked once, by one products pass that re-plans
every product from the ERP cache.

Why: Shopify creates an inventory item through the API untracked unless told, so every item the
app created before it sent `tracked: true` (jobs/catalog_map.py) sells without limit and the
stock flow is refused its level ("not tracked"). Sending `tracked` changed every product's
digest, but an incremental products pass only plans the products the ERP changed since its
watermark: in a shop whose catalogue has not changed those items would stay untracked for ever.

How: a marker binding (kind `items_tracked`, one per shop) says every product was planned with
the current item input. While it is missing, the products pass adds every product of the ERP
cache to its plan (the cache holds the newest records the flows read: no ERP read), and the
digests decide: products an earlier version sent go again (their digest moved), the others
cost nothing. The marker is written only once the pass returned (a transient failure raises
before it, so RQ's retry plans them all again, those taken costing nothing); a product Shopify
refused stays failed on its message, whose Retry sends it tracked. The initial load sends every
product with the current input and writes it too.

Why this and not the stock flow turning tracking on item by item (inventoryItemUpdate takes one
item per call): a supermarket has 20-50k SKUs, so tens of thousands of calls on the stock flow's
lane, holding every level behind them for an hour on a standard shop's rate; more than the
shop's `bulk_threshold` products changed are one bulk operation of productSet lines here, as in
the initial load, and every item is tracked, those without ERP stock control too. The stock
flow reads each company's ERP rows whole once after the marker is written (its
`stock_tracked_from` marker, jobs/stock.py), so the levels it was refused while the items were
untracked are written although their ERP rows did not move.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jobs import catalog_cache
from ledger import bindings
from ledger.bindings import ITEMS_TRACKED_KIND, BindingRow
from ledger.models import utcnow

MARK = "store"  # the one marker's erp_id


def mark(session: Session, shop_id: int) -> str | None:
    """The marker's value (when every product was planned tracked), None while it is missing."""
    found = bindings.get_many(session, shop_id, ITEMS_TRACKED_KIND, [MARK]).get(MARK)
    return None if found is None else found.digest


def products_to_retrack(session: Session, shop_id: int) -> list[int]:
    """Every cached product while the marker is missing (the products pass re-plans them), else none."""
    return [] if mark(session, shop_id) is not None else catalog_cache.all_seqs(session, shop_id)


def write_mark(session: Session, shop_id: int) -> None:
    """Every product was planned with its items tracked: no pass re-plans them for this again."""
    bindings.upsert_many(session, shop_id, ITEMS_TRACKED_KIND, [BindingRow(MARK, None, utcnow().isoformat())])
