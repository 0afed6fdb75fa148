"""One shop's setup writes one at a time: the shop row locked until the transaction ends.

A setup save reads what is stored (the store link, a De:Para line, the ERP connection) and
inserts it when there is none. Two saves of a first value at once (Save double-clicked, two
admins) would both read nothing and both insert, the second running into the table's unique key.
Taken as the transaction's first statement, `lock_shop_row` makes the second save wait for the
first's commit and then read its row: it changes that row instead, an idempotent second save.

On PostgreSQL it is `SELECT ... FOR UPDATE` of the shop row (as role changes do). SQLite has no
row locks and ignores FOR UPDATE: there a no-op write takes the database's write lock at once,
before the transaction reads anything, so the second save waits (busy_timeout) and then reads
what the first committed.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.models import Shop

__all__ = ["lock_domain", "lock_shop_row"]


def lock_domain(session: Session, domain: str) -> None:
    """Lock the store's domain (the whole database on SQLite) until `session`'s transaction ends,
    whether or not it has a shop row: an install and a shop/redact of a store with no row (erased
    before, or installed by Shopify and never opened) would each find nothing to lock, and the
    redact then erase the row the install commits meanwhile. A PostgreSQL transaction-level
    advisory lock keyed by the domain (taken again by the same transaction, it is not waited for)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE shops SET id = id WHERE domain = :domain"), {"domain": domain})
        return
    digest = hashlib.sha256(f"shop-domain:{domain.lower()}".encode()).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest[:8], "big", signed=True)}
    )


def lock_shop_row(session: Session, shop_id: int) -> None:
    """Lock the shop's row (the whole database on SQLite) until `session`'s transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        # Plain SQL: an ORM update would also move the row's updated_at (its onupdate).
        session.execute(text("UPDATE shops SET id = id WHERE id = :id"), {"id": shop_id})
    else:
        session.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update())
