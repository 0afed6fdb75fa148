"""Inventory and location operations of the Admin client (stock flow)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import (
    InventoryAdjustment,
    InventoryLevel,
    Location,
    parse_inventory_adjustment,
    parse_inventory_items,
    parse_inventory_level,
    parse_location,
)

MAX_QUANTITIES_PER_CALL = 250
DEFAULT_QUANTITY_NAMES = ("available", "on_hand")


class InventoryOperations:
    executor: Executor

    def inventory_set_quantities(
        self,
        quantities: Sequence[dict[str, Any]],
        *,
        key: str,
        reason: str = "correction",
        name: str = "available",
        reference_document_uri: str | None = None,
    ) -> InventoryAdjustment:
        """Set absolute quantities (compare-and-swap through each entry's `changeFromQuantity`).

        `quantities`: [{inventoryItemId, locationId, quantity, changeFromQuantity}] (<= 250);
        `key`: idempotency_key(...) of the unit of work, identical on every retry of it (the
        executor sends a renewed one only when Shopify answers that a request under it failed).
        """
        if not 0 < len(quantities) <= MAX_QUANTITIES_PER_CALL:
            raise ValueError(f"inventorySetQuantities takes 1..{MAX_QUANTITIES_PER_CALL} quantities")
        entries = [{"changeFromQuantity": None, **q} for q in quantities]
        payload = self.executor.mutate(
            "InventorySetQuantities",
            {
                "input": {
                    "name": name,
                    "reason": reason,
                    "referenceDocumentUri": reference_document_uri,
                    "quantities": entries,
                },
                "key": key,
            },
            "inventorySetQuantities",
        )
        return parse_inventory_adjustment(payload)

    def inventory_activate(
        self, inventory_item_id: str, location_id: str, *, key: str, available: int | None = None
    ) -> InventoryLevel:
        """Stock an item at a location (needed before quantities can be set there)."""
        payload = self.executor.mutate(
            "InventoryActivate",
            {
                "inventoryItemId": inventory_item_id,
                "locationId": location_id,
                "available": available,
                "key": key,
            },
            "inventoryActivate",
        )
        level = payload.get("inventoryLevel") or {}
        return parse_inventory_level(level, inventory_item_id)

    def inventory_level(
        self, inventory_item_id: str, location_id: str, names: Sequence[str] = DEFAULT_QUANTITY_NAMES
    ) -> InventoryLevel | None:
        """The quantities of one item at one location (None: not stocked there, or no such item)."""
        data = self.executor.query(
            "InventoryLevel",
            {"inventoryItemId": inventory_item_id, "locationId": location_id, "names": list(names)},
        )
        item = data.get("inventoryItem")
        if not item or not item.get("inventoryLevel"):
            return None
        return parse_inventory_level(item["inventoryLevel"], item["id"], item.get("sku"))

    def inventory_levels(
        self, query: str | None = None, names: Sequence[str] = DEFAULT_QUANTITY_NAMES, *, first: int = 25
    ) -> Iterator[InventoryLevel]:
        """Levels of every inventory item matching `query` (e.g. "sku:123"), all locations."""
        for item in paginate(
            self.executor,
            "InventoryLevels",
            ("inventoryItems",),
            {"query": query, "names": list(names)},
            first=first,
        ):
            yield from parse_inventory_items([item])

    def locations(self, *, include_inactive: bool = False, query: str | None = None) -> Iterator[Location]:
        for raw in paginate(
            self.executor, "Locations", ("locations",), {"includeInactive": include_inactive, "query": query}
        ):
            yield parse_location(raw)
