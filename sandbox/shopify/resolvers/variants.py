"""Variant reads: productVariant(s), productVariantByIdentifier, ProductVariant's computed fields."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import inventory_store, metafield_store
from sandbox.shopify.connections import connection, decode_cursor
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, field, query
from sandbox.shopify.search_query import Term, compare, parse_groups

_VARIANT_FIELDS = {
    "title": "title",
    "updated_at": "updatedAt",
    "created_at": "createdAt",
    "sku": "sku",
    "barcode": "barcode",
}


def _variant(ctx: Ctx, variant_id: str | None) -> dict | None:
    doc = ctx.store.get(ctx.shop, variant_id)
    return doc if doc and doc.get("__typename") == "ProductVariant" else None


@query("productVariant")
def resolve_product_variant(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _variant(info.context, id)


@query("productVariantByIdentifier")
def resolve_variant_by_identifier(_src: Any, info: GraphQLResolveInfo, identifier: dict) -> dict | None:
    ctx: Ctx = info.context
    if identifier.get("id"):
        return _variant(ctx, identifier["id"])
    custom = identifier.get("customId") or {}
    owner = metafield_store.owner_by_unique_value(
        ctx, "PRODUCTVARIANT", custom.get("namespace"), custom.get("key", ""), custom.get("value", "")
    )
    return _variant(ctx, owner)


def _matches(variant: dict[str, Any], terms: list[Term]) -> bool:
    for term in terms:
        if term.field is None:
            if term.value.lower() not in (variant["title"] or "").lower():
                return False
        elif term.field == "product_id":
            if not compare(num_of(variant["productId"]), term.op, term.value):
                return False
        elif term.field == "id":
            if not compare(num_of(variant["id"]), term.op, term.value):
                return False
        elif term.field in _VARIANT_FIELDS and not compare(
            variant.get(_VARIANT_FIELDS[term.field]), term.op, term.value
        ):
            return False
    return True


@query("productVariants")
def resolve_product_variants(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    groups = parse_groups(args.get("query"))
    if groups == [[]] and not (args.get("last") or args.get("before") or args.get("reverse")):
        after = decode_cursor(args.get("after")) or 0
        first = args.get("first") or 0
        docs = ctx.store.scan(ctx.shop, "ProductVariant", after_num=after, limit=first + 1)
        return connection(docs, {"first": first}, has_previous=after > 0)
    indexed = [_indexed(ctx, group) for group in groups]
    if all(found is not None for found in indexed):  # index look-ups only
        by_id = {v["id"]: v for found in indexed for v in found or []}
        candidates = sorted(by_id.values(), key=lambda v: num_of(v["id"]) or 0)
    else:
        candidates = ctx.store.scan(ctx.shop, "ProductVariant")
    return connection([v for v in candidates if any(_matches(v, group) for group in groups)], args)


def _indexed(ctx: Ctx, terms: list[Term]) -> list[dict] | None:
    """Variants an AND-group can only match, found through an index; None when it needs a scan."""
    for term in terms:
        if term.field in ("sku", "barcode") and term.op == "=":
            return ctx.store.find(ctx.shop, f"variant.{term.field}", term.value)
        if term.field == "product_id" and term.op == "=":
            return ctx.store.find(ctx.shop, "variant.product", f"gid://shopify/Product/{term.value}")
    return None


@field("ProductVariant", "product")
def variant_product(variant: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, variant["productId"])


@field("ProductVariant", "inventoryItem")
def variant_inventory_item(variant: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, variant["inventoryItemId"])


@field("ProductVariant", "inventoryQuantity")
def variant_inventory_quantity(variant: dict, info: GraphQLResolveInfo) -> int:
    levels = inventory_store.levels_of_item(info.context, variant["inventoryItemId"])
    return sum(level["quantityValues"]["available"] for level in levels)


@field("ProductVariant", "displayName")
def variant_display_name(variant: dict, info: GraphQLResolveInfo) -> str:
    product = info.context.store.get(info.context.shop, variant["productId"]) or {"title": ""}
    return f"{product['title']} - {variant['title']}"
