"""What a trace message is about, in the words of a list row: the order's name and ERP number
(#1010 · ERP 7), the ERP company of a stock message, the ERP product of a catalog one, the day of
a reconciliation report. Never a Shopify gid: the Messages page keeps the raw ids in a tooltip.

The order's name comes from its OrderLink (one query per page, `order_names`), else from the
message's search tokens (the flows put the order name there: "#1010", lower-cased). A product's
title comes from the ERP catalog the app keeps (`subject_names`: the "erp_catalog" bindings of
jobs.catalog_cache, whose `data.product.description` is the title the catalog sends, as
jobs.catalog_map names it), for the product a message's unit names: a product's or a price's unit
by its erp_id, an unreadable ERP record's by the seqProduto its request kept, and one naming only
its SKU (its erp_id is the idSku) by that SKU's variant binding, so a SKU is never titled by the
product whose number happens to be its idSku. `admin_path` says where a gid opens in Shopify's admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.bindings import VARIANT_KIND
from ledger.flows import ORDER_FLOWS
from ledger.models import Binding, Message, OrderLink

ORDER_GID = "gid://shopify/Order/"
# Where a gid of these types opens in Shopify's admin (shopify://admin/<path>); a variant, an
# inventory item or a location opens under something the gid alone does not say.
ADMIN_PATHS = {"gid://shopify/Order/": "orders/", "gid://shopify/Product/": "products/"}
CATALOG_CACHE = "erp_catalog"  # jobs.catalog_cache.CACHE_KIND: the ERP records the catalog keeps
CATALOG_FLOWS = ("products", "skus", "prices")
PRODUCT_UNITS = ("product:", "price:")  # catalog units whose erp_id is the seqProduto
RECORD = "record:"  # jobs.catalog_malformed.UNIT_PREFIX: an unreadable ERP record's units
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


def _product_of(message: Message) -> tuple[str | None, str | None]:
    """(seqProduto, idSku) of the ERP thing a catalog message is about, as far as it says. A
    product's or a price's unit names the product by its erp_id; an unreadable record's erp_id is
    its idSku when it has one (jobs.catalog_malformed), so its request says which is which."""
    if message.flow not in CATALOG_FLOWS or not message.erp_id:
        return None, None
    if message.unit_key.startswith(PRODUCT_UNITS):
        return message.erp_id, None
    if message.unit_key.startswith(RECORD):
        request = message.request_payload if isinstance(message.request_payload, dict) else {}
        seq, sku = request.get("seq_produto"), request.get("id_sku")
        return (str(seq) if seq else None), (str(sku) if sku else None)
    return None, None


def sku_products(session: Session, shop_id: int, messages: Iterable[Message]) -> dict[str, str]:
    """The products ("sku:<id_sku>" -> seq_produto) of the SKUs unreadable records name without
    their product, as the SKUs' variant bindings know them, in one query."""
    skus = {sku for m in messages for seq, sku in [_product_of(m)] if sku and not seq}
    if not skus:
        return {}
    rows = session.execute(
        select(Binding.erp_id, Binding.data).where(
            Binding.shop_id == shop_id, Binding.kind == VARIANT_KIND, Binding.erp_id.in_(sorted(skus))
        )
    )
    products = {}
    for erp_id, data in rows:
        seq = data.get("seq_produto") if isinstance(data, dict) else None
        if seq is not None and str(seq).strip():
            products[f"sku:{erp_id}"] = str(seq)
    return products


def product_titles(
    session: Session, shop_id: int, messages: Iterable[Message], skus: dict[str, str] | None = None
) -> dict[str, str]:
    """The titles ("product:<seq_produto>" -> title) of the ERP products these catalog messages
    are about, as the catalog sends them, in one query; those it does not know are left out.
    `skus`: `sku_products` of the messages (the product of a record that names only its SKU)."""
    seqs = {seq for m in messages if (seq := _seq_of(m, skus or {}))}
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


def _seq_of(message: Message, names: dict[str, str]) -> str | None:
    """The seqProduto a catalog message is about: its own, else its SKU's (`names`: sku_products)."""
    seq, sku = _product_of(message)
    return seq or (names.get(f"sku:{sku}") if sku else None)


def subject_names(session: Session, shop_id: int, messages: Iterable[Message]) -> dict[str, str]:
    """What `subject` names these messages' things by: order names by gid, the products of SKUs,
    product titles."""
    rows = list(messages)
    skus = sku_products(session, shop_id, rows)
    return order_names(session, shop_id, rows) | skus | product_titles(session, shop_id, rows, skus)


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
    company (`erp`), product (`erp`, `title` when known; `sku` for an unreadable SKU or price
    record, `erp` then its product when known, else None), report (`name`: its day), else other
    (`name`: the unit key). `names`: `subject_names` (or `order_names`) of the messages."""
    gid = _order_gid(message)
    if message.flow in ORDER_FLOWS or gid:
        name = (names or {}).get(gid or "") or _name_token(message)
        number = gid.removeprefix(ORDER_GID) if gid and not name else None
        return {"kind": "order", "name": name, "erp": message.erp_id, "shopify_number": number}
    if message.flow == "stock" and message.erp_id:
        return {"kind": "company", "erp": message.erp_id}
    if message.flow in CATALOG_FLOWS and message.erp_id:
        seq, sku = _product_of(message)
        if sku:  # an unreadable SKU or price record: its product when known, and the SKU
            seq = _seq_of(message, names or {})
            title = (names or {}).get(f"product:{seq}") if seq else None
            return {"kind": "product", "erp": seq, "title": title, "sku": sku}
        title = (names or {}).get(f"product:{seq}") if seq else None
        return {"kind": "product", "erp": message.erp_id, "title": title}
    if message.flow == "reconcile" and message.unit_key.startswith(REPORT):
        return {"kind": "report", "name": message.unit_key.removeprefix(REPORT)}
    return {"kind": "other", "name": message.unit_key}
