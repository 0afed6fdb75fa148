"""`for_shop(shop_id)`: the ErpClient configured for one shop, from the ledger.

The shop's ErpConnection row (set on the setup page) holds the base URL, user and the password
as ciphertext (ledger.crypto). Without a row, the demo/embedded fallback applies only when
explicitly configured, and never in production (a newly installed shop must not reach the
operator's ERP): settings.erp_base_url (CONSINCO_BASE_URL) plus CONSINCO_USER and
CONSINCO_PASSWORD in the environment (read here and nowhere else). Otherwise the flow is parked
with MappingMissing("erp_connection") until the merchant fills in the connection.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from erp.address import policy_for
from erp.client import ErpClient
from ledger import erp_place, fence
from ledger.crypto import decrypt
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import ErpConnection, utcnow
from settings import get_settings

log = logging.getLogger(__name__)

ENV_USER = "CONSINCO_USER"
ENV_PASSWORD = "CONSINCO_PASSWORD"  # noqa: S105 (the variable's name, not a secret)


def verified(shop_id: int, connection: tuple[str, str, bytes], database_url: str | None = None) -> None:
    """A login with the shop's stored address, user and password succeeded: the connection is
    verified (ErpConnection.verified_at), once, and only while the row still holds what the
    client logged in with (a save since cleared it: the new values are not proven yet). A database
    failure is logged, never the run's: the next login tries again."""
    base_url, username, password_enc = connection
    try:
        with session_scope(database_url) as session:
            session.execute(
                update(ErpConnection)
                .where(
                    ErpConnection.shop_id == shop_id,
                    ErpConnection.base_url == base_url,
                    ErpConnection.username == username,
                    ErpConnection.password_enc == password_enc,
                    ErpConnection.verified_at.is_(None),
                )
                .values(verified_at=utcnow(), updated_at=ErpConnection.updated_at)  # (not a save)
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError as exc:
        log.warning("erp: the connection of shop %s logged in, not recorded as verified (%s)", shop_id,
                    type(exc).__name__)  # fmt: skip


def has_connection(shop_id: int, *, database_url: str | None = None) -> bool:
    """Whether the shop has an ERP to read: its saved connection, or the environment fallback
    `for_shop` would use (never in production)."""
    with session_scope(database_url) as session:
        saved = session.scalar(select(ErpConnection.id).where(ErpConnection.shop_id == shop_id))
    return saved is not None or _fallback() is not None


def for_shop(shop_id: int, *, database_url: str | None = None, **options: Any) -> ErpClient:
    """The shop's ErpClient. `options` go to ErpClient (page_size, overlap, retry, session...); the
    read overlap is ERP_READ_OVERLAP's unless `overlap` is given.

    Raises MappingMissing("erp_connection", str(shop_id)) when the shop has no ERP connection
    and no environment fallback is set; ledger.crypto.SecretUnreadable when ENCRYPTION_KEY
    cannot decrypt the stored password. In production every connection the client opens is
    checked against erp/address.py (a refused one raises ErpAddressRefused).
    """
    settings = get_settings()
    options.setdefault("overlap", timedelta(seconds=settings.erp_read_overlap))  # ERP_READ_OVERLAP
    with session_scope(database_url) as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shop_id)).one_or_none()
        found = None if row is None else (row.base_url, row.username, bytes(row.password_enc))
        if row is not None:  # the ERP this run reads: its cursors move only while it stays (ledger.fence)
            fence.note_erp(shop_id, row.moves or 0)
    if found is not None:
        base_url, username, password_enc = found
        policy = policy_for(settings)
        if policy is not None:
            options["session"] = policy.protect(options.get("session"))
        options.setdefault("on_login", lambda: verified(shop_id, found, database_url))
        return ErpClient(base_url, username, decrypt(password_enc), **options)
    fallback = _fallback()
    if fallback is not None:
        return ErpClient(*fallback, **options)
    raise MappingMissing(
        "erp_connection",
        str(shop_id),
        f"this store has no ERP connection: enter the Consinco URL, user and password on the setup page "
        f"(or set {ENV_USER} and {ENV_PASSWORD} for the demo)",
        words=("erp_connection_missing", {"user": ENV_USER, "password": ENV_PASSWORD}),
        shop_id=shop_id,
    )


def erp_address(base_url: str | None) -> str | None:
    """Which ERP a shop reaches, as comparable text: its ErpConnection's base URL (None: it has no
    row), else the environment fallback for_shop would use, else None (no ERP). Normalised as the
    client sends it (one trailing slash), scheme and host in lower case. Shops with one address
    share one Consinco and its companies; company 1 of another address is another company."""
    if base_url is None:
        fallback = _fallback()
        if fallback is None:
            return None
        base_url = fallback[0]
    return erp_place.normalised(base_url)


def same_erp(before: str, after: str) -> bool:
    """Whether two ERP addresses reach the same ERP as far as an address can tell: equal once
    normalised (erp_address) but for the scheme and a default port (http -> https of one host is
    the same Consinco, its numbers and change stream the same). Another host or path is another
    ERP (a homologation copy and production share none of their cursors). The rule is
    ledger.erp_place's, which the hand link of an ERP order uses too."""
    return erp_place.same(before, after)


def _fallback() -> tuple[str, str, str] | None:
    """(base URL, user, password) from the environment: the demo's; production: each shop its own."""
    user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
    settings = get_settings()
    if user and password and not settings.is_production:
        return settings.erp_base_url, user, password
    return None
