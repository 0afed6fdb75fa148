"""Re-encrypt every stored secret with the newest key (`flask --app app secrets rotate`).

ENCRYPTION_KEY lists keys newest first: new secrets are encrypted with the first, and any listed
key decrypts. A secret is re-encrypted only when it is written again (a token refresh, the ERP
password saved), so an ERP password nobody re-types would need the old key for ever. This pass
re-encrypts the shops' offline tokens and ERP passwords with the first key, each row in its own
short transaction (a token refresh racing it writes a fresh ciphertext either way); once it reports
nothing unreadable, the old key can be dropped from ENCRYPTION_KEY.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import crypto
from ledger.db import session_scope
from ledger.models import ErpConnection, OfflineToken, Shop

log = logging.getLogger(__name__)


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
        with session_scope() as session:
            token = session.get(OfflineToken, token_id)
            if token is None:
                continue
            domain = _domain(session, token.shop_id)
            try:
                access = crypto.rotate(token.access_token_enc, keys)
                refresh = (
                    None if token.refresh_token_enc is None else crypto.rotate(token.refresh_token_enc, keys)
                )
            except crypto.SecretUnreadable:
                result.unreadable.append(f"{domain}: Shopify offline token")
                continue
            token.access_token_enc, token.refresh_token_enc = access, refresh
            result.rotated += 1 if refresh is None else 2
    for connection_id in connection_ids:
        with session_scope() as session:
            connection = session.get(ErpConnection, connection_id)
            if connection is None:
                continue
            try:
                connection.password_enc = crypto.rotate(connection.password_enc, keys)
                result.rotated += 1
            except crypto.SecretUnreadable:
                result.unreadable.append(f"{_domain(session, connection.shop_id)}: ERP password")
    log.info(
        "secrets: %d re-encrypted with the first key, %d unreadable", result.rotated, len(result.unreadable)
    )
    return result


def _domain(session: Session, shop_id: int) -> str:
    shop = session.get(Shop, shop_id)
    return shop.domain if shop is not None else f"shop {shop_id}"
