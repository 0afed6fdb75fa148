"""Order look-ups (orders(query:, sortKey:)), tags, order metafields, mark-paid, and the control
endpoints of the checkout simulator (one-off batch and the background rate)."""

from __future__ import annotations

import time

import requests
from stdnum.br import cnpj, cpf

from sandbox.shopify import checkout
from sandbox.shopify.checkout_simulator import start_simulator, stop_simulator

from .helpers import Catalogue, Receiver, ShopClient, order

ORDERS = """
query Orders($query: String, $after: String) {
  orders(first: 2, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { id name updatedAt displayFinancialStatus }
    pageInfo { hasNextPage endCursor }
  }
}"""

TAGS_ADD = """
mutation Tag($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { field message } }
}"""

TAGS_REMOVE = """
mutation Untag($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { field message } }
}"""

METAFIELDS = """
mutation Invoice($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id key value } userErrors { field message code } }
}"""

PRODUCT_TAGS = "query ProductTags($id: ID!) { product(id: $id) { tags } }"

ORDER_INVOICE = """
query Invoice($id: ID!) {
  order(id: $id) { metafield(namespace: "nfe", key: "chave") { value type } tags }
}"""

TAX_ID = """
query TaxId($id: ID!) {
  order(id: $id) { localizedFields(first: 2, purposes: [TAX]) { nodes { key value } } }
}"""


def test_orders_query_pages_by_updated_at_and_finds_by_name(shop: ShopClient, catalogue: Catalogue) -> None:
    placed = checkout.place_orders(shop.handle.sandbox, "acme", 3, seed=21, gateway="pix")
    first = shop.data(ORDERS, {"query": "updated_at:>=2020-01-01T00:00:00Z"})["orders"]
    assert len(first["nodes"]) == 2 and first["pageInfo"]["hasNextPage"] is True
    rest = shop.data(ORDERS, {"query": "updated_at:>=2020-01-01", "after": first["pageInfo"]["endCursor"]})
    assert [n["id"] for n in first["nodes"] + rest["orders"]["nodes"]] == placed
    assert shop.data(ORDERS, {"query": "updated_at:>2100-01-01"})["orders"]["nodes"] == []
    named = shop.data(ORDERS, {"query": "name:#1002"})["orders"]["nodes"]
    assert [n["id"] for n in named] == [placed[1]]


def test_an_order_updated_between_two_pages_comes_again_and_none_is_skipped(
    shop: ShopClient, catalogue: Catalogue, clock
) -> None:
    """Shopify's cursor keeps the position read (the sort value and the id): the last order of a
    page, tagged before the next page is asked (the app tags orders itself), moves to the end and
    is read again. The sandbox's cursor was its id, found in the list as sorted now: every order
    between its old place and its new one was skipped (a reconciliation leaving orders unchecked)."""
    placed = []
    for seed in range(6):
        lines = [{"sku": "FJN-1", "quantity": 1}]
        placed.append(
            checkout.place_order(
                shop.handle.sandbox,
                "acme",
                lines=lines,
                gateway="pix",
                discount_rate=0.0,
                shipping="PAC",
                seed=seed,
            )
        )
        clock.advance(60)
    page = shop.data(ORDERS, {"query": "updated_at:>=2000-01-01T00:00:00Z"})["orders"]
    seen = [n["id"] for n in page["nodes"]]
    clock.advance(60)
    assert shop.data(TAGS_ADD, {"id": seen[-1], "tags": ["nfe-emitida"]})["tagsAdd"]["userErrors"] == []
    while page["pageInfo"]["hasNextPage"]:
        after = page["pageInfo"]["endCursor"]
        page = shop.data(ORDERS, {"query": "updated_at:>=2000-01-01T00:00:00Z", "after": after})["orders"]
        seen += [n["id"] for n in page["nodes"]]
    assert seen == [*placed, placed[1]]  # the tagged one read again at its new place


def test_tags_and_invoice_metafields_on_an_order(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], gateway="boleto", seed=3
    )
    added = shop.data(TAGS_ADD, {"id": order_id, "tags": ["erp:enviado", "nfe, Separado"]})["tagsAdd"]
    assert added["userErrors"] == [] and added["node"]["tags"] == ["erp:enviado", "nfe", "Separado"]
    again = shop.data(TAGS_ADD, {"id": order_id, "tags": ["NFE"]})["tagsAdd"]
    assert again["node"]["tags"] == ["erp:enviado", "nfe", "Separado"]
    removed = shop.data(TAGS_REMOVE, {"id": order_id, "tags": ["separado"]})["tagsRemove"]
    assert removed["node"]["tags"] == ["erp:enviado", "nfe"]
    product_id = shop.data("{ products(first: 1) { nodes { id } } }")["products"]["nodes"][0]["id"]
    shop.data(TAGS_ADD, {"id": product_id, "tags": ["mercearia"]})
    assert shop.data(PRODUCT_TAGS, {"id": product_id})["product"]["tags"] == ["mercearia"]
    missing = shop.data(TAGS_ADD, {"id": "gid://shopify/Order/999999", "tags": ["x"]})["tagsAdd"]
    assert missing["node"] is None and missing["userErrors"][0]["field"] == ["id"]

    key = "35210320695448000184550010000035891981839923"
    written = shop.data(
        METAFIELDS,
        {
            "metafields": [
                {
                    "ownerId": order_id,
                    "namespace": "nfe",
                    "key": "chave",
                    "type": "single_line_text_field",
                    "value": key,
                }
            ]
        },
    )
    assert written["metafieldsSet"]["userErrors"] == []
    read = shop.data(ORDER_INVOICE, {"id": order_id})["order"]
    assert read["metafield"] == {"value": key, "type": "single_line_text_field"}
    assert order(shop, order_id)["displayFinancialStatus"] == "PENDING"
    paid = checkout.mark_paid(shop.handle.sandbox, "acme", order_id)
    assert paid["displayFinancialStatus"] == "PAID"
    shop.wait_webhooks()
    assert len(receiver.topics("orders/paid")) == 1


def test_control_endpoint_places_orders_with_forced_cnpj(shop: ShopClient, catalogue: Catalogue) -> None:
    response = shop.control(
        "/checkout",
        {"count": 2, "seed": 5, "gateway": "cartao", "capture": "manual", "cnpj": "12.ABC.345/01DE-35"},
    )
    assert response.status_code == 200, response.text
    placed = response.json()["orders"]
    assert len(placed) == 2
    for order_id in placed:
        value = shop.data(TAX_ID, {"id": order_id})["order"]["localizedFields"]["nodes"][0]["value"]
        assert cnpj.compact(value) == "12ABC34501DE35"
        assert order(shop, order_id)["displayFinancialStatus"] == "AUTHORIZED"
    refused = shop.control("/checkout", {"lines": [{"sku": "NAO-EXISTE", "quantity": 1}]})
    assert refused.status_code == 422
    paid = shop.control("/orders/mark_paid", {"orderId": placed[0]})
    assert paid.status_code == 200 and paid.json()["displayFinancialStatus"] == "PAID"
    listed = requests.get(f"{shop.handle.url}/_sandbox/shops/acme/orders", timeout=10).json()
    assert {o["id"]: o["financialStatus"] for o in listed}[placed[0]] == "PAID"


def test_background_simulator_places_orders_at_its_rate(shop: ShopClient, catalogue: Catalogue) -> None:
    sandbox = shop.handle.sandbox
    simulator = start_simulator(
        sandbox, "acme", rate_per_minute=1200, seed=4, gateway="pix", company_rate=0.0
    )
    deadline = time.monotonic() + 10
    while len(simulator.placed) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stopped = stop_simulator(sandbox, "acme")
    assert stopped is simulator and not simulator.running
    assert len(simulator.placed) >= 3
    for order_id in simulator.placed[:3]:
        value = shop.data(TAX_ID, {"id": order_id})["order"]["localizedFields"]["nodes"][0]["value"]
        assert cpf.is_valid(value)
