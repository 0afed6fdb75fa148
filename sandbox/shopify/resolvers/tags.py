"""tagsAdd / tagsRemove on orders, products and customers.

Tags keep their first spelling and are unique case-insensitively; an input tag may hold several
comma-separated tags, as on Shopify. Order changes send orders/updated.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog, order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx, mutation, user_error

TAGGABLE = ("Order", "Product", "Customer")
MAX_TAG_LENGTH = 255


def _split(tags: list[str]) -> list[str]:
    return [part.strip() for tag in tags for part in tag.split(",") if part.strip()]


def _save(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    if doc["__typename"] == "Order":
        saved = order_store.save(ctx, doc)
        emit_order(ctx, saved, "orders/updated")
        return saved
    if doc["__typename"] == "Product":
        return catalog.save_product(ctx, doc)
    doc["updatedAt"] = iso(ctx.now())
    return ctx.store.put(ctx.shop, doc)


def _change(info: GraphQLResolveInfo, node_id: str, tags: list[str], add: bool) -> dict[str, Any]:
    ctx: Ctx = info.context
    doc = ctx.store.get(ctx.shop, node_id)
    if doc is None or doc.get("__typename") not in TAGGABLE:
        return {"node": None, "userErrors": [user_error(["id"], "Resource not found or not taggable.")]}
    wanted = _split(tags)
    too_long = next((t for t in wanted if len(t) > MAX_TAG_LENGTH), None)
    if too_long is not None:
        return {
            "node": None,
            "userErrors": [
                user_error(["tags"], f"Tag is too long (maximum is {MAX_TAG_LENGTH} characters).")
            ],
        }
    current: list[str] = list(doc.get("tags") or [])
    if add:
        for tag in wanted:
            if tag.lower() not in (t.lower() for t in current):
                current.append(tag)
    else:
        dropped = {t.lower() for t in wanted}
        current = [t for t in current if t.lower() not in dropped]
    if current != doc.get("tags"):
        doc["tags"] = current
        doc = _save(ctx, doc)
    return {"node": doc, "userErrors": []}


@mutation("tagsAdd")
def tags_add(_src: Any, info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict:
    return _change(info, id, tags, add=True)


@mutation("tagsRemove")
def tags_remove(_src: Any, info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict:
    return _change(info, id, tags, add=False)
