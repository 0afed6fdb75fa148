"""Locations: location(id), locations(query:, includeInactive) and their inventory levels."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import inventory_store
from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, query
from sandbox.shopify.search_query import Term, compare, matches


@query("location")
def resolve_location(_src: Any, info: GraphQLResolveInfo, id: str | None = None) -> dict | None:
    ctx: Ctx = info.context
    if id is None:
        return next((loc for loc in ctx.store.scan(ctx.shop, "Location") if loc["isPrimary"]), None)
    doc = ctx.store.get(ctx.shop, id)
    return doc if doc and doc.get("__typename") == "Location" else None


@query("locations")
def resolve_locations(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    found = ctx.store.scan(ctx.shop, "Location")
    if not args.get("includeInactive"):
        found = [loc for loc in found if loc["isActive"]]
    found = [loc for loc in found if matches(args.get("query"), lambda terms, loc=loc: _holds(loc, terms))]
    return connection(found, args)


def _holds(location: dict, terms: list[Term]) -> bool:
    for term in terms:
        if term.field in (None, "name") and term.value.lower() not in location["name"].lower():
            return False
        if term.field == "active" and not compare(str(location["isActive"]).lower(), "=", term.value):
            return False
    return True


@field("Location", "inventoryLevels")
def location_inventory_levels(location: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(inventory_store.levels_at(info.context, location["id"]), args)


@field("Location", "inventoryLevel")
def location_inventory_level(location: dict, info: GraphQLResolveInfo, inventoryItemId: str) -> dict | None:
    return inventory_store.level(info.context, inventoryItemId, location["id"])
