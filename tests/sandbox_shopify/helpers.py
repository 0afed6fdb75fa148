"""Helpers shared by the emulator tests: the webhook receiver state, a GraphQL client bound to
one shop (plain `requests`, Host header naming the shop), documents and inputs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.shopify.runner import SandboxHandle

API_KEY = "test-api-key"
API_SECRET = "test-api-secret-long-enough-for-hs256-keys"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint: records every request; answers statuses from `script`, then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def topics(self, topic: str) -> list[Received]:
        return [r for r in self.received if r.headers.get("X-Shopify-Topic") == topic]


class ShopClient:
    """Plain HTTP to the emulator as the app would send it (Host names the shop)."""

    def __init__(self, handle: SandboxHandle, shop: str, token: str) -> None:
        self.handle, self.shop, self.token = handle, shop, token
        self.host = f"{shop}.myshopify.com"

    def post(self, query: str, variables: dict | None = None, token: str | None = None) -> requests.Response:
        return requests.post(
            f"{self.handle.url}/admin/api/2026-10/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"Host": self.host, "X-Shopify-Access-Token": token or self.token},
            timeout=30,
        )

    def gql(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]


PRODUCT_SET = """
mutation Upsert($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input) {
    product { id handle title variants(first: 10) { nodes { id sku barcode price compareAtPrice
      inventoryItem { id } selectedOptions { name value } } } }
    userErrors { field message code }
  }
}"""

CUSTOM_ID_DEFINITION = """
mutation { metafieldDefinitionCreate(definition: {name: "ERP id", namespace: "erp", key: "product_id",
  type: "id", ownerType: PRODUCT}) { createdDefinition { id } userErrors { field code } } }"""


def two_variant_input(title: str = "Arroz Tipo 1") -> dict[str, Any]:
    return {
        "title": title,
        "productOptions": [{"name": "Peso", "values": [{"name": "1kg"}, {"name": "5kg"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Peso", "name": "1kg"}],
                "price": "7.90",
                "barcode": "7891000100103",
                "inventoryItem": {"sku": "ARZ-1", "tracked": True},
            },
            {
                "optionValues": [{"optionName": "Peso", "name": "5kg"}],
                "price": "29.90",
                "barcode": "7891000100110",
                "inventoryItem": {"sku": "ARZ-5", "tracked": True},
            },
        ],
    }
