"""Sales channels: publications(catalogType:), publishablePublish, and a product's publication state.

As on Shopify, a product productSet creates is on no sales channel (publishedAt null) until
publishablePublish puts it on one: status ACTIVE alone does not show it on the storefront. Every
shop has two channel publications, the Online Store and Point of Sale (AppCatalogs titled with
the channel's name); publishing to the Online Store sets the product's publishedAt.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error

ONLINE_STORE = "gid://shopify/Publication/90000001"
POINT_OF_SALE = "gid://shopify/Publication/90000002"
_TITLES = {ONLINE_STORE: "Online Store", POINT_OF_SALE: "Point of Sale"}


def _publication(publication_id: str) -> dict[str, Any]:
    title = _TITLES[publication_id]
    return {
        "__typename": "Publication",
        "id": publication_id,
        "name": title,
        "autoPublish": False,
        "supportsFuturePublishing": publication_id == ONLINE_STORE,
        "catalog": {
            "__typename": "AppCatalog",
            "id": publication_id.replace("Publication", "AppCatalog"),
            "title": title,
            "status": "ACTIVE",
        },
    }


def published_on(product: dict[str, Any]) -> list[str]:
    return list(product.get("publishedOn") or [])


@query("publications")
def resolve_publications(_src: Any, _info: GraphQLResolveInfo, **args: Any) -> dict:
    kind = args.pop("catalogType", None)
    found = [_publication(p) for p in _TITLES] if kind in (None, "APP") else []
    return connection(found, args)


@query("publication")
def resolve_publication(_src: Any, _info: GraphQLResolveInfo, id: str) -> dict | None:
    return _publication(id) if id in _TITLES else None


@mutation("publishablePublish")
def publishable_publish(_src: Any, info: GraphQLResolveInfo, id: str, input: list[dict]) -> dict:
    ctx: Ctx = info.context
    product = ctx.store.get(ctx.shop, id)
    if product is None or product.get("__typename") != "Product":
        return {"publishable": None, "userErrors": [user_error(["id"], "Resource does not exist")]}
    wanted: list[str] = []
    for at, item in enumerate(input):
        publication_id = item.get("publicationId")
        if publication_id not in _TITLES:
            return {
                "publishable": None,
                "userErrors": [user_error(["input", str(at), "publicationId"], "Publication does not exist")],
            }
        wanted.append(publication_id)
    current = published_on(product)
    added = [p for p in wanted if p not in current]
    if added:
        product["publishedOn"] = current + added
        if ONLINE_STORE in added:
            product["publishedAt"] = iso(ctx.now())
        product = catalog.save_product(ctx, product)
    return {"publishable": product, "userErrors": []}


@field("Product", "publishedOnPublication")
def product_published_on_publication(product: dict, _info: GraphQLResolveInfo, publicationId: str) -> bool:
    return publicationId in published_on(product)


@field("Product", "resourcePublicationsCount")
def product_resource_publications_count(product: dict, _info: GraphQLResolveInfo, **_: Any) -> dict:
    return {"count": len(published_on(product)), "precision": "EXACT"}
