"""Helpers for the order tests: webhook receiver state, a GraphQL client bound to one shop
(plain `requests`, the Host header names the shop), the catalogue inputs, HMAC check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from sandbox.shopify.runner import SandboxHandle

API_KEY = "orders-test-key"
API_SECRET = "orders-test-secret"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint recording every request."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.received.append(Received(headers, body))

    def topics(self, topic: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.headers.get("X-Shopify-Topic") == topic]


def signed_by(received: Received, secret: str) -> bool:
    """Shopify's webhook signature, checked the plain way: base64 HMAC-SHA256 of the raw body."""
    expected = base64.b64encode(hmac.new(secret.encode(), received.body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, received.headers.get("X-Shopify-Hmac-Sha256", ""))


@dataclass
class Catalogue:
    location_id: str
    variants: dict[str, dict[str, Any]]  # by sku


class ShopClient:
    """Plain HTTP to the emulator as the app would send it."""

    def __init__(self, handle: SandboxHandle, shop: str, token: str) -> None:
        self.handle, self.shop, self.token = handle, shop, token

    def gql(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.handle.url}/admin/api/2026-10/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"Host": f"{self.shop}.myshopify.com", "X-Shopify-Access-Token": self.token},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def control(self, path: str, body: dict | None = None) -> requests.Response:
        return requests.post(
            f"{self.handle.url}/_sandbox/shops/{self.shop}{path}", json=body or {}, timeout=30
        )

    def wait_webhooks(self) -> None:
        assert self.handle.sandbox.webhooks.wait_idle(10)


def amount(money_bag: dict[str, Any]) -> Decimal:
    return Decimal(money_bag["shopMoney"]["amount"])


PRODUCT_SET = """
mutation Upsert($input: ProductSetInput!) {
  productSet(input: $input) {
    product { id variants(first: 10) { nodes { id sku price inventoryItem { id } } } }
    userErrors { field message code }
  }
}"""


def product_input(title: str, rows: list[tuple[str, str, str, int]], location_id: str) -> dict[str, Any]:
    return {
        "title": title,
        "status": "ACTIVE",
        "productOptions": [{"name": "Peso", "values": [{"name": r[0]} for r in rows]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Peso", "name": name}],
                "price": price,
                "inventoryItem": {"sku": sku, "tracked": True},
                "inventoryQuantities": [{"locationId": location_id, "name": "available", "quantity": stock}],
            }
            for name, price, sku, stock in rows
        ],
    }


LEVEL = """
query Level($item: ID!, $location: ID!) {
  inventoryItem(id: $item) { inventoryLevel(locationId: $location) {
    quantities(names: ["available", "committed", "on_hand"]) { name quantity } } }
}"""


def stock(shop: ShopClient, catalogue: Catalogue, sku: str) -> dict[str, int]:
    variables = {"item": catalogue.variants[sku]["inventoryItem"]["id"], "location": catalogue.location_id}
    level = shop.data(LEVEL, variables)["inventoryItem"]["inventoryLevel"]
    return {q["name"]: q["quantity"] for q in level["quantities"]}


ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id name email currencyCode displayFinancialStatus displayFulfillmentStatus capturable
    cancelledAt cancelReason closed tags note edited
    customer { id firstName lastName }
    shippingAddress { address1 address2 city provinceCode zip countryCodeV2 phone firstName lastName company }
    localizedFields(first: 5, countryCodes: [BR], purposes: [TAX, SHIPPING]) {
      nodes { countryCode key purpose title value }
    }
    subtotalPriceSet { shopMoney { amount currencyCode } }
    totalShippingPriceSet { shopMoney { amount } }
    totalDiscountsSet { shopMoney { amount } }
    totalPriceSet { shopMoney { amount } presentmentMoney { amount currencyCode } }
    currentTotalPriceSet { shopMoney { amount } }
    totalCapturableSet { shopMoney { amount } }
    paymentGatewayNames
    transactions { id kind status gateway amountSet { shopMoney { amount } } parentTransaction { id } }
    shippingLines(first: 5) { nodes { title code originalPriceSet { shopMoney { amount } } } }
    lineItems(first: 20) {
      nodes {
        id sku name quantity currentQuantity requiresShipping variant { id }
        originalUnitPriceSet { shopMoney { amount } }
        discountedUnitPriceAfterAllDiscountsSet { shopMoney { amount } }
        originalTotalSet { shopMoney { amount } }
        discountedTotalSet { shopMoney { amount } } totalDiscountSet { shopMoney { amount } }
        priceAfterAllDiscountsBeforeTaxesSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } }
          discountApplication { ... on DiscountCodeApplication { code } } }
      }
    }
    fulfillmentOrders(first: 5) {
      nodes { id status assignedLocation { location { id } }
        lineItems(first: 20) { nodes { id totalQuantity remainingQuantity lineItem { id sku } } } }
    }
    fulfillments { id status trackingInfo { company number url } }
  }
}"""


def order(shop: ShopClient, order_id: str) -> dict[str, Any]:
    return shop.data(ORDER, {"id": order_id})["order"]


def line_by_sku(order_doc: dict[str, Any], sku: str) -> dict[str, Any]:
    return next(line for line in order_doc["lineItems"]["nodes"] if line["sku"] == sku)
