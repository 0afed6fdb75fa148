"""The orders a person settled outside the app, kept across shop/redact (table handled_orders, by the
store's domain), and honoured after the store installs the app again.

Why: an order a person closed as handled (`ledger.handled`: entered in the ERP by hand, say) is never
imported again, as its orders message says so, and one linked to an ERP order typed by hand
(`ledger.order_link_by_hand`) is "already" in the ERP, as its link says so. shop/redact (the store
uninstalled 48 h before) deletes that message and that link with the rest of the store's data
(`ledger.privacy.redact_shop`), so once the merchant installed the app again the order reaching it
(an orders/updated after its cause was fixed in Shopify, the reconciliation's import of an order it
finds in no ledger, orders/paid of one that waited) was posted to the ERP: a second ERP order of a
sale the merchant had settled by hand, picked, invoiced and delivered twice.

What is kept is a domain, the order's numeric id and when it was closed: no personal data (the
person, their note and the order's contents go with the rest). `keep` writes it in the redact's
transaction, before the rows it reads from are deleted. The import (`jobs.orders`, an outer join of
the one SELECT it makes anyway) finds it for an order with no message of its own yet and `close`s the
order's new message as handled, saying in the merchant's words that it was closed by hand in an
earlier installation: from then on every flow reads it as the first installation did (the import
never posts it, a cancellation fails for a person as CANCEL_HANDLED_BY_HAND since an ERP order typed
by hand may be live, the reconciliation holds it). A second redact keeps it again from that message.

An order the app posted in the first installation needs nothing kept: posted again, the ERP answers
the order it holds (idempotent on seqCanalVenda + idPedidoCanalVenda, the order's gid).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import handled, trace
from ledger.models import HandledOrder, Message, MessageStatus, OrderLink, Shop, as_utc

FLOW = "orders"  # the import's flow (jobs.orders.FLOW): its unit key is "order:<numeric id>"
PREFIX = "order:"
ORDER_GID = "gid://shopify/Order/"
# In a message's handled record (ledger.handled.info): closed by the app on a kept fact, not by a
# person of this installation (no `by`; the pages say its words, not a person's note).
EARLIER = "earlier_installation"


def keep(session: Session, shop: Shop) -> int:
    """Keep, by the shop's domain, each order whose orders message was closed as handled or whose
    link is to an ERP order typed by hand; the number of rows added (one kept before stays)."""
    found: dict[str, datetime] = {}
    closed = session.execute(
        select(Message.unit_key, Message.error_detail, Message.updated_at).where(
            Message.shop_id == shop.id, Message.flow == FLOW, trace.closed_as_handled()
        )
    )
    for key, detail, updated_at in closed:
        if key.startswith(PREFIX):
            at = (handled.info_of(MessageStatus.SKIPPED.value, detail) or {}).get("at")
            found[key.removeprefix(PREFIX)] = as_utc(datetime.fromisoformat(str(at))) if at else updated_at
    linked = session.execute(
        select(OrderLink.shopify_order_id, OrderLink.updated_at).where(
            OrderLink.shop_id == shop.id, OrderLink.hand_linked_erp.is_not(None)
        )
    )
    for gid, updated_at in linked:
        found.setdefault(gid.removeprefix(ORDER_GID), updated_at)
    known = set(session.scalars(select(HandledOrder.order_id).where(HandledOrder.domain == shop.domain)))
    new = [HandledOrder(domain=shop.domain, order_id=num, handled_at=at)
           for num, at in found.items() if num not in known]  # fmt: skip
    session.add_all(new)
    session.flush()
    return len(new)


def close(session: Session, message: Message, handled_at: datetime) -> None:
    """Close the order's new message as handled, on the fact kept from an earlier installation."""
    at = f"{as_utc(handled_at):%Y-%m-%d %H:%M}"
    note = f"closed as handled outside the app in an earlier installation of the app ({at} UTC)"
    record: dict[str, Any] = {"by": None, "at": as_utc(handled_at).isoformat(), "note": note, "status": None,
                              "error_class": None, "error_text": None, EARLIER: True}  # fmt: skip
    message.error_detail = {handled.KEY: record}
    reason = (
        f"{note}, before the store's data was erased after an uninstall (Shopify's shop/redact): not sent "
        "to the ERP, which may hold it typed by hand"
    )
    trace.skip(session, message, reason, words=("order_handled_before", {"at": at}))


def by_app(closed: dict[str, Any] | None) -> bool:
    """Whether a handled record (ledger.handled.info) was written by `close`, not by a person."""
    return bool(closed and closed.get(EARLIER))
