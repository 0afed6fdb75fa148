"""Query cost arithmetic, limits, and the leaky bucket against a manual clock."""

from __future__ import annotations

from graphql import parse
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast

from sandbox.shopify.cost import actual_cost, requested_cost
from sandbox.shopify.schema import admin_schema

from .helpers import ShopClient


def _requested(query: str, variables: dict | None = None) -> int:
    schema = admin_schema()
    document = parse(query)
    operation = get_operation_ast(document)
    coerced = get_variable_values(schema, operation.variable_definitions or [], variables or {})
    return requested_cost(schema, operation, {}, coerced)


def test_requested_cost_formula() -> None:
    assert _requested("{ shop { name currencyCode } }") == 1
    assert _requested("{ shop { name plan { displayName } } }") == 2
    # connection: 2 + first x (node 1 + children)
    assert _requested("{ products(first: 10) { nodes { id title } } }") == 2 + 10 * 1
    assert (
        _requested("{ products(first: 10) { edges { cursor node { id } } pageInfo { hasNextPage } } }") == 12
    )
    nested = "{ products(first: 10) { nodes { id variants(first: 5) { nodes { sku } } } } }"
    assert _requested(nested) == 2 + 10 * (1 + 2 + 5 * 1)
    assert _requested("query($n: Int) { products(first: $n) { nodes { id } } }", {"n": 50}) == 52
    # mutation: 10 + payload selection (the payload object itself is free)
    mutation = 'mutation { productSet(input: {title: "x"}) { product { id } userErrors { field } } }'
    assert _requested(mutation) == 10 + 1 + 1


def test_actual_cost_counts_returned_items() -> None:
    schema = admin_schema()
    document = parse("{ products(first: 10) { nodes { id } } }")
    operation = get_operation_ast(document)
    coerced = get_variable_values(schema, [], {})
    data = {"products": {"nodes": [{"id": "1"}, {"id": "2"}, {"id": "3"}]}}
    assert actual_cost(schema, operation, {}, coerced, data) == 2 + 3


def test_actual_cost_of_a_nested_connection_counts_the_items_it_returned() -> None:
    """Shopify's actual cost counts what came back at every level: a product with 3 variants and one
    with none cost 1 + (2 + 3) and 1 + (2 + 0), not 2 x the requested 1 + (2 + 5 x 1) each."""
    schema = admin_schema()
    document = parse("{ products(first: 10) { nodes { id variants(first: 5) { nodes { sku } } } } }")
    operation = get_operation_ast(document)
    coerced = get_variable_values(schema, [], {})
    variants = {"nodes": [{"sku": "A"}, {"sku": "B"}, {"sku": "C"}]}
    data = {
        "products": {"nodes": [{"id": "1", "variants": variants}, {"id": "2", "variants": {"nodes": []}}]}
    }
    assert actual_cost(schema, operation, {}, coerced, data) == 2 + (1 + 2 + 3) + (1 + 2 + 0)
    edges = parse(
        "{ products(first: 10) { edges { node { variants(first: 5) { edges { node { sku } } } } } } }"
    )
    data = {"products": {"edges": [{"node": {"variants": {"edges": [{"node": {"sku": "A"}}]}}}]}}
    assert actual_cost(schema, get_operation_ast(edges), {}, coerced, data) == 2 + (1 + 2 + 1)


def test_response_carries_cost_and_refund(shop: ShopClient, product: dict) -> None:
    body = shop.gql("{ products(first: 100) { nodes { id } } }")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 3
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


def test_max_cost_exceeded(shop: ShopClient) -> None:
    body = shop.gql("{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }")
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "exceeds the single query max cost limit (1000)" in body["errors"][0]["message"]
    assert body["extensions"]["cost"]["requestedQueryCost"] > 1000
    assert "data" not in body


def test_first_above_250_and_input_arrays_above_250_are_rejected(shop: ShopClient) -> None:
    assert (
        shop.gql("{ products { nodes { id } } }")["errors"][0]["message"]
        == "you must provide one of first or last"
    )
    body = shop.gql("{ products(first: 251) { nodes { id } } }")
    assert "251" in body["errors"][0]["message"]
    ids = [f"gid://shopify/Product/{n}" for n in range(251)]
    body = shop.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


def test_throttled_then_refilled_by_the_clock(shop: ShopClient, clock) -> None:
    query = "{ products(first: 250) { nodes { id title handle } } }"  # requested 252, actual 2
    seen = []
    for _ in range(8):
        seen.append(shop.gql(query)["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    assert seen[-1] == 2000 - 8 * 2  # each call pays 252 up front and gets 250 back
    # drain the bucket below the requested cost
    bucket = shop.handle.sandbox.throttle.bucket("test-api-key", "acme", 2000, 100)
    bucket.available = 100
    body = shop.gql(query)
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 100
    clock.advance(1.0)  # +100 points: 200 < 252 requested, still throttled
    assert shop.gql(query)["errors"][0]["extensions"]["code"] == "THROTTLED"
    clock.advance(1.0)  # 300 points
    assert shop.gql(query)["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 300 - 2
    clock.advance(3600)
    assert shop.gql(query)["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000 - 2


def test_tier_changes_bucket_size_and_rate(shop: ShopClient, emulator) -> None:
    emulator.sandbox.shops.set_tier("acme", "plus")
    status = shop.gql("{ shop { name } }")["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 20000.0
    assert status["restoreRate"] == 1000.0


def test_a_product_sets_input_items_cost_what_the_schema_says_whatever_comes_back(shop: ShopClient) -> None:
    """ProductSetInput.variants "Complexity cost: 0.2 per variant", metafields 0.4 each: charged on
    top of the selection, in the requested and the actual cost alike (rounded up)."""
    document = "mutation($input: ProductSetInput!) { productSet(input: $input) { userErrors { field } } }"
    one = {"title": "x", "productOptions": [{"name": "Tamanho", "values": [{"name": "V0"}]}]}
    variants = [{"optionValues": [{"optionName": "Tamanho", "name": f"V{n}"}]} for n in range(100)]
    many = {
        "title": "y",
        "productOptions": [{"name": "Tamanho", "values": [{"name": f"V{n}"} for n in range(100)]}],
        "variants": variants,
        "metafields": [{"namespace": "a", "key": "b", "type": "single_line_text_field", "value": "c"}],
    }
    bare = shop.gql(document, {"input": one})["extensions"]["cost"]
    loaded = shop.gql(document, {"input": many})["extensions"]["cost"]
    assert loaded["requestedQueryCost"] - bare["requestedQueryCost"] == 20 + 1  # 100 x 0.2, 0.4 up
    assert loaded["actualQueryCost"] - bare["actualQueryCost"] == 21
    query = shop.gql("{ shop { name } }")["extensions"]["cost"]  # a query's cost is unchanged
    assert query["requestedQueryCost"] == 1
