"""TabelaPrecoItem records the client cannot read: each fails alone, the rest of the read goes on.

Why: one price record missing a field the prices flow needs (or holding one it cannot read)
stopped the whole read, so no price of the store (or of a price list) moved, on every pass, and no
message named the record. Now each prices read (the store's pair, jobs.prices; each price list's
pair, jobs.price_lists) keeps such a record aside (erp.paging.ChangeRead `keep_malformed`) and it
fails a message of its own (flow "prices", unit "record:<read scope>:<idSku>", rejected) naming
the record, its product, the company and segment and the field, while every other price is sent.
As for the catalog (jobs.catalog_malformed), the read's watermark never passes it, so every pass
reads it again until it can be read, then its message is done; replay runs a prices pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from erp.names import Names
from jobs import catalog_malformed
from ledger.db import session_scope

FLOW = "prices"
UNIT_PREFIX = catalog_malformed.UNIT_PREFIX


def unit_prefix(scope: str) -> str:
    """The unit keys of one read's unreadable records (`scope`: the read's watermark scope)."""
    return f"{UNIT_PREFIX}{scope}:"


def set_aside(
    shop_id: int, read: Any, names: Names, since: datetime | None, scope: str, where: str
) -> catalog_malformed.Hold:
    """The unreadable records of a read consumed whole (call it only then): a failed message each
    (the read's earlier ones done when read now), and how far the read's watermark may move.
    `where` names the read in the merchant's text (the company and segment, the price list)."""
    prefix = unit_prefix(scope)
    malformed = [
        catalog_malformed.describe(FLOW, raw, exc, names, prefix=prefix, where=where)
        for raw, exc in read.malformed
    ]
    with session_scope() as session:
        catalog_malformed.record(session, shop_id, FLOW, malformed, prefix=prefix)
    return catalog_malformed.hold(malformed, since)


def forget(session: Any, shop_id: int, scope: str) -> None:
    """A read no longer made (its price list retired, jobs.price_list_retire): the messages of its
    unreadable records are done, not left failed for good."""
    catalog_malformed.record(session, shop_id, FLOW, [], prefix=unit_prefix(scope))
