"""The GraphQL endpoint: schema validation, 'not emulated', authentication, shop by Host."""

from __future__ import annotations

import requests

from .helpers import API_KEY, ShopClient


def test_unknown_field_is_rejected_with_shopify_error_shape(shop: ShopClient) -> None:
    body = shop.gql("{ shop { nameX } }")
    assert "data" not in body
    error = body["errors"][0]
    assert "Cannot query field 'nameX' on type 'Shop'" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 10}]
    assert error["extensions"]["code"] == "undefinedField"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 0


def test_wrong_argument_type_and_missing_required_argument_are_rejected(shop: ShopClient) -> None:
    assert "errors" in shop.gql('{ products(first: "ten") { nodes { id } } }')
    assert "errors" in shop.gql("{ product { id } }")
    assert "errors" in shop.gql("mutation { productSet { product { id } } }")


def test_parse_error_and_bad_variable(shop: ShopClient) -> None:
    assert shop.gql("{ shop { name ")["errors"][0]["extensions"]["code"] == "PARSE_ERROR"
    body = shop.gql("query($id: ID!) { product(id: $id) { id } }", {})
    assert "$id" in body["errors"][0]["message"]


def test_field_without_resolver_answers_not_emulated(shop: ShopClient) -> None:
    body = shop.gql("{ shop { name alerts { description } } }")
    assert body["errors"][0]["message"] == "not emulated: Shop.alerts"
    assert body["errors"][0]["extensions"]["code"] == "NOT_EMULATED"
    assert body["errors"][0]["path"] == ["shop", "alerts"]


def test_variables_fragments_and_aliases(shop: ShopClient, product: dict) -> None:
    query = """
    query Two($id: ID!) {
      first: product(id: $id) { ...Bits }
      again: product(id: $id) { handle }
    }
    fragment Bits on Product { title variants(first: 5) { nodes { sku } } }"""
    data = shop.data(query, {"id": product["id"]})
    assert data["first"]["title"] == "Arroz Tipo 1"
    assert [v["sku"] for v in data["first"]["variants"]["nodes"]] == ["ARZ-1", "ARZ-5"]
    assert data["again"]["handle"] == "arroz-tipo-1"


def test_node_resolves_type_by_typename(shop: ShopClient, product: dict) -> None:
    variant_id = product["variants"]["nodes"][0]["id"]
    data = shop.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on ProductVariant { sku } } }",
        {"ids": [product["id"], variant_id]},
    )
    assert data["nodes"] == [{"__typename": "Product"}, {"__typename": "ProductVariant", "sku": "ARZ-1"}]


def test_missing_invalid_and_other_shop_tokens_get_401(shop: ShopClient, emulator) -> None:
    url = f"{emulator.url}/admin/api/2026-10/graphql.json"
    missing = requests.post(url, json={"query": "{ shop { name } }"}, headers={"Host": shop.host}, timeout=10)
    assert missing.status_code == 401
    assert "Invalid API key or access token" in missing.json()["errors"]
    assert shop.post("{ shop { name } }", token="shpat_nope").status_code == 401
    other = ShopClient(emulator, "other-shop", shop.token)
    assert other.post("{ shop { name } }").status_code == 401


def test_expired_access_token_gets_401(shop: ShopClient, emulator, clock) -> None:
    token = emulator.sandbox.tokens.issue_access_token("acme", API_KEY, expiring=True)["access_token"]
    assert shop.post("{ shop { name } }", token=token).status_code == 200
    clock.advance(3601)
    assert shop.post("{ shop { name } }", token=token).status_code == 401


def test_forwarded_host_names_the_shop(shop: ShopClient, emulator) -> None:
    response = requests.post(
        f"{emulator.url}/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { myshopifyDomain } }"},
        headers={"X-Forwarded-Host": "acme.myshopify.com", "X-Shopify-Access-Token": shop.token},
        timeout=10,
    )
    assert response.json()["data"]["shop"]["myshopifyDomain"] == "acme.myshopify.com"


def test_unsupported_api_version_is_404(shop: ShopClient, emulator) -> None:
    response = requests.post(
        f"{emulator.url}/admin/api/2023-01/graphql.json",
        json={"query": "{ shop { name } }"},
        headers={"Host": shop.host, "X-Shopify-Access-Token": shop.token},
        timeout=10,
    )
    assert response.status_code == 404
