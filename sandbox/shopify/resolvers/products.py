"""Product reads: product(id), productByIdentifier, products(query:), and Product's computed fields."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog, inventory_store, metafield_store
from sandbox.shopify.connections import connection, decode_cursor
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, field, query
from sandbox.shopify.search_query import Term, compare, parse_groups

_PRODUCT_FIELDS = {
    "title": "title",
    "handle": "handle",
    "vendor": "vendor",
    "product_type": "productType",
    "updated_at": "updatedAt",
    "created_at": "createdAt",
}


def _ctx(info: GraphQLResolveInfo) -> Ctx:
    return info.context


def _is(doc: dict | None, typename: str) -> dict | None:
    return doc if doc and doc.get("__typename") == typename else None


def product_by_identifier(ctx: Ctx, identifier: dict[str, Any]) -> dict | None:
    """Look a product up by id, handle or custom id (productByIdentifier and productSet)."""
    if identifier.get("id"):
        return _is(ctx.store.get(ctx.shop, identifier["id"]), "Product")
    if identifier.get("handle"):
        return ctx.store.find_one(ctx.shop, "product.handle", identifier["handle"])
    custom = identifier.get("customId")
    if custom:
        owner = metafield_store.owner_by_unique_value(
            ctx, "PRODUCT", custom.get("namespace"), custom["key"], custom["value"]
        )
        return ctx.store.get(ctx.shop, owner) if owner else None
    return None


@query("product")
def resolve_product(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _is(_ctx(info).store.get(_ctx(info).shop, id), "Product")


@query("productByIdentifier")
def resolve_product_by_identifier(_src: Any, info: GraphQLResolveInfo, identifier: dict) -> dict | None:
    return product_by_identifier(_ctx(info), identifier)


def _variant_term_products(ctx: Ctx, term: Term) -> list[str]:
    key = "variant.sku" if term.field == "sku" else "variant.barcode"
    return [v["productId"] for v in ctx.store.find(ctx.shop, key, term.value)]


def _matches(ctx: Ctx, product: dict[str, Any], terms: list[Term]) -> bool:
    for term in terms:
        name = term.field
        if name is None:
            if term.value.lower() not in product["title"].lower():
                return False
        elif name == "status":
            if product["status"].lower() not in term.value.lower().split(","):
                return False
        elif name in ("sku", "barcode"):
            if product["id"] not in _variant_term_products(ctx, term):
                return False
        elif name in ("tag", "tags"):
            if term.value.lower() not in [t.lower() for t in product["tags"]]:
                return False
        elif name == "id":
            if not compare(num_of(product["id"]), term.op, term.value):
                return False
        elif name in _PRODUCT_FIELDS and not compare(product.get(_PRODUCT_FIELDS[name]), term.op, term.value):
            return False
    return True


def _index_term(terms: list[Term]) -> Term | None:
    return next((t for t in terms if t.field in ("sku", "barcode") and t.op == "="), None)


@query("products")
def resolve_products(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx = _ctx(info)
    groups = parse_groups(args.get("query"))
    if groups == [[]] and not (args.get("last") or args.get("before") or args.get("reverse")):
        after = decode_cursor(args.get("after")) or 0
        first = args.get("first") or 0
        docs = ctx.store.scan(ctx.shop, "Product", after_num=after, limit=first + 1)
        return connection(docs, {"first": first}, has_previous=after > 0)
    index_terms = [_index_term(group) for group in groups]
    if all(index_terms):  # every alternative names a sku/barcode: index look-ups only
        ids = {i for term in index_terms for i in _variant_term_products(ctx, term)}
        candidates = [
            d for d in (ctx.store.get(ctx.shop, i) for i in sorted(ids, key=lambda i: num_of(i) or 0)) if d
        ]
    else:
        candidates = ctx.store.scan(ctx.shop, "Product")
    found = [p for p in candidates if any(_matches(ctx, p, group) for group in groups)]
    return connection(found, args)


@field("Product", "variants")
def product_variants(product: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(catalog.variants_of(_ctx(info), product["id"]), args)


@field("Product", "variantsCount")
def product_variants_count(product: dict, info: GraphQLResolveInfo, **_: Any) -> dict:
    return {"count": len(catalog.variants_of(_ctx(info), product["id"])), "precision": "EXACT"}


@field("Product", "hasOnlyDefaultVariant")
def product_has_only_default_variant(product: dict, info: GraphQLResolveInfo) -> bool:
    variants = catalog.variants_of(_ctx(info), product["id"])
    return len(variants) == 1 and variants[0]["title"] == "Default Title"


@field("Product", "totalInventory")
def product_total_inventory(product: dict, info: GraphQLResolveInfo) -> int:
    ctx = _ctx(info)
    return sum(
        level["quantityValues"]["available"]
        for variant in catalog.variants_of(ctx, product["id"])
        for level in inventory_store.levels_of_item(ctx, variant["inventoryItemId"])
    )


@field("Product", "tracksInventory")
def product_tracks_inventory(product: dict, info: GraphQLResolveInfo) -> bool:
    ctx = _ctx(info)
    items = [ctx.store.get(ctx.shop, v["inventoryItemId"]) for v in catalog.variants_of(ctx, product["id"])]
    return any(i and i["tracked"] for i in items)
