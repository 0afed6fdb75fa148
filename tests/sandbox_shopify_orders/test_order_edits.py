"""Order editing: begin / set quantity / add variant / commit changes quantities, totals and
stock, and sends orders/edited with Shopify's payload shape; fulfilled lines cannot change."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify import checkout

from .helpers import Catalogue, Receiver, ShopClient, amount, line_by_sku, order, stock

BEGIN = """
mutation Begin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id lineItems(first: 20) { nodes { id quantity sku variant { id } } } }
    userErrors { field message }
  }
}"""

SET_QUANTITY = """
mutation SetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    calculatedLineItem { id quantity }
    calculatedOrder { id totalPriceSet { shopMoney { amount } } }
    userErrors { field message }
  }
}"""

ADD_VARIANT = """
mutation AddVariant($id: ID!, $variantId: ID!, $quantity: Int!, $locationId: ID) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, locationId: $locationId,
                      allowDuplicates: false) {
    calculatedLineItem { id quantity sku }
    calculatedOrder { id addedLineItems(first: 5) { nodes { id quantity sku } } }
    userErrors { field message }
  }
}"""

COMMIT = """
mutation Commit($id: ID!) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: "Separação: falta de estoque") {
    order { id edited currentTotalPriceSet { shopMoney { amount } } }
    userErrors { field message }
  }
}"""

FULFIL = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""


def _calculated_line(begin: dict, sku: str) -> str:
    return next(li["id"] for li in begin["calculatedOrder"]["lineItems"]["nodes"] if li["sku"] == sku)


def test_edit_cuts_a_line_adds_a_variant_and_reports_the_delta(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 4}, {"sku": "ARZ-5", "quantity": 1}],
        gateway="cartao",
        capture="manual",
        discount_rate=0.0,
        shipping="SEDEX",
        seed=2,
    )
    before = order(shop, order_id)
    begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
    assert begin["userErrors"] == []
    calc_id = begin["calculatedOrder"]["id"]
    cut = shop.data(
        SET_QUANTITY, {"id": calc_id, "lineItemId": _calculated_line(begin, "ARZ-1"), "quantity": 1}
    )
    assert cut["orderEditSetQuantity"]["userErrors"] == []
    assert cut["orderEditSetQuantity"]["calculatedLineItem"]["quantity"] == 1
    expected = amount(before["totalPriceSet"]) - Decimal("7.90") * 3
    assert amount(cut["orderEditSetQuantity"]["calculatedOrder"]["totalPriceSet"]) == expected
    added = shop.data(
        ADD_VARIANT,
        {
            "id": calc_id,
            "variantId": catalogue.variants["FJN-1"]["id"],
            "quantity": 2,
            "locationId": catalogue.location_id,
        },
    )["orderEditAddVariant"]
    assert added["userErrors"] == [] and added["calculatedLineItem"]["sku"] == "FJN-1"
    assert [li["sku"] for li in added["calculatedOrder"]["addedLineItems"]["nodes"]] == ["FJN-1"]
    duplicate = shop.data(
        ADD_VARIANT, {"id": calc_id, "variantId": catalogue.variants["ARZ-5"]["id"], "quantity": 1}
    )["orderEditAddVariant"]
    assert duplicate["userErrors"] and duplicate["calculatedLineItem"] is None
    assert stock(shop, catalogue, "ARZ-1")["available"] == 6  # nothing moves before commit

    commit = shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]
    assert commit["userErrors"] == [] and commit["order"]["edited"] is True
    after = order(shop, order_id)
    assert (
        line_by_sku(after, "ARZ-1")["quantity"] == 4 and line_by_sku(after, "ARZ-1")["currentQuantity"] == 1
    )
    assert line_by_sku(after, "FJN-1")["currentQuantity"] == 2
    assert amount(after["currentTotalPriceSet"]) == expected + Decimal("8.49") * 2
    assert stock(shop, catalogue, "ARZ-1") == {"available": 9, "committed": 1, "on_hand": 10}
    assert stock(shop, catalogue, "FJN-1") == {"available": 18, "committed": 2, "on_hand": 20}
    remaining = {
        i["lineItem"]["sku"]: i["remainingQuantity"]
        for fo in after["fulfillmentOrders"]["nodes"]
        for i in fo["lineItems"]["nodes"]
    }
    assert remaining == {"ARZ-1": 1, "ARZ-5": 1, "FJN-1": 2}
    again = shop.gql(COMMIT, {"id": calc_id})["data"]["orderEditCommit"]
    assert again["userErrors"] and again["order"] is None

    shop.wait_webhooks()
    edited = receiver.topics("orders/edited")
    assert len(edited) == 1
    body = edited[0].json["order_edit"]
    assert body["order_id"] == int(order_id.rsplit("/", 1)[1]) and body["committed_at"] and body["id"]
    arz_line = int(line_by_sku(after, "ARZ-1")["id"].rsplit("/", 1)[1])
    fjn_line = int(line_by_sku(after, "FJN-1")["id"].rsplit("/", 1)[1])
    assert body["line_items"] == {
        "additions": [{"id": fjn_line, "delta": 2}],
        "removals": [{"id": arz_line, "delta": 3}],
    }
    assert receiver.topics("orders/updated")


def test_a_variant_added_earlier_in_the_edit_is_on_the_calculated_order_and_not_added_twice(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """Shopify's allowDuplicates (default false): "whether the mutation can create a line item for a
    variant that's already on the calculated order" — a variant added in this edit is on it."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], gateway="pix", seed=5
    )
    calc_id = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]["calculatedOrder"]["id"]
    added = {"id": calc_id, "variantId": catalogue.variants["FJN-1"]["id"], "quantity": 1}
    first = shop.data(ADD_VARIANT, added)["orderEditAddVariant"]
    assert first["userErrors"] == []
    on_the_order = shop.data(
        ADD_VARIANT, {"id": calc_id, "variantId": catalogue.variants["ARZ-1"]["id"], "quantity": 1}
    )["orderEditAddVariant"]
    again = shop.data(ADD_VARIANT, added)["orderEditAddVariant"]
    assert again["userErrors"] == on_the_order["userErrors"] != []  # the answer for a variant on the order
    assert again["calculatedLineItem"] is None

    commit = shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]
    assert commit["userErrors"] == []
    lines = order(shop, order_id)["lineItems"]["nodes"]
    assert [li["currentQuantity"] for li in lines if li["sku"] == "FJN-1"] == [1]


SUBSCRIBE = """
mutation Subscribe($uri: String!) {
  webhookSubscriptionCreate(topic: ORDERS_FULFILLED, webhookSubscription: {uri: $uri}) {
    webhookSubscription { id }
    userErrors { field message }
  }
}"""


def test_fulfilled_lines_cannot_be_edited(shop: ShopClient, catalogue: Catalogue, receiver: Receiver) -> None:
    subscribed = shop.data(SUBSCRIBE, {"uri": f"{receiver.url}/webhooks"})["webhookSubscriptionCreate"]
    assert subscribed["userErrors"] == []
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 2}, {"sku": "FJN-1", "quantity": 3}],
        gateway="pix",
        discount_rate=0.0,
        seed=4,
    )
    fulfillment_order = order(shop, order_id)["fulfillmentOrders"]["nodes"][0]
    arz_item = next(i for i in fulfillment_order["lineItems"]["nodes"] if i["lineItem"]["sku"] == "ARZ-1")
    tracking = {
        "company": "Correios",
        "number": "BR123456789BR",
        "url": "https://rastreamento.correios.com.br/x",
    }
    too_many = shop.data(
        FULFIL,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": [{"id": arz_item["id"], "quantity": 3}],
                    }
                ]
            }
        },
    )["fulfillmentCreate"]
    assert too_many["userErrors"] and too_many["fulfillment"] is None
    created = shop.data(
        FULFIL,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": [{"id": arz_item["id"], "quantity": 2}],
                    }
                ],
                "trackingInfo": tracking,
                "notifyCustomer": True,
            }
        },
    )["fulfillmentCreate"]
    assert created["userErrors"] == [] and created["fulfillment"]["status"] == "SUCCESS"
    assert created["fulfillment"]["trackingInfo"] == [tracking]
    partial = order(shop, order_id)
    assert partial["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert partial["fulfillmentOrders"]["nodes"][0]["status"] == "IN_PROGRESS"
    assert partial["fulfillments"][0]["trackingInfo"][0]["number"] == "BR123456789BR"
    assert stock(shop, catalogue, "ARZ-1") == {"available": 8, "committed": 0, "on_hand": 8}

    begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
    refused = shop.data(
        SET_QUANTITY,
        {"id": begin["calculatedOrder"]["id"], "lineItemId": _calculated_line(begin, "ARZ-1"), "quantity": 1},
    )
    assert refused["orderEditSetQuantity"]["userErrors"]
    assert refused["orderEditSetQuantity"]["calculatedLineItem"] is None

    rest = shop.data(
        FULFIL,
        {"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}]}},
    )["fulfillmentCreate"]
    assert rest["userErrors"] == []
    done = order(shop, order_id)
    assert done["displayFulfillmentStatus"] == "FULFILLED"
    assert done["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    closed = shop.data(
        FULFIL,
        {"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}]}},
    )["fulfillmentCreate"]
    assert closed["userErrors"]
    shop.wait_webhooks()
    fulfilled = receiver.topics("orders/fulfilled")
    assert len(fulfilled) == 1 and fulfilled[0].json["fulfillment_status"] == "fulfilled"
    assert [f["tracking_number"] for f in fulfilled[0].json["fulfillments"]] == ["BR123456789BR", None]


CALCULATED_LINES = """
query Lines($id: ID!, $after: String) {
  node(id: $id) {
    ... on CalculatedOrder { lineItems(first: 1, after: $after) {
      nodes { id sku quantity } pageInfo { hasNextPage endCursor } } }
  }
}"""


def test_an_open_edit_is_read_by_its_id_a_page_of_lines_at_a_time(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """A calculated order is a Node: its lines past orderEditBegin's page are read by its id, with
    the changes staged so far."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 4}, {"sku": "FJN-1", "quantity": 2}],
        discount_rate=0.0, seed=2,
    )  # fmt: skip
    begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
    calc_id = begin["calculatedOrder"]["id"]
    shop.data(SET_QUANTITY, {"id": calc_id, "lineItemId": _calculated_line(begin, "FJN-1"), "quantity": 1})
    first = shop.data(CALCULATED_LINES, {"id": calc_id})["node"]["lineItems"]
    assert [li["sku"] for li in first["nodes"]] == ["ARZ-1"] and first["pageInfo"]["hasNextPage"]
    after = {"id": calc_id, "after": first["pageInfo"]["endCursor"]}
    second = shop.data(CALCULATED_LINES, after)["node"]["lineItems"]
    assert [(li["sku"], li["quantity"]) for li in second["nodes"]] == [("FJN-1", 1)]
    assert not second["pageInfo"]["hasNextPage"]
