"""Re-encrypt every stored secret with ENCRYPTION_KEY's first key (`flask --app app secrets rotate`).

New secrets are encrypted with ENCRYPTION_KEY's first key, and any listed key decrypts. A new key
is added LAST on every process first, then moved first everywhere, and only then is this run
(README: a key put first in one go lets one process write what another cannot read yet). A secret
is re-encrypted only when it is written again (a token refresh, the ERP password saved), so an ERP
password nobody re-types would need the old key for ever. This pass re-encrypts the shops' offline
tokens and ERP passwords with the first key, each row in its own short transaction,
compare-and-swap (a token refreshed meanwhile is rotated as it is now, never put back to the value
read before it); once it reports nothing unreadable, the old key can be dropped from
ENCRYPTION_KEY.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger import crypto
from ledger.db import session_scope
from ledger.models import ErpConnection, OfflineToken, Shop

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # a row changing under the rotation this often is left for the next run


@dataclass
class Rotation:
    rotated: int = 0  # ciphertexts re-encrypted with the first key
    unreadable: list[str] = field(default_factory=list)  # "<shop domain>: <what>" no key decrypts


def rotate_all(keys: str | None = None) -> Rotation:
    result = Rotation()
    with session_scope() as session:
        token_ids = list(session.scalars(select(OfflineToken.id)))
        connection_ids = list(session.scalars(select(ErpConnection.id)))
    for token_id in token_ids:
        columns = ("access_token_enc", "refresh_token_enc")
        _rotate_row(OfflineToken, token_id, columns, "Shopify offline token", keys, result)
    for connection_id in connection_ids:
        _rotate_row(ErpConnection, connection_id, ("password_enc",), "ERP password", keys, result)
    log.info("secrets: %d re-encrypted with the first key, %d unreadable", result.rotated,
             len(result.unreadable))  # fmt: skip
    return result


def _rotate_row(
    model: Any, row_id: int, columns: tuple[str, ...], what: str, keys: str | None, result: Rotation
) -> None:
    """Re-encrypt one row's ciphertexts, compare-and-swap: the UPDATE applies only while the row
    still holds what was read, so a token refreshed (or a password saved) meanwhile is never put
    back to the value read before it (Shopify has consumed that refresh token); the row is read
    again and rotated as it is now."""
    for _ in range(MAX_ROUNDS):
        with session_scope() as session:
            row = session.get(model, row_id)
            if row is None:
                return
            read = {column: getattr(row, column) for column in columns}
            domain = _domain(session, row.shop_id)
            try:
                rotated = {c: None if v is None else crypto.rotate(v, keys) for c, v in read.items()}
            except crypto.SecretUnreadable:
                result.unreadable.append(f"{domain}: {what}")
                return
            table = model.__table__
            unchanged = [
                table.c[c].is_(None) if v is None else table.c[c] == bytes(v) for c, v in read.items()
            ]
            done = session.execute(update(table).where(table.c.id == row_id, *unchanged).values(**rotated))
            if done.rowcount == 1:
                result.rotated += sum(1 for v in rotated.values() if v is not None)
                return
    result.unreadable.append(
        f"{domain}: {what} (it kept changing while it was rotated: run the command again)"
    )


def _domain(session: Session, shop_id: int) -> str:
    shop = session.get(Shop, shop_id)
    return shop.domain if shop is not None else f"shop {shop_id}"
