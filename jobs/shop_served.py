"""A scheduled run of a shop the app does not serve now does nothing: no ERP read, no Shopify call.

The tick starts runs for active shops only (jobs.scheduler), but a run it enqueued a minute before
the uninstall, or a "Run now" still waiting in RQ, was worked after it: it read the supermarket's
ERP (companies, stock, prices, events) for a store the app is no longer installed in, and its units
failed "needs re-authorization" one by one (a price pass: a failed message per price). A shop
parked for re-authorization is skipped alike: the tick skips it, and what it refused is replayed at
the re-approval (shopify_app.shops.retry_reauth_failed), not by these runs. A shop erased by
shop/redact has no row: skipped too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select

from erp import factory as erp_factory
from ledger.db import session_scope
from ledger.models import Shop, ShopStatus

log = logging.getLogger(__name__)

NO_ERP = "without an ERP connection"  # a skipped run's why, for a shop whose ERP connection is not saved

P = ParamSpec("P")
R = TypeVar("R")


def not_served(shop_id: int) -> str | None:
    """Why the app does not run the shop's flows now (its status), or None when it is active."""
    with session_scope() as session:
        status = session.scalar(select(Shop.status).where(Shop.id == shop_id))
    if status == ShopStatus.ACTIVE.value:
        return None
    return status or "erased"


def served_only(
    flow: str, skipped: Callable[[str], Any], *, needs_erp: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`run(shop_id, ...)` of `flow`, run only while the shop is active; else `skipped(status)`.
    `needs_erp`: and only once the shop has an ERP to read (a run with none raised MappingMissing at
    every due time: RQ's retries, then its failed-job registry, the Flows page and the alert e-mails
    told a store waiting for its ERP credentials of hundreds of failed runs a day; the Setup page
    says the connection is missing, and the prices and stock flows park one message saying so)."""

    def wrap(run: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(run)
        def gated(*args: P.args, **kwargs: P.kwargs) -> R:
            shop_id = int(args[0] if args else kwargs["shop_id"])  # type: ignore[call-overload]
            why = not_served(shop_id)
            if why is not None:
                log.info("%s: shop %s is %s; its run skipped", flow, shop_id, why)
                return skipped(why)  # type: ignore[no-any-return] (the run's empty result)
            if needs_erp and not erp_factory.has_connection(shop_id):
                log.info("%s: shop %s has no ERP connection yet; its run waits for it", flow, shop_id)
                return skipped(NO_ERP)  # type: ignore[no-any-return]
            return run(*args, **kwargs)

        return gated

    return wrap


def skipped_dict(status: str) -> dict[str, str]:
    """A dict-returning run's result when skipped."""
    return {"skipped": f"shop {status}"}
