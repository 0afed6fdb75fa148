"""order(): lines beyond the first page and fulfillment orders, against requests-mock."""

from __future__ import annotations

import copy

from tests.admin_api.conftest import URL, gql_body, sent
from tests.admin_api.test_results import ORDER


def line(n: int) -> dict:
    return {
        "id": f"gid://shopify/LineItem/{n}",
        "sku": f"SKU-{n}",
        "name": f"Item {n}",
        "quantity": 1,
        "currentQuantity": 1,
        "variant": {"id": f"gid://shopify/ProductVariant/{n}"},
        "originalUnitPriceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "BRL"}},
        "discountedUnitPriceAfterAllDiscountsSet": {"shopMoney": {"amount": "1.00", "currencyCode": "BRL"}},
    }


def test_order_reads_every_line_and_its_fulfillment_orders(client, http):
    first = copy.deepcopy(ORDER)
    first.pop("fulfillmentOrders")
    first["lineItems"] = {"nodes": [line(1)], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}
    more = {
        "order": {"lineItems": {"nodes": [line(2)], "pageInfo": {"hasNextPage": True, "endCursor": "c2"}}}
    }
    last = {
        "order": {"lineItems": {"nodes": [line(3)], "pageInfo": {"hasNextPage": False, "endCursor": "c3"}}}
    }
    fos = {"order": {"id": ORDER["id"], "fulfillmentOrders": ORDER["fulfillmentOrders"]}}
    http.post(
        URL,
        [
            {"json": gql_body({"order": first})},
            {"json": gql_body(more)},
            {"json": gql_body(last)},
            {"json": gql_body(fos)},
        ],
    )
    order = client.order(ORDER["id"], with_fulfillment_orders=True)
    assert [x.sku for x in order.lines] == ["SKU-1", "SKU-2", "SKU-3"]
    assert order.fulfillment_orders[0].id == "gid://shopify/FulfillmentOrder/7"
    bodies = sent(http)
    assert [b["operationName"] for b in bodies] == [
        "Order",
        "OrderLineItems",
        "OrderLineItems",
        "OrderFulfillmentOrders",
    ]
    assert [b["variables"].get("after") for b in bodies[1:3]] == ["c1", "c2"]


def test_missing_order_is_none(client, http):
    http.post(URL, json=gql_body({"order": None}))
    assert client.order("gid://shopify/Order/404") is None
