"""What a trace message is about, in the words of a list row: the order's name and ERP number
(#1010 · ERP 7), the ERP company of a stock message, the ERP product of a catalog one, the day of
a reconciliation report. Never a Shopify gid: the Messages page keeps the raw ids in a tooltip.

The order's name comes from its OrderLink (one query per page, `order_names`), else from the
message's search tokens (the flows put the order name there: "#1010", lower-cased).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.flows import ORDER_FLOWS
from ledger.models import Message, OrderLink

ORDER_GID = "gid://shopify/Order/"
CATALOG_FLOWS = ("products", "skus", "prices")
REPORT = "report:"  # jobs.reconcile.report_key


def _order_gid(message: Message) -> str | None:
    gid = message.shopify_id or ""
    return gid if gid.startswith(ORDER_GID) else None


def order_names(session: Session, shop_id: int, messages: Iterable[Message]) -> dict[str, str]:
    """The names of the orders (gid -> "#1010") these messages are about, in one query."""
    gids = {gid for m in messages if (gid := _order_gid(m))}
    if not gids:
        return {}
    rows = session.execute(
        select(OrderLink.shopify_order_id, OrderLink.shopify_order_name).where(
            OrderLink.shop_id == shop_id, OrderLink.shopify_order_id.in_(sorted(gids))
        )
    )
    return {gid: name for gid, name in rows if name}


def _name_token(message: Message) -> str | None:
    return next((t for t in (message.search_text or "").split() if len(t) > 1 and t.startswith("#")), None)


def subject(message: Message, names: dict[str, str] | None = None) -> dict[str, Any]:
    """`kind` order (`name`, `erp` its NROPEDVENDA, `shopify_number` when no name is known),
    company (`erp`), product (`erp`), report (`name`: its day), else other (`name`: the unit key)."""
    gid = _order_gid(message)
    if message.flow in ORDER_FLOWS or gid:
        name = (names or {}).get(gid or "") or _name_token(message)
        number = gid.removeprefix(ORDER_GID) if gid and not name else None
        return {"kind": "order", "name": name, "erp": message.erp_id, "shopify_number": number}
    if message.flow == "stock" and message.erp_id:
        return {"kind": "company", "erp": message.erp_id}
    if message.flow in CATALOG_FLOWS and message.erp_id:
        return {"kind": "product", "erp": message.erp_id}
    if message.flow == "reconcile" and message.unit_key.startswith(REPORT):
        return {"kind": "report", "name": message.unit_key.removeprefix(REPORT)}
    return {"kind": "other", "name": message.unit_key}
