"""The 'done when' script: plain `requests` only, as a merchant's script or the app would do it:
exchange an ID token, create a product with two variants through productSet, set its stock at
a location, read it back. Plus the one-command start."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

from .helpers import API_KEY, API_SECRET


def test_script_exchange_create_stock_read(emulator) -> None:
    base, host = emulator.url, {"Host": "mercado-sp.myshopify.com"}
    id_token = requests.post(
        f"{base}/_sandbox/shops/mercado-sp/id_token", json={"user": "owner"}, timeout=10
    ).json()["id_token"]
    token = requests.post(
        f"{base}/admin/oauth/access_token",
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": "1",
        },
        headers=host,
        timeout=10,
    ).json()["access_token"]
    headers = {**host, "X-Shopify-Access-Token": token}

    def graphql(query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{base}/admin/api/2026-10/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    created = graphql(
        """mutation($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
             product { id variants(first: 5) { nodes { sku inventoryItem { id } } } }
             userErrors { message } } }""",
        {
            "input": {
                "title": "Café Torrado 500g",
                "status": "ACTIVE",
                "productOptions": [{"name": "Moagem", "values": [{"name": "Grão"}, {"name": "Moído"}]}],
                "variants": [
                    {
                        "optionValues": [{"optionName": "Moagem", "name": "Grão"}],
                        "price": "18.90",
                        "inventoryItem": {"sku": "CAF-G", "tracked": True},
                    },
                    {
                        "optionValues": [{"optionName": "Moagem", "name": "Moído"}],
                        "price": "17.90",
                        "inventoryItem": {"sku": "CAF-M", "tracked": True},
                    },
                ],
            }
        },
    )["productSet"]
    assert created["userErrors"] == []
    items = {v["sku"]: v["inventoryItem"]["id"] for v in created["product"]["variants"]["nodes"]}
    location = graphql("{ locations(first: 5) { nodes { id name } } }")["locations"]["nodes"][1]
    graphql(
        """mutation($item: ID!, $loc: ID!) { inventoryActivate(inventoryItemId: $item, locationId: $loc)
             @idempotent(key: "act-caf-m") { inventoryLevel { id } userErrors { message } } }""",
        {"item": items["CAF-M"], "loc": location["id"]},
    )
    stocked = graphql(
        """mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input)
             @idempotent(key: "estoque-caf-m-1") { userErrors { field code } } }""",
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [
                    {
                        "inventoryItemId": items["CAF-M"],
                        "locationId": location["id"],
                        "quantity": 42,
                        "changeFromQuantity": 0,
                    }
                ],
            }
        },
    )
    assert stocked["inventorySetQuantities"]["userErrors"] == []
    read = graphql(
        """query($loc: ID!) { productVariants(first: 1, query: "sku:CAF-M") { nodes { sku price
             inventoryItem { inventoryLevel(locationId: $loc) { quantities(names: ["available", "on_hand"]) {
             name quantity } } } } } }""",
        {"loc": location["id"]},
    )["productVariants"]["nodes"][0]
    assert read["sku"] == "CAF-M" and read["price"] == "17.90"
    assert read["inventoryItem"]["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 42},
        {"name": "on_hand", "quantity": 42},
    ]
    state = requests.get(f"{base}/_sandbox/shops/mercado-sp/state", timeout=10).json()
    [product] = state["products"]
    assert product["variants"][1]["inventory"] == {
        location["name"]: {
            "available": 42,
            "on_hand": 42,
            "committed": 0,
            "incoming": 0,
            "reserved": 0,
            "damaged": 0,
            "safety_stock": 0,
            "quality_control": 0,
        }
    }
    page = requests.get(f"{base}/_sandbox/shops/mercado-sp", timeout=10)
    assert "Café Torrado 500g" in page.text and "CAF-M" in page.text


def test_one_command_starts_it(tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.shopify",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "shop.sqlite"),
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.post(
                    f"http://127.0.0.1:{port}/_sandbox/shops", json={"shop": "demo"}, timeout=2
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["domain"] == "demo.myshopify.com"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "shop.sqlite").exists()
