"""Inventory: activation, compare-and-swap on changeFromQuantity, the required @idempotent key."""

from __future__ import annotations

from .helpers import ShopClient

SET = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange item { id }
      location { id } } }
    userErrors { field message code }
  }
}"""

LEVEL = """
query($item: ID!, $location: ID!) {
  inventoryItem(id: $item) { sku inventoryLevel(locationId: $location) {
    quantities(names: ["available", "on_hand", "committed"]) { name quantity } } }
}"""

ACTIVATE = """
mutation($item: ID!, $location: ID!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location) @idempotent(key: "activate-1") {
    inventoryLevel { id } userErrors { field message }
  }
}"""


def _input(item: str, location: str, quantity: int, change_from: int | None) -> dict:
    return {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "consinco://estoque/1",
        "quantities": [
            {
                "inventoryItemId": item,
                "locationId": location,
                "quantity": quantity,
                "changeFromQuantity": change_from,
            }
        ],
    }


def _quantities(shop: ShopClient, item: str, location: str) -> dict[str, int]:
    level = shop.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"]
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def test_set_quantities_with_compare_and_swap(shop: ShopClient, product: dict, location_id: str) -> None:
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    assert (
        shop.data(ACTIVATE, {"item": item, "location": location_id})["inventoryActivate"]["userErrors"] == []
    )
    first = shop.data(SET, {"input": _input(item, location_id, 12, 0), "key": "k1"})["inventorySetQuantities"]
    assert first["userErrors"] == []
    changes = {c["name"]: c for c in first["inventoryAdjustmentGroup"]["changes"]}
    assert changes["available"]["delta"] == 12
    assert changes["available"]["quantityAfterChange"] == 12
    assert changes["available"]["item"]["id"] == item
    assert _quantities(shop, item, location_id) == {"available": 12, "on_hand": 12, "committed": 0}

    stale = shop.data(SET, {"input": _input(item, location_id, 5, 0), "key": "k2"})["inventorySetQuantities"]
    assert stale["inventoryAdjustmentGroup"] is None
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert stale["userErrors"][0]["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert _quantities(shop, item, location_id)["available"] == 12

    skipped = shop.data(SET, {"input": _input(item, location_id, 5, None), "key": "k3"})[
        "inventorySetQuantities"
    ]
    assert skipped["userErrors"] == []
    assert _quantities(shop, item, location_id)["available"] == 5


def test_change_from_quantity_must_be_sent(shop: ShopClient, product: dict, location_id: str) -> None:
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    payload = _input(item, location_id, 3, None)
    del payload["quantities"][0]["changeFromQuantity"]
    result = shop.data(SET, {"input": payload, "key": "k-missing"})["inventorySetQuantities"]
    assert result["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"


def test_invalid_name_reason_and_location(shop: ShopClient, product: dict) -> None:
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    payload = _input(item, "gid://shopify/Location/999999", 1, None)
    payload["name"], payload["reason"] = "committed", "because"
    errors = shop.data(SET, {"input": payload, "key": "k-bad"})["inventorySetQuantities"]["userErrors"]
    assert {e["code"] for e in errors} == {"INVALID_NAME", "INVALID_REASON", "INVALID_LOCATION"}


def test_idempotency_key_is_required(shop: ShopClient, product: dict, location_id: str) -> None:
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    document = SET.replace("@idempotent(key: $key)", "").replace(", $key: String!", "")
    body = shop.gql(document, {"input": _input(item, location_id, 1, None)})
    assert "@idempotent directive is required" in body["errors"][0]["message"]
    assert body["data"]["inventorySetQuantities"] is None


def test_same_key_replays_first_result_and_other_input_is_refused(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    first = shop.data(SET, {"input": _input(item, location_id, 7, None), "key": "same"})
    # someone else changes the stock meanwhile
    shop.data(SET, {"input": _input(item, location_id, 9, None), "key": "other"})
    replay = shop.data(SET, {"input": _input(item, location_id, 7, None), "key": "same"})
    assert replay == first
    assert _quantities(shop, item, location_id)["available"] == 9  # the replay did not apply again
    mismatch = shop.data(SET, {"input": _input(item, location_id, 8, None), "key": "same"})[
        "inventorySetQuantities"
    ]
    assert mismatch["inventoryAdjustmentGroup"] is None
    assert mismatch["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert _quantities(shop, item, location_id)["available"] == 9


def test_activate_unknown_item_is_a_user_error(shop: ShopClient, location_id: str) -> None:
    result = shop.data(ACTIVATE, {"item": "gid://shopify/InventoryItem/1", "location": location_id})
    assert result["inventoryActivate"]["userErrors"][0]["field"] == ["inventoryItemId"]


def test_inventory_items_by_sku_and_levels_of_location(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    item = product["variants"]["nodes"][1]["inventoryItem"]["id"]
    shop.data(SET, {"input": _input(item, location_id, 4, None), "key": "k5"})
    data = shop.data(
        """query($loc: ID!) { inventoryItems(first: 5, query: "sku:ARZ-5") {
             nodes { id tracked variant { sku } } }
           location(id: $loc) { inventoryLevels(first: 10) { nodes { item { sku }
             quantities(names: ["available"]) {
           quantity } } } } }""",
        {"loc": location_id},
    )
    assert data["inventoryItems"]["nodes"] == [{"id": item, "tracked": True, "variant": {"sku": "ARZ-5"}}]
    levels = data["location"]["inventoryLevels"]["nodes"]
    assert levels == [{"item": {"sku": "ARZ-5"}, "quantities": [{"quantity": 4}]}]
