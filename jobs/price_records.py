"""TabelaPrecoItem records the client cannot read: each fails alone, the rest of the read goes on.

Why: one price record missing a field the prices flow needs (or holding one it cannot read)
stopped the whole read, so no price of the store (or of a price list) moved, on every pass, and no
message named the record. Now each prices read (the store's pair, jobs.prices; each price list's
pair, jobs.price_lists) keeps such a record aside (erp.paging.ChangeRead `keep_malformed`) and it
fails a message of its own (flow "prices", unit "record:<read scope>:<idSku>", rejected) naming
the record, its product, the company and segment and the field, while every other price is sent.
As for the catalog (jobs.catalog_malformed), the read's watermark never passes it, so every pass
reads it again until it can be read, then its message is done; replay runs a prices pass. A read
no longer made (the store link moved to another pair, a price list's pair unmapped) never reads
its record again: its message is done by the next pass, saying so (`forget_unread`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from erp.names import Names
from jobs import catalog_malformed
from ledger import trace
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


def unread_skus(read: Any, names: Names) -> set[str | None]:
    """The idSkus of a read's unreadable records (None: one whose SKU cannot be told)."""
    key = names.fields[catalog_malformed.RECORD_NAMES[FLOW]]["id_sku"]
    found: set[str | None] = set()
    for raw, _ in read.malformed:
        value = raw.get(key) if isinstance(raw, dict) else None
        usable = isinstance(value, str | int) and not isinstance(value, bool) and value != ""
        found.add(str(value) if usable else None)
    return found


def forget_unread(session: Any, shop_id: int, scopes: Iterable[str]) -> None:
    """The messages of unreadable records of reads no longer made (`scopes`: the reads the pass
    makes, the store's pair and each mapped price list) are done, saying why: the store link moved
    to another pair, or the pair's list is no longer mapped, so nothing reads the record again and
    its message would stay failed for good, its replay unable to settle it."""
    keep = tuple(unit_prefix(scope) for scope in scopes)
    for message in trace.open_units(session, shop_id, FLOW, UNIT_PREFIX + "%"):
        if not message.unit_key.startswith(keep):
            trace.succeed(session, message, response={
                "not_read": "the record is no longer read: the store's company and segment (or the "
                "price list's mapped pair) changed"})  # fmt: skip
