"""Orders Shopify no longer lets the app read: older than 60 days, the shop's grant lacking
read_all_orders (shopify_app.scopes: the app does not ask for it, Shopify grants it on request).
Shopify reads such an order null, as it reads a deleted one; the app tells them apart by when it
first saw the order.

`seen_before`: the orders (of given links) the app first saw longer ago than Shopify lets it read
— their link, or their orders message (opened when the order came in), is older; the order is
older still. The reconciliation lists those apart (not "missing in Shopify"), and `unreadable` is
the refusal of an ERP event (an NF-e of an order paid on its 70th day, B2B payment terms; a late
cancellation; a picking edit) whose order read null: ORDER_TOO_OLD_TO_READ for such an order of a
shop without the scope — it exists, the app may not read it: a person applies the event by hand in
the Shopify admin and marks the message handled, or asks Shopify for the scope and clicks Retry —
else NOT_FOUND (the order deleted in Shopify, which cannot come back). An order the app first saw
lately reads null only when it is gone (or was placed long before the app saw it, which nothing
here can tell).

The import of an order (jobs.orders) meets the same null when the order waited for its payment past
the window (a boleto re-issued, B2B NET 60/90 terms): `past_window` tells it from the order's
message and Shopify's creation time (a webhook's payload), and `import_refusal` says what to do (the
order goes to the ERP by hand, or Retry once the scope is granted). While such an order waits and is
still readable, `readable_until` is when the app stops reading it, worth saying from WARN_BEFORE
ahead (`ends_soon`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, OrderLink, Shop, as_utc, utcnow
from ledger.words import Words
from shopify_app.scopes import ALL_ORDERS, ORDERS_READABLE, reads_all_orders

TOO_OLD = "ORDER_TOO_OLD_TO_READ"
WARN_BEFORE = timedelta(days=10)  # a waiting order says when it stops being readable from its 50th day
IN_CHUNK = 5000  # keys per IN (...) list: PostgreSQL takes at most 65,535 bind parameters a statement


def readable_since() -> datetime:
    """The oldest creation time of an order Shopify lets an app without read_all_orders read now."""
    return utcnow() - ORDERS_READABLE


def _at(value: datetime | str | None) -> datetime | None:
    """A ledger time, or Shopify's ISO text ("2026-01-02T03:04:05Z"), as aware UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return as_utc(value) if value is not None else None


def past_window(scopes: str | None, *seen: datetime | str | None) -> bool:
    """Whether Shopify's null for an order says only that a shop of grant `scopes` may not read it:
    the grant lacks read_all_orders, and the order was created, or the app first saw it, at one of
    `seen` (its orders message's creation, Shopify's createdAt) before `readable_since`. Unknown
    times say nothing: with none, the order was seen lately (a null is an order gone)."""
    if reads_all_orders(scopes or ""):
        return False
    cutoff = readable_since()
    return any(at is not None and at < cutoff for at in map(_at, seen))


def readable_until(scopes: str | None, created_at: datetime | str | None) -> datetime | None:
    """When Shopify stops letting a shop of grant `scopes` read an order created at `created_at`;
    None when the grant reads every order (read_all_orders) or the time is unknown."""
    created = _at(created_at)
    if created is None or reads_all_orders(scopes or ""):
        return None
    return created + ORDERS_READABLE


def ends_soon(until: datetime | None) -> bool:
    """Whether the app stops reading the order within WARN_BEFORE (or has already)."""
    return until is not None and until - WARN_BEFORE <= utcnow()


def import_refusal(order: str) -> Rejected:
    """The refusal of an order's import (jobs.orders) whose Shopify order `order` (its name as the
    merchant knows it) read null past the window (`past_window`): it exists, the app may not read it
    to send it. A person enters it in the ERP by hand and marks the message handled (the import never
    sends it then), or asks Shopify for the scope and clicks Retry."""
    return Rejected(
        f"Shopify no longer lets the app read order {order}: it is older than 60 days and the app "
        f"lacks the {ALL_ORDERS} access (Shopify grants it on request), so it cannot go to the ERP by "
        "itself. Enter it in the ERP by hand and mark this message as handled; or ask Shopify for "
        f"{ALL_ORDERS} and click Retry once it is granted",
        system="shopify",
        code=TOO_OLD,
        words=("order_too_old_to_import", {"order": order}),
    )


def seen_before(session: Any, shop_id: int, links: list[OrderLink]) -> frozenset[str]:
    """The Shopify order ids of these links the app first saw longer ago than Shopify lets an app
    without read_all_orders read (ORDERS_READABLE): their link, or their orders message, is older."""
    cutoff = readable_since()
    old = {link.shopify_order_id for link in links if link.created_at and as_utc(link.created_at) < cutoff}
    keys = {f"order:{link.shopify_order_id.rsplit('/', 1)[-1]}": link.shopify_order_id for link in links}
    ordered = sorted(keys)
    for at in range(0, len(ordered), IN_CHUNK):
        old.update(
            keys[key]
            for key in session.scalars(
                select(Message.unit_key).where(
                    Message.shop_id == shop_id,
                    Message.flow == "orders",
                    Message.unit_key.in_(ordered[at : at + IN_CHUNK]),
                    Message.created_at < cutoff,
                )
            )
        )
    return frozenset(old)


def too_old_to_read(shop_id: int, order_id: str) -> bool:
    """Whether Shopify's null for order `order_id` says only that the app may not read it: the
    order is linked in the ledger (the app imported it), the app first saw it more than 60 days
    ago, and the shop's grant lacks read_all_orders."""
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or reads_all_orders(shop.scopes or ""):
            return False
        link = session.scalars(
            select(OrderLink).where(OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == order_id)
        ).first()
        return link is not None and order_id in seen_before(session, shop_id, [link])


def order_named(shop_id: int, order_id: str) -> str:
    """Order `order_id` (a gid) as the merchant knows it: its name (#1001) when the app linked it,
    else its number in Shopify's admin (the gid's last part), never the gid."""
    with session_scope() as session:
        name = session.scalars(
            select(OrderLink.shopify_order_name).where(
                OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == order_id
            )
        ).first()
    return name or order_id.rsplit("/", 1)[-1]


def unreadable(shop_id: int, order_id: str, todo: str, todo_words: Words) -> Rejected:
    """The refusal of an ERP event whose Shopify order `order_id` read null: ORDER_TOO_OLD_TO_READ
    when it is too old for the app to read (`too_old_to_read`), saying what to apply by hand
    (`todo`: "apply NF-e <key> to the order", in words `todo_words`); else NOT_FOUND, the order
    deleted in Shopify."""
    order = order_named(shop_id, order_id)
    if not too_old_to_read(shop_id, order_id):
        return Rejected(f"Shopify order {order} does not exist", system="shopify", code="NOT_FOUND",
                        words=("event_order_gone", {"order": order}))  # fmt: skip
    return Rejected(
        f"Shopify no longer lets the app read order {order}: it is older than 60 days and the app "
        f"lacks the {ALL_ORDERS} access (Shopify grants it on request). {todo} by hand in the Shopify "
        f"admin and mark this message as handled; or ask Shopify for {ALL_ORDERS} and click Retry once "
        "it is granted",
        system="shopify",
        code=TOO_OLD,
        words=("event_order_too_old", {"order": order, "todo": todo_words}),
    )
