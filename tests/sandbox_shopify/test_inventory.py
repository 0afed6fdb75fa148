"""Inventory: activation, compare-and-swap on changeFromQuantity, the required @idempotent key
and its answers (replay, mismatch, a request under the key still running, one that failed)."""

from __future__ import annotations

import threading

import requests

from sandbox.shopify import idempotency, order_store
from sandbox.shopify.registry import Ctx
from sandbox.shopify.resolvers import inventory
from sandbox.shopify.runner import SandboxHandle

from .helpers import API_KEY, ShopClient

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


def test_a_resend_while_the_first_request_runs_is_answered_in_progress(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    """A client's resend after a timeout meets the first request under the key still running:
    Shopify's IDEMPOTENCY_CONCURRENT_REQUEST; once the first one is done, the key replays it."""
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    variables = {"input": _input(item, location_id, 6, None), "key": "slow"}
    release = threading.Event()  # the first request runs until the test lets it end
    idempotency.hold_next(shop.handle.sandbox, shop.shop, "inventorySetQuantities", release)
    first: list[dict] = []
    running = threading.Thread(target=lambda: first.append(shop.data(SET, variables)))
    running.start()
    try:
        while not shop.handle.sandbox.idempotency.running:  # the first request holds its key
            threading.Event().wait(0.01)
        busy = shop.data(SET, variables)["inventorySetQuantities"]
        other = shop.data(SET, {**variables, "key": "another"})["inventorySetQuantities"]
    finally:
        release.set()
        running.join()
    assert busy["inventoryAdjustmentGroup"] is None
    assert busy["userErrors"] == [
        {
            "field": ["idempotencyKey"],
            "message": "This request is currently in progress, please try again.",
            "code": "IDEMPOTENCY_CONCURRENT_REQUEST",
        }
    ]
    assert other["userErrors"] == []  # another key is not held up
    assert first[0]["inventorySetQuantities"]["userErrors"] == []
    assert shop.data(SET, variables) == first[0]  # done: the same key replays its result


def test_a_key_whose_request_failed_asks_for_a_new_key(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    """A request that failed on Shopify's side (INTERNAL_SERVER_ERROR, nothing applied) leaves
    its key failed: a retry under it is IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED, a new key runs."""
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    shop.data(SET, {"input": _input(item, location_id, 2, None), "key": "before"})
    variables = {"input": _input(item, location_id, 11, 2), "key": "doomed"}
    requests.post(
        f"{shop.handle.url}/_sandbox/shops/{shop.shop}/idempotency/fail",
        json={"field": "inventorySetQuantities"},
        timeout=5,
    ).raise_for_status()
    failed = shop.gql(SET, variables)
    assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert failed["data"]["inventorySetQuantities"] is None
    assert _quantities(shop, item, location_id)["available"] == 2
    again = shop.data(SET, variables)["inventorySetQuantities"]
    assert again["userErrors"] == [
        {
            "field": ["idempotencyKey"],
            "message": (
                "A previous request with this idempotency key failed. Retry with a new idempotency key."
            ),
            "code": "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
        }
    ]
    assert _quantities(shop, item, location_id)["available"] == 2
    renewed = shop.data(SET, {**variables, "key": "doomed-2"})["inventorySetQuantities"]
    assert renewed["userErrors"] == []
    assert _quantities(shop, item, location_id)["available"] == 11


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


def test_a_quantity_outside_graphqls_int_refuses_the_whole_request(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    """GraphQL's Int is 32-bit: Shopify answers a variable above 2,147,483,647 with a top-level
    error, no payload, nothing applied (not a userError naming the entry)."""
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    shop.data(SET, {"input": _input(item, location_id, 4, None), "key": "int-1"})
    body = shop.gql(SET, {"input": _input(item, location_id, 2_147_483_648, None), "key": "int-2"})
    assert body["errors"] and "32-bit" in body["errors"][0]["message"]
    assert body.get("data") is None
    assert _quantities(shop, item, location_id)["available"] == 4


def test_a_total_above_a_billion_is_refused_per_entry(
    emulator: SandboxHandle, shop: ShopClient, product: dict, location_id: str
) -> None:
    """inventorySetQuantities: "The total quantity can't be higher than 1,000,000,000"
    (INVALID_QUANTITY_TOO_HIGH, naming the entry): the level's total counts the units orders
    committed beside the available ones set."""
    variant = product["variants"]["nodes"][0]
    item = variant["inventoryItem"]["id"]
    ceiling = inventory.MAX_QUANTITY
    over = shop.data(SET, {"input": _input(item, location_id, ceiling + 1, None), "key": "high-1"})
    refused = over["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in refused] == [
        ("INVALID_QUANTITY_TOO_HIGH", ["input", "quantities", "0", "quantity"])
    ]
    shop.data(SET, {"input": _input(item, location_id, 10, None), "key": "high-2"})
    ctx = Ctx(shop="acme", sandbox=emulator.sandbox, api_key=API_KEY)
    order_store.commit_stock(ctx, variant["id"], location_id, 3)  # an order took 3: committed
    assert _quantities(shop, item, location_id) == {"available": 7, "on_hand": 10, "committed": 3}
    total_over = shop.data(SET, {"input": _input(item, location_id, ceiling - 2, None), "key": "high-3"})
    assert [e["code"] for e in total_over["inventorySetQuantities"]["userErrors"]] == [
        "INVALID_QUANTITY_TOO_HIGH"
    ]
    at_ceiling = shop.data(SET, {"input": _input(item, location_id, ceiling - 3, None), "key": "high-4"})
    assert at_ceiling["inventorySetQuantities"]["userErrors"] == []
    assert _quantities(shop, item, location_id)["on_hand"] == ceiling


def test_a_reference_document_that_is_no_uri_refuses_the_change(
    shop: ShopClient, product: dict, location_id: str
) -> None:
    """referenceDocumentUri: "Valid URI with scheme and content. For GID format, all components
    (app, entity, id) must be present." (the 2026-10 schema): anything else refuses the whole call."""
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    for n, uri in enumerate(
        ["not a uri at all", "gid://erp-connector", "gid://erp/Estoque", "consinco:", "x"]
    ):
        payload = {**_input(item, location_id, 3, 0), "referenceDocumentUri": uri}
        result = shop.data(SET, {"input": payload, "key": f"k-uri-{n}"})["inventorySetQuantities"]
        assert result["inventoryAdjustmentGroup"] is None, uri
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
            (["input", "referenceDocumentUri"], "INVALID_REFERENCE_DOCUMENT")
        ]
    level = shop.data(LEVEL, {"item": item, "location": location_id})["inventoryItem"]["inventoryLevel"]
    assert level is None  # nothing written, not even the item stocked there
    for n, uri in enumerate(
        ["consinco://estoque/1/ab12", "gid://consinco/Estoque/1", "https://erp.example/d/1"]
    ):
        payload = {**_input(item, location_id, n + 1, n), "referenceDocumentUri": uri}
        result = shop.data(SET, {"input": payload, "key": f"k-ok-{n}"})["inventorySetQuantities"]
        assert result["userErrors"] == [], uri
    assert _quantities(shop, item, location_id)["available"] == 3
