"""Inventory levels: one document per (inventory item, location) holding every named
quantity. `available` and `on_hand` move together (committed = on_hand - available)."""

from __future__ import annotations

from typing import Any

from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx

QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)
SETTABLE_NAMES = ("available", "on_hand")


def level(ctx: Ctx, item_id: str, location_id: str) -> dict[str, Any] | None:
    return ctx.store.find_one(ctx.shop, "level.pair", f"{item_id}|{location_id}")


_LIGHT_PATHS = ("$.itemId", "$.locationId", "$.quantityValues.available", "$.quantityValues.on_hand")


def light_levels(ctx: Ctx, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stocked levels among (item, location) pairs, by pair, each as the part a quantity write
    needs — `{"id", "itemId", "locationId", "quantityValues": {"available", "on_hand"}}` — read
    out of the stored documents by SQLite (250 levels, no document parsed in Python)."""
    found = ctx.store.find_first_fields(
        ctx.shop, "level.pair", [f"{i}|{loc}" for i, loc in pairs], _LIGHT_PATHS
    )
    return {
        (item, location): {
            "id": level_id,
            "itemId": item,
            "locationId": location,
            "quantityValues": {"available": available, "on_hand": on_hand},
        }
        for level_id, item, location, available, on_hand in found.values()
    }


def light(doc: dict[str, Any]) -> dict[str, Any]:
    """A full level document cut to what `light_levels` returns."""
    values = doc["quantityValues"]
    return {
        "id": doc["id"],
        "itemId": doc["itemId"],
        "locationId": doc["locationId"],
        "quantityValues": {"available": values["available"], "on_hand": values["on_hand"]},
    }


def levels_of_item(ctx: Ctx, item_id: str) -> list[dict[str, Any]]:
    return ctx.store.find(ctx.shop, "level.item", item_id)


def levels_at(ctx: Ctx, location_id: str) -> list[dict[str, Any]]:
    return ctx.store.find(ctx.shop, "level.location", location_id)


def activate(ctx: Ctx, item_id: str, location_id: str) -> dict[str, Any]:
    """The level, created (all quantities 0) when the item is not stocked there yet."""
    found = level(ctx, item_id, location_id)
    if found is not None:
        return found
    now = iso(ctx.now())
    doc = {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{ctx.store.next_num()}?inventory_item_id={num_of(item_id)}",
        "itemId": item_id,
        "locationId": location_id,
        "isActive": True,
        "canDeactivate": True,
        "deactivationAlert": None,
        "createdAt": now,
        "updatedAt": now,
        "quantityValues": dict.fromkeys(QUANTITY_NAMES, 0),
    }
    return save(ctx, doc)


def save(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    return ctx.store.put(
        ctx.shop,
        doc,
        keys={
            "level.item": doc["itemId"],
            "level.location": doc["locationId"],
            "level.pair": f"{doc['itemId']}|{doc['locationId']}",
        },
    )


def set_quantity(ctx: Ctx, doc: dict[str, Any], name: str, quantity: int) -> int:
    """Set `available` or `on_hand`; returns the delta of `name`."""
    values = doc["quantityValues"]
    delta = quantity - values[name]
    values["available"] += delta
    values["on_hand"] += delta
    doc["updatedAt"] = iso(ctx.now())
    save(ctx, doc)
    return delta


def set_quantities(ctx: Ctx, updates: list[tuple[dict[str, Any], int]], name: str) -> list[int]:
    """`set_quantity` for many existing, distinct levels (full or `light_levels` shapes), written
    in one statement that sets the two quantities and `updatedAt` inside the stored documents;
    the deltas in order. `available` and `on_hand` move together, as in `set_quantity`."""
    now = iso(ctx.now())
    deltas = []
    writes = []
    for level, quantity in updates:
        values = level["quantityValues"]
        delta = quantity - values[name]
        values["available"] += delta
        values["on_hand"] += delta
        if "updatedAt" in level:
            level["updatedAt"] = now
        deltas.append(delta)
        writes.append(
            (
                level["id"],
                {
                    "$.quantityValues.available": values["available"],
                    "$.quantityValues.on_hand": values["on_hand"],
                    "$.updatedAt": now,
                },
            )
        )
    ctx.store.set_fields(ctx.shop, writes)
    return deltas


def delete_item(ctx: Ctx, item_id: str) -> None:
    for found in levels_of_item(ctx, item_id):
        ctx.store.delete(ctx.shop, found["id"])
    ctx.store.delete(ctx.shop, item_id)
