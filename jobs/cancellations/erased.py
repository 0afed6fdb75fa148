"""A Shopify cancellation of an order placed in an installation whose data shop/redact erased.

Why: the store uninstalled the app, Shopify sent shop/redact (the app erased the store's data, its
order links with it, as the law has it: ledger.privacy.redact_shop), the merchant installed the app
again. An order placed in the earlier installation may be in the ERP (the app sent it then, or a
person entered it there by hand), but the app no longer knows its ERP number, and the ERP cannot be
asked for an order by its channel order id (only PedidoVenda/{nroPedVenda}). Cancelled in Shopify
now, it was closed as "never sent to the ERP: nothing to cancel there", leaving the ERP order live to
be picked, invoiced and delivered. Nor can the order be posted again to learn the number (the ERP
answers the order it holds): cancelled, its lines are gone, and one the ERP never had would be made
only to be cancelled.

So the cancellation fails for a person (CANCEL_ORDER_ERASED) naming the order's channel order id
(`gid://shopify/Order/<n>`, the ERP's idPedidoCanalVenda of an order the app sent), as the ERP's
events of such an order say it was erased (jobs.order_events.unknown_order): look it up in the ERP,
cancel it there, then mark the message handled.
An order placed while the app was not installed (before its first install: the store's earlier
connector's time, or between an uninstall and a reinstall) may be in the ERP too, sent by that
connector or by hand: its cancellation fails for a person the same way (CANCEL_ORDER_BEFORE_APP,
`placed_without_app`); an order placed in the current installation and never sent is closed as
never sent. The order's creation time comes with orders/cancelled (kept on the message for its
Retry); without it (a cancellation enqueued by the reconciliation, which enqueues only orders the
app holds) nothing changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ledger import install_periods
from ledger.errors import Rejected
from ledger.models import Shop, as_utc


def erased_when(session: Session, shop_id: int, created_at: str | None) -> datetime | None:
    """When the store's earlier data was erased (the uninstall that ended that installation), if the
    order (created at `created_at`, Shopify's ISO time) was placed while an installation whose data
    went was on; else None."""
    shop = session.get(Shop, shop_id)
    if shop is None or not created_at:
        return None
    erased = install_periods.erased_before(session, shop)
    if erased is None:
        return None
    try:
        placed = as_utc(datetime.fromisoformat(created_at.replace("Z", "+00:00")))
    except ValueError:
        return None
    if placed > erased or install_periods.of_store(session, shop.domain, shop.created_at).gap_at(placed):
        return None
    return erased


def placed_without_app(session: Session, shop_id: int, created_at: str | None) -> datetime | None:
    """The install after the stretch without the app the order (created at `created_at`) was placed
    in: before the store's first install (its earlier connector's time, or by hand), or between an
    uninstall and the install after it; None when the app was installed then (or it cannot tell)."""
    shop = session.get(Shop, shop_id)
    if shop is None or not created_at:
        return None
    try:
        placed = as_utc(datetime.fromisoformat(created_at.replace("Z", "+00:00")))
    except ValueError:
        return None
    gap = install_periods.of_store(session, shop.domain, shop.created_at).gap_at(placed)
    return None if gap is None else gap.until or as_utc(shop.created_at)


def refusal_without_app(name: str, gid: str, installed: datetime) -> Rejected:
    """The failure for a person: an order the store handled without the app (its earlier connector
    sent it, or it was entered by hand) may be live in the ERP, which the app cannot look up."""
    when = f"{installed:%Y-%m-%d %H:%M}"
    text = (
        f"Order {name} was cancelled in Shopify. It was placed while the app was not installed on this "
        f"store (before its install of {when} UTC), so the app never sent it to the ERP; the store's "
        "earlier connector may have (or it was entered there by hand), and the ERP would then pick and "
        f"invoice it. Look it up in the ERP (by {gid} or as the earlier connector named it) and cancel it "
        "there if it is, then mark this message handled."
    )
    words = ("cancel_order_before_app", {"name": name, "order": gid, "installed": when})
    return Rejected(text, system="app", code="CANCEL_ORDER_BEFORE_APP", words=words)


def refusal(name: str, gid: str, erased: datetime) -> Rejected:
    """The failure for a person: the ERP may hold the order, live, under a number the app lost."""
    when = f"{erased:%Y-%m-%d %H:%M}"
    text = (
        f"Order {name} was cancelled in Shopify. It was placed before the app was uninstalled from this "
        f"store ({when} UTC), and the store's data, its link to any ERP order with it, was erased as "
        "Shopify asks after an uninstall: the app may have sent it to the ERP then (or it was entered there "
        "by hand), and no longer knows its ERP order. Look it up in the ERP by its channel order id "
        f"{gid} (or as entered by hand) and cancel it there, then mark this message handled."
    )
    words = ("cancel_order_erased", {"name": name, "order": gid, "uninstalled": when})
    return Rejected(text, system="app", code="CANCEL_ORDER_ERASED", words=words)
