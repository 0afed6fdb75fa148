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


def _fo_line(n: int) -> dict:
    return {"id": f"gid://shopify/FulfillmentOrderLineItem/{n}", "remainingQuantity": 1, "totalQuantity": 1,
            "lineItem": {"id": f"gid://shopify/LineItem/{n}"}}  # fmt: skip


def test_fulfillment_orders_and_their_lines_are_read_past_their_first_pages(client, http):
    def fo(n: int, lines: list[int], more: bool) -> dict:
        info = {"hasNextPage": more, "endCursor": f"l{n}" if more else None}
        return {"id": f"gid://shopify/FulfillmentOrder/{n}", "status": "OPEN",
                "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
                "lineItems": {"nodes": [_fo_line(i) for i in lines], "pageInfo": info}}  # fmt: skip

    def page(fos: list[dict], more: bool) -> dict:
        info = {"hasNextPage": more, "endCursor": "f1" if more else None}
        return {"order": {"id": ORDER["id"], "fulfillmentOrders": {"nodes": fos, "pageInfo": info}}}

    rest = {"fulfillmentOrder": {"id": "gid://shopify/FulfillmentOrder/2", "lineItems": {
        "nodes": [_fo_line(3)], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}  # fmt: skip
    http.post(
        URL,
        [
            {"json": gql_body(page([fo(1, [1], False)], True))},
            {"json": gql_body(page([fo(2, [2], True)], False))},
            {"json": gql_body(rest)},
        ],
    )
    found = client.fulfillment_orders(ORDER["id"])
    assert [
        (f.id.rsplit("/", 1)[1], [line.line_item_id.rsplit("/", 1)[1] for line in f.lines]) for f in found
    ] == [
        ("1", ["1"]),
        ("2", ["2", "3"]),
    ]
    bodies = sent(http)
    assert [b["operationName"] for b in bodies] == [
        "OrderFulfillmentOrders", "OrderFulfillmentOrders", "FulfillmentOrderLineItems"]  # fmt: skip
    assert bodies[1]["variables"]["after"] == "f1" and bodies[2]["variables"]["after"] == "l2"
