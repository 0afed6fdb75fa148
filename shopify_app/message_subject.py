"""What a trace message is about, in the words of a list row: the order's name and ERP number
(#1010 · ERP 7), the ERP company of a stock message, the ERP product of a catalog one, the day of
a reconciliation report. Never a Shopify gid: the Messages page keeps the raw ids in a tooltip.

The order's name comes from its OrderLink (one query per page, `order_names`), else from the
message's search tokens (the flows put the order name there: "#1010", lower-cased). A product's
title comes from the ERP catalog the app keeps (`subject_names`: the "erp_catalog" bindings of
jobs.catalog_cache, whose `data.product.description` is the title the catalog sends, as
jobs.catalog_map names it). `admin_path` says where a gid opens in Shopify's admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.flows import ORDER_FLOWS
from ledger.models import Binding, Message, OrderLink

ORDER_GID = "gid://shopify/Order/"
# Where a gid of these types opens in Shopify's admin (shopify://admin/<path>); a variant, an
# inventory item or a location opens under something the gid alone does not say.
ADMIN_PATHS = {"gid://shopify/Order/": "orders/", "gid://shopify/Product/": "products/"}
CATALOG_CACHE = "erp_catalog"  # jobs.catalog_cache.CACHE_KIND: the ERP records the catalog keeps
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


def product_titles(session: Session, shop_id: int, messages: Iterable[Message]) -> dict[str, str]:
    """The titles ("product:<seq_produto>" -> title) of the ERP products these catalog messages
    are about, as the catalog sends them, in one query; those it does not know are left out."""
    seqs = {m.erp_id for m in messages if m.flow in CATALOG_FLOWS and m.erp_id}
    if not seqs:
        return {}
    rows = session.execute(
        select(Binding.erp_id, Binding.data).where(
            Binding.shop_id == shop_id, Binding.kind == CATALOG_CACHE, Binding.erp_id.in_(sorted(seqs))
        )
    )
    titles = {}
    for erp_id, data in rows:
        product = (data or {}).get("product") if isinstance(data, dict) else None
        title = product.get("description") if isinstance(product, dict) else None
        if isinstance(title, str) and title.strip():
            titles[f"product:{erp_id}"] = title.strip()
    return titles


def subject_names(session: Session, shop_id: int, messages: Iterable[Message]) -> dict[str, str]:
    """What `subject` names these messages' things by: order names by gid, product titles."""
    rows = list(messages)
    return order_names(session, shop_id, rows) | product_titles(session, shop_id, rows)


def admin_path(gid: str | None) -> str | None:
    """Where a Shopify gid opens in the admin ("orders/123"), or None when that is not known."""
    for prefix, path in ADMIN_PATHS.items():
        if gid and gid.startswith(prefix) and gid.removeprefix(prefix).isdigit():
            return path + gid.removeprefix(prefix)
    return None


def _name_token(message: Message) -> str | None:
    return next((t for t in (message.search_text or "").split() if len(t) > 1 and t.startswith("#")), None)


def subject(message: Message, names: dict[str, str] | None = None) -> dict[str, Any]:
    """`kind` order (`name`, `erp` its NROPEDVENDA, `shopify_number` when no name is known),
    company (`erp`), product (`erp`, `title` when known), report (`name`: its day), else other
    (`name`: the unit key). `names`: `subject_names` (or `order_names`) of the messages."""
    gid = _order_gid(message)
    if message.flow in ORDER_FLOWS or gid:
        name = (names or {}).get(gid or "") or _name_token(message)
        number = gid.removeprefix(ORDER_GID) if gid and not name else None
        return {"kind": "order", "name": name, "erp": message.erp_id, "shopify_number": number}
    if message.flow == "stock" and message.erp_id:
        return {"kind": "company", "erp": message.erp_id}
    if message.flow in CATALOG_FLOWS and message.erp_id:
        title = (names or {}).get(f"product:{message.erp_id}")
        return {"kind": "product", "erp": message.erp_id, "title": title}
    if message.flow == "reconcile" and message.unit_key.startswith(REPORT):
        return {"kind": "report", "name": message.unit_key.removeprefix(REPORT)}
    return {"kind": "other", "name": message.unit_key}
