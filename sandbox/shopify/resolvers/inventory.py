"""Inventory: items, levels with `quantities(names:)`, inventoryActivate, inventorySetQuantities
(compare-and-swap on `changeFromQuantity`) and inventoryAdjustQuantities. The three mutations
require `@idempotent(key:)` (see registry.IDEMPOTENT_MUTATIONS)."""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import inventory_store
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error
from sandbox.shopify.search_query import Term, compare, parse_groups

REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
MAX_QUANTITY = 1_000_000_000
# referenceDocumentUri: "Valid URI with scheme and content. For GID format, all components (app,
# entity, id) must be present." (the 2026-10 schema's InventorySetQuantitiesInput)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?://)?[^\s/]\S*")
_GID = re.compile(r"gid://[^\s/]+/[^\s/]+/[^\s/]+", re.IGNORECASE)


def reference_problem(uri: Any) -> dict | None:
    """The userError of a referenceDocumentUri Shopify refuses (no scheme, nothing after it, spaces,
    a GID short of its app, entity or id); None when it is absent or valid."""
    if uri is None:
        return None
    text = str(uri)
    gid = text.lower().startswith("gid:")
    if not _URI.fullmatch(text) or (gid and not _GID.fullmatch(text)):
        return user_error(
            ["input", "referenceDocumentUri"],
            "The specified reference document is invalid.",
            "INVALID_REFERENCE_DOCUMENT",
        )
    return None


def _doc(ctx: Ctx, object_id: str | None, typename: str) -> dict | None:
    doc = ctx.store.get(ctx.shop, object_id)
    return doc if doc and doc.get("__typename") == typename else None


@query("inventoryItem")
def resolve_inventory_item(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _doc(info.context, id, "InventoryItem")


@query("inventoryItems")
def resolve_inventory_items(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    groups = parse_groups(args.get("query"))
    skus = [next((t.value for t in g if t.field == "sku" and t.op == "="), None) for g in groups]
    if all(sku is not None for sku in skus):  # index look-ups only
        by_id = {i["id"]: i for sku in skus for i in ctx.store.find(ctx.shop, "item.sku", sku)}
        found = sorted(by_id.values(), key=lambda i: num_of(i["id"]) or 0)
    else:
        found = ctx.store.scan(ctx.shop, "InventoryItem")
    return connection([i for i in found if any(_item_holds(i, g) for g in groups)], args)


def _item_holds(item: dict, terms: list[Term]) -> bool:
    for term in terms:
        if term.field == "sku" and not compare(item["sku"], term.op, term.value):
            return False
        if term.field == "id" and not compare(num_of(item["id"]), term.op, term.value):
            return False
        if term.field in ("updated_at", "created_at") and not compare(
            item["updatedAt" if term.field == "updated_at" else "createdAt"], term.op, term.value
        ):
            return False
    return True


@query("inventoryLevel")
def resolve_inventory_level(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _doc(info.context, id, "InventoryLevel")


@field("InventoryItem", "variant")
def item_variant(item: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, item["variantId"])


@field("InventoryItem", "inventoryLevels")
def item_levels(item: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(inventory_store.levels_of_item(info.context, item["id"]), args)


@field("InventoryItem", "inventoryLevel")
def item_level(
    item: dict, info: GraphQLResolveInfo, locationId: str, includeInactive: bool = False
) -> dict | None:
    return inventory_store.level(info.context, item["id"], locationId)


@field("InventoryItem", "duplicateSkuCount")
def item_duplicate_sku_count(item: dict, info: GraphQLResolveInfo) -> int:
    return (
        max(0, len(info.context.store.find(info.context.shop, "item.sku", item["sku"])) - 1)
        if item["sku"]
        else 0
    )


@field("InventoryItem", "locationsCount")
def item_locations_count(item: dict, info: GraphQLResolveInfo) -> dict:
    return {"count": len(inventory_store.levels_of_item(info.context, item["id"])), "precision": "EXACT"}


@field("InventoryLevel", "item")
def level_item(level: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, level["itemId"])


@field("InventoryLevel", "location")
def level_location(level: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, level["locationId"])


@field("InventoryLevel", "quantities")
def level_quantities(level: dict, _info: GraphQLResolveInfo, names: list[str]) -> list[dict]:
    values = level["quantityValues"]
    return [
        {
            "id": f"{level['id']}&name={name}",
            "name": name,
            "quantity": values.get(name, 0),
            "updatedAt": level["updatedAt"],
        }
        for name in names
    ]


@field("InventoryChange", "item")
def change_item(change: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.recall(change["itemId"])


@field("InventoryChange", "location")
def change_location(change: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.recall(change["locationId"])


@mutation("inventoryActivate")
def inventory_activate(
    _src: Any,
    info: GraphQLResolveInfo,
    inventoryItemId: str,
    locationId: str,
    available: int | None = None,
    onHand: int | None = None,
    **_: Any,
) -> dict:
    ctx: Ctx = info.context
    if _doc(ctx, inventoryItemId, "InventoryItem") is None:
        return {
            "inventoryLevel": None,
            "userErrors": [user_error(["inventoryItemId"], "Inventory item does not exist")],
        }
    if _doc(ctx, locationId, "Location") is None:
        return {"inventoryLevel": None, "userErrors": [user_error(["locationId"], "Location does not exist")]}
    level = inventory_store.activate(ctx, inventoryItemId, locationId)
    if available is not None:
        inventory_store.set_quantity(ctx, level, "available", available)
    elif onHand is not None:
        inventory_store.set_quantity(ctx, level, "on_hand", onHand)
    return {"inventoryLevel": level, "userErrors": []}


def _quantity_problem(index: int, item: dict, docs: dict[str, dict], seen: set) -> dict | None:
    path = ["input", "quantities", str(index)]
    inventory_item = _typed(docs.get(item["inventoryItemId"]), "InventoryItem")
    if inventory_item is None:
        return user_error(
            [*path, "inventoryItemId"],
            "The specified inventory item could not be found.",
            "INVALID_INVENTORY_ITEM",
        )
    if _typed(docs.get(item["locationId"]), "Location") is None:
        return user_error(
            [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
        )
    pair = (item["inventoryItemId"], item["locationId"])
    if pair in seen:
        return user_error(
            [*path],
            "The combination of inventoryItemId and locationId must be unique.",
            "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
        )
    seen.add(pair)
    if not inventory_item["tracked"]:
        return user_error(
            [*path, "inventoryItemId"],
            "The specified inventory item is not tracked.",
            "NON_MUTABLE_INVENTORY_ITEM",
        )
    if item["quantity"] > MAX_QUANTITY:
        return user_error(
            [*path, "quantity"],
            "The total quantity can't be higher than 1,000,000,000.",
            "INVALID_QUANTITY_TOO_HIGH",
        )
    if "changeFromQuantity" not in item:
        return user_error(
            [*path, "changeFromQuantity"],
            "changeFromQuantity is required; send null to skip the compare check.",
            "COMPARE_QUANTITY_REQUIRED",
        )
    return None


def _typed(doc: dict | None, typename: str) -> dict | None:
    return doc if doc and doc.get("__typename") == typename else None


def _total_after(level: dict | None, name: str, quantity: int) -> int:
    """The level's on-hand total once `name` is set to `quantity`: setting "available" keeps the
    units orders committed (on_hand = available + committed...), so they count towards Shopify's
    ceiling too."""
    if level is None or name == "on_hand":
        return quantity
    values = level["quantityValues"]
    return values["on_hand"] + quantity - values["available"]


@mutation("inventorySetQuantities")
def inventory_set_quantities(_src: Any, info: GraphQLResolveInfo, input: dict) -> dict:
    """All items, locations and levels are read in a few queries and the levels written in one
    statement (quantities set inside the stored JSON by SQLite): 250 quantities cost little
    more than one, and the compare-and-swap sees every current quantity before any write."""
    ctx: Ctx = info.context
    name = input["name"]
    quantities = input["quantities"]
    errors: list[dict] = []
    if name not in inventory_store.SETTABLE_NAMES:
        errors.append(
            user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        )
    if input["reason"] not in REASONS:
        errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    if (problem := reference_problem(input.get("referenceDocumentUri"))) is not None:
        errors.append(problem)
    docs = ctx.store.get_many(ctx.shop, [q[k] for q in quantities for k in ("inventoryItemId", "locationId")])
    seen: set = set()
    errors += [p for i, q in enumerate(quantities) if (p := _quantity_problem(i, q, docs, seen))]
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    found = inventory_store.light_levels(ctx, [(q["inventoryItemId"], q["locationId"]) for q in quantities])
    levels = []
    for index, item in enumerate(quantities):
        level = found.get((item["inventoryItemId"], item["locationId"]))
        current = level["quantityValues"][name] if level else 0
        expected = item.get("changeFromQuantity")
        if _total_after(level, name, item["quantity"]) > MAX_QUANTITY:
            errors.append(
                user_error(
                    ["input", "quantities", str(index), "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        elif expected is not None and expected != current:
            errors.append(
                user_error(
                    ["input", "quantities", str(index), "changeFromQuantity"],
                    "The specified changeFromQuantity does not match the current quantity.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
        levels.append(level)
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    levels = [
        level
        or inventory_store.light(inventory_store.activate(ctx, item["inventoryItemId"], item["locationId"]))
        for item, level in zip(quantities, levels, strict=True)
    ]
    deltas = inventory_store.set_quantities(
        ctx, [(level, item["quantity"]) for item, level in zip(quantities, levels, strict=True)], name
    )
    changes = []
    for level, delta in zip(levels, deltas, strict=True):
        changes += _changes(level, name, delta, input.get("referenceDocumentUri"))
    group = _group(ctx, input, changes)
    ctx.remember(docs.values())  # the payload's changes read these items and locations back
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


@mutation("inventoryAdjustQuantities")
def inventory_adjust_quantities(_src: Any, info: GraphQLResolveInfo, input: dict) -> dict:
    ctx: Ctx = info.context
    name = input["name"]
    errors: list[dict] = []
    if name not in inventory_store.SETTABLE_NAMES:
        errors.append(
            user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_QUANTITY_NAME",
            )
        )
    if input["reason"] not in REASONS:
        errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    if (problem := reference_problem(input.get("referenceDocumentUri"))) is not None:
        errors.append(problem)
    for index, change in enumerate(input["changes"]):
        if _doc(ctx, change["inventoryItemId"], "InventoryItem") is None:
            errors.append(
                user_error(
                    ["input", "changes", str(index), "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif _doc(ctx, change["locationId"], "Location") is None:
            errors.append(
                user_error(
                    ["input", "changes", str(index), "locationId"],
                    "The specified location could not be found.",
                    "INVALID_LOCATION",
                )
            )
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for change in input["changes"]:
        level = inventory_store.activate(ctx, change["inventoryItemId"], change["locationId"])
        current = level["quantityValues"][name]
        delta = inventory_store.set_quantity(ctx, level, name, current + change["delta"])
        changes += _changes(level, name, delta, change.get("ledgerDocumentUri"))
    return {"inventoryAdjustmentGroup": _group(ctx, input, changes), "userErrors": []}


def _changes(level: dict, name: str, delta: int, ledger_uri: str | None) -> list[dict]:
    names = ["available", "on_hand"] if name == "available" else ["on_hand", "available"]
    return [
        {
            "name": n,
            "delta": delta,
            "quantityAfterChange": level["quantityValues"][n],
            "itemId": level["itemId"],
            "locationId": level["locationId"],
            "ledgerDocumentUri": ledger_uri,
        }
        for n in names
    ]


def _group(ctx: Ctx, input: dict, changes: list[dict]) -> dict:
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": ctx.store.new_gid("InventoryAdjustmentGroup"),
        "createdAt": iso(ctx.now()),
        "reason": input["reason"],
        "referenceDocumentUri": input.get("referenceDocumentUri"),
        "changes": changes,
        "app": None,
        "staffMember": None,
    }
    ctx.store.put(ctx.shop, group)
    return group
