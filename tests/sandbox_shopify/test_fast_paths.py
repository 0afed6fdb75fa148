"""The emulator's fast paths keep its checks: batched inventory writes (all-or-nothing
compare-and-swap, activation on first write), the requested-cost cache (page sizes and input
limits still apply), the executor's plain-field short way; plus close() and default topics."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sandbox.shopify import checkout_simulator
from sandbox.shopify.options import APP_WEBHOOK_TOPICS
from sandbox.shopify.runner import SandboxHandle, serve_in_thread

from .helpers import ShopClient
from .test_inventory import LEVEL, SET

ROOT = Path(__file__).resolve().parents[2]


def _quantities(shop: ShopClient, item: str, location: str) -> dict[str, int]:
    level = shop.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"]
    return {q["name"]: q["quantity"] for q in level["quantities"]} if level else {}


def _set(shop: ShopClient, key: str, entries: list[tuple[str, str, int, int | None]]) -> dict:
    quantities = [
        {"inventoryItemId": i, "locationId": loc, "quantity": q, "changeFromQuantity": c}
        for i, loc, q, c in entries
    ]
    payload = {"name": "available", "reason": "correction", "quantities": quantities}
    return shop.data(SET, {"input": payload, "key": key})["inventorySetQuantities"]


def test_batched_set_is_all_or_nothing_and_activates(shop: ShopClient, product: dict) -> None:
    items = [v["inventoryItem"]["id"] for v in product["variants"]["nodes"]]
    locations = shop.data("{ locations(first: 2) { nodes { id } } }")["locations"]["nodes"]
    here, there = locations[0]["id"], locations[1]["id"]
    assert _quantities(shop, items[0], there) == {}  # not stocked there yet

    first = _set(shop, "b1", [(items[0], here, 5, None), (items[1], here, 7, None), (items[0], there, 3, 0)])
    assert first["userErrors"] == []
    assert [c["quantityAfterChange"] for c in first["inventoryAdjustmentGroup"]["changes"]] == [
        5,
        5,
        7,
        7,
        3,
        3,
    ]
    assert {c["item"]["id"] for c in first["inventoryAdjustmentGroup"]["changes"]} == set(items)
    assert _quantities(shop, items[0], there)["available"] == 3  # activated by the write

    stale = _set(shop, "b2", [(items[0], here, 9, 5), (items[1], here, 9, 6)])  # the second is stale
    assert [e["code"] for e in stale["userErrors"]] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert stale["userErrors"][0]["field"] == ["input", "quantities", "1", "changeFromQuantity"]
    assert _quantities(shop, items[0], here)["available"] == 5  # nothing of the call was written
    assert _quantities(shop, items[1], here)["on_hand"] == 7

    again = _set(shop, "b1", [(items[0], here, 5, None), (items[1], here, 7, None), (items[0], there, 3, 0)])
    assert again == first  # replayed, not applied twice


def test_requested_cost_cache_keeps_page_sizes_and_limits(shop: ShopClient) -> None:
    query = "query($n: Int) { products(first: $n) { nodes { id } } }"
    costs = [shop.gql(query, {"n": n})["extensions"]["cost"]["requestedQueryCost"] for n in (10, 50, 10)]
    assert costs == [12, 52, 12]
    assert "251" in shop.gql(query, {"n": 251})["errors"][0]["message"]
    ids = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert "errors" not in shop.gql(ids, {"ids": ["gid://shopify/Product/1"]})
    too_many = shop.gql(ids, {"ids": [f"gid://shopify/Product/{n}" for n in range(251)]})
    assert too_many["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


def test_plain_fields_answer_like_graphql_core(shop: ShopClient, product: dict) -> None:
    query = "query($id: ID!) { product(id: $id) { __typename id title handle } }"
    data = shop.data(query, {"id": product["id"]})["product"]
    assert data == {
        "__typename": "Product",
        "id": product["id"],
        "title": "Arroz Tipo 1",
        "handle": data["handle"],
    }
    store = shop.handle.sandbox.store
    doc = store.get(shop.shop, product["id"])
    store.put(shop.shop, {**doc, "title": None})  # a non-null field read as null: graphql-core's error
    body = shop.gql(query, {"id": product["id"]})
    assert body["errors"][0]["message"] == "Cannot return null for non-nullable field Product.title."
    assert body["errors"][0]["path"] == ["product", "title"]


def test_close_stops_checkout_simulators() -> None:
    handle: SandboxHandle = serve_in_thread(port=0)
    try:
        handle.sandbox.shops.ensure("sim")
        simulator = checkout_simulator.start_simulator(handle.sandbox, "sim", rate_per_minute=0.001, seed=1)
        assert simulator.running
    finally:
        handle.stop()
    assert not simulator.running
    assert checkout_simulator.simulator_of(handle.sandbox, "sim") is None


def test_default_topics_are_the_app_toml_topics_plus_compliance() -> None:
    config = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    wanted: set[str] = set()
    for subscription in config["webhooks"]["subscriptions"]:
        wanted |= set(subscription.get("topics", [])) | set(subscription.get("compliance_topics", []))
    assert set(APP_WEBHOOK_TOPICS) == wanted
    assert "orders/fulfilled" not in APP_WEBHOOK_TOPICS
