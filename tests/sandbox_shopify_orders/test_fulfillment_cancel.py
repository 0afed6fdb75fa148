"""fulfillmentCancel: the reverse of fulfillmentCreate (units fulfillable again, stock back,
status derived again, orders/updated), refused twice; orderCancel refused while a fulfillment is
active and accepted once every fulfillment is cancelled."""

from __future__ import annotations

from typing import Any

from sandbox.shopify import checkout
from sandbox.shopify.clock import ManualClock

from .helpers import Catalogue, Receiver, ShopClient, order, stock

FULFILL = """
mutation Fulfill($fo: ID!, $items: [FulfillmentOrderLineItemInput!]) {
  fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $fo,
                                                                  fulfillmentOrderLineItems: $items}]}) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

CANCEL_FULFILLMENT = """
mutation FulfillmentCancel($id: ID!) {
  fulfillmentCancel(id: $id) {
    fulfillment { id status displayStatus totalQuantity }
    userErrors { field message }
  }
}"""

CANCEL_ORDER = """
mutation Cancel($orderId: ID!) {
  orderCancel(orderId: $orderId, reason: OTHER, restock: true, refund: true) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

JOB = "query Job($id: ID!) { job(id: $id) { done } }"


def _fulfill(shop: ShopClient, fo_id: str, items: list[dict[str, Any]] | None = None) -> str:
    result = shop.data(FULFILL, {"fo": fo_id, "items": items})["fulfillmentCreate"]
    assert result["userErrors"] == [], result["userErrors"]
    return result["fulfillment"]["id"]


def _cancel_fulfillment(shop: ShopClient, fulfillment_id: str) -> dict[str, Any]:
    return shop.data(CANCEL_FULFILLMENT, {"id": fulfillment_id})["fulfillmentCancel"]


def _cancel_order(shop: ShopClient, order_id: str) -> dict[str, Any]:
    return shop.data(CANCEL_ORDER, {"orderId": order_id})["orderCancel"]


def _fo_lines(fo: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """sku -> (totalQuantity, remainingQuantity) of one fulfillment order."""
    return {
        item["lineItem"]["sku"]: (item["totalQuantity"], item["remainingQuantity"])
        for item in fo["lineItems"]["nodes"]
    }


def test_cancelling_the_only_fulfillment_reopens_the_units_and_lets_the_order_be_cancelled(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 2}], gateway="pix", seed=8
    )
    [fo] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    fulfillment_id = _fulfill(shop, fo["id"])
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 0, "on_hand": 3}
    assert order(shop, order_id)["displayFulfillmentStatus"] == "FULFILLED"
    refused = _cancel_order(shop, order_id)
    assert refused["job"] is None and refused["orderCancelUserErrors"][0]["code"] == "INVALID"
    shop.wait_webhooks()
    updates_before = len(receiver.topics("orders/updated"))

    cancelled = _cancel_fulfillment(shop, fulfillment_id)
    assert cancelled["userErrors"] == []
    assert cancelled["fulfillment"] == {
        "id": fulfillment_id,
        "status": "CANCELLED",
        "displayStatus": "CANCELED",
        "totalQuantity": 2,
    }
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 2, "on_hand": 5}
    after = order(shop, order_id)
    assert after["displayFulfillmentStatus"] == "UNFULFILLED" and after["cancelledAt"] is None
    assert [f["status"] for f in after["fulfillments"]] == ["CANCELLED"]
    closed, reopened = after["fulfillmentOrders"]["nodes"]  # Shopify keeps the closed one, opens a new one
    assert closed["id"] == fo["id"] and closed["status"] == "CLOSED"
    assert reopened["status"] == "OPEN" and _fo_lines(reopened) == {"ARZ-5": (2, 2)}
    shop.wait_webhooks()
    updates = receiver.topics("orders/updated")
    assert len(updates) == updates_before + 1
    assert updates[-1].json["fulfillments"][0]["status"] == "cancelled"

    again = _cancel_fulfillment(shop, fulfillment_id)
    assert again["fulfillment"] is None and again["userErrors"][0]["field"] == ["id"]
    assert "already been cancelled" in again["userErrors"][0]["message"]
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 2, "on_hand": 5}

    started = _cancel_order(shop, order_id)
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": started["job"]["id"]})["job"]["done"] is True
    final = order(shop, order_id)
    assert final["cancelledAt"] and final["displayFinancialStatus"] == "REFUNDED"
    assert [fo["status"] for fo in final["fulfillmentOrders"]["nodes"]] == ["CLOSED", "CANCELLED"]
    assert stock(shop, catalogue, "ARZ-5") == {"available": 5, "committed": 0, "on_hand": 5}
    late = _cancel_fulfillment(shop, fulfillment_id)
    assert late["userErrors"] and late["fulfillment"] is None


def test_partial_fulfillments_give_back_their_own_units_and_block_cancel_while_one_is_active(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 3}, {"sku": "FJN-1", "quantity": 2}],
        gateway="pix",
        seed=8,
    )
    [fo] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    item_of = {item["lineItem"]["sku"]: item["id"] for item in fo["lineItems"]["nodes"]}
    first = _fulfill(shop, fo["id"], [{"id": item_of["ARZ-1"], "quantity": 1}])
    second = _fulfill(shop, fo["id"], [{"id": item_of["FJN-1"], "quantity": 2}])
    assert stock(shop, catalogue, "ARZ-1") == {"available": 7, "committed": 2, "on_hand": 9}

    assert _cancel_fulfillment(shop, first)["userErrors"] == []
    assert stock(shop, catalogue, "ARZ-1") == {"available": 7, "committed": 3, "on_hand": 10}
    assert stock(shop, catalogue, "FJN-1") == {"available": 18, "committed": 0, "on_hand": 18}
    middle = order(shop, order_id)
    [same] = middle["fulfillmentOrders"]["nodes"]  # still open: its remaining quantities grow back
    assert same["status"] == "IN_PROGRESS" and _fo_lines(same) == {"ARZ-1": (3, 3), "FJN-1": (2, 0)}
    assert middle["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert _cancel_order(shop, order_id)["orderCancelUserErrors"][0]["code"] == "INVALID"

    assert _cancel_fulfillment(shop, second)["userErrors"] == []
    [reopened] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    assert reopened["status"] == "OPEN" and _fo_lines(reopened) == {"ARZ-1": (3, 3), "FJN-1": (2, 2)}
    assert order(shop, order_id)["displayFulfillmentStatus"] == "UNFULFILLED"
    started = _cancel_order(shop, order_id)
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": started["job"]["id"]})["job"]["done"] is True
    assert stock(shop, catalogue, "ARZ-1") == {"available": 10, "committed": 0, "on_hand": 10}
    assert stock(shop, catalogue, "FJN-1") == {"available": 20, "committed": 0, "on_hand": 20}


def test_unknown_fulfillment_is_a_user_error(shop: ShopClient) -> None:
    result = _cancel_fulfillment(shop, "gid://shopify/Fulfillment/999999")
    assert result == {
        "fulfillment": None,
        "userErrors": [{"field": ["id"], "message": "Fulfillment does not exist."}],
    }


REFUND = """
query Refund($id: ID!) {
  refund(id: $id) { return { id } refundLineItems(first: 5) { nodes { quantity restockType restocked } } }
}"""


def test_a_refund_of_shipped_units_leaves_them_with_the_customer_unless_restocked(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """After fulfilment the admin's refund leaves the units with the customer (NO_RESTOCK: stock
    unchanged); with "Restock items" they come back (RETURN: on hand and available again)."""
    from sandbox.shopify.resolvers.order_refunds import refund_order

    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 3}], gateway="pix", seed=8
    )
    [fo] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    _fulfill(shop, fo["id"])
    assert stock(shop, catalogue, "ARZ-5") == {"available": 2, "committed": 0, "on_hand": 2}
    line_id = order(shop, order_id)["lineItems"]["nodes"][0]["id"]
    kept = refund_order(shop.handle.sandbox, "acme", order_id, {line_id: 1})
    assert stock(shop, catalogue, "ARZ-5") == {"available": 2, "committed": 0, "on_hand": 2}
    back = refund_order(shop.handle.sandbox, "acme", order_id, {line_id: 1}, restock=True)
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 0, "on_hand": 3}
    said = [shop.data(REFUND, {"id": made["id"]})["refund"] for made in (kept, back)]
    assert [r["refundLineItems"]["nodes"][0]["restockType"] for r in said] == ["NO_RESTOCK", "RETURN"]
    assert [r["refundLineItems"]["nodes"][0]["restocked"] for r in said] == [False, True]
    assert [r["return"] for r in said] == [None, None]
