"""The shops a command-line flow runs on (`catalog`, `reconcile`): every active one, or the one
named with --shop, refused up front, saying why, when it is not active (uninstalled, or its
access token needs the merchant to authorize the app again): such a shop's flows would read
the ERP and write reports for a store the app can no longer reach."""

from __future__ import annotations

import click
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import Shop, ShopStatus

WHY_NOT_ACTIVE = {
    ShopStatus.UNINSTALLED.value: "is uninstalled (the app runs again for it once it is reinstalled)",
    ShopStatus.NEEDS_REAUTH.value: "needs re-authorization (open the app in the store's Shopify admin)",
}


def named_shop(domain: str, *, active: bool = True) -> tuple[int, str]:
    """(id, domain) of the shop `domain`; a ClickException when there is none or (`active`: the
    command would run a flow, not only read what is stored) it is not active."""
    with session_scope() as session:
        row = session.execute(
            select(Shop.id, Shop.domain, Shop.status, Shop.status_reason).where(Shop.domain == domain)
        ).one_or_none()
    if row is None:
        raise click.ClickException(f"no shop {domain!r}")
    if active and row.status != ShopStatus.ACTIVE.value:
        why = WHY_NOT_ACTIVE.get(row.status, f"is {row.status}")
        reason = f": {row.status_reason}" if row.status_reason else ""
        raise click.ClickException(f"shop {domain} {why}{reason}")
    return int(row.id), row.domain


def active_shops() -> list[tuple[int, str]]:
    """(id, domain) of every active shop, oldest first."""
    with session_scope() as session:
        stmt = select(Shop.id, Shop.domain).where(Shop.status == ShopStatus.ACTIVE.value).order_by(Shop.id)
        return [(int(row.id), row.domain) for row in session.execute(stmt)]
