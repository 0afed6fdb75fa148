"""orderCancel while a fulfillment service holds the order (it accepted the fulfillment request):
refused as Shopify refuses it (OrderCancelUserError INVALID), the fulfillment orders shown as the
service's (IN_PROGRESS, requestStatus ACCEPTED, its location named after it); once the service gives
them back the order cancels."""

from __future__ import annotations

import pytest

from sandbox.shopify import checkout
from sandbox.shopify.clock import ManualClock

from .helpers import Catalogue, ShopClient

CANCEL_ORDER = """
mutation Cancel($orderId: ID!) {
  orderCancel(orderId: $orderId, reason: OTHER, restock: true, refund: true) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

FULFILLMENT_ORDERS = """
query FOs($id: ID!) {
  order(id: $id) {
    cancelledAt
    fulfillmentOrders(first: 5) { nodes { status requestStatus assignedLocation { name } } }
  }
}"""


def _cancel(shop: ShopClient, order_id: str) -> dict:
    return shop.data(CANCEL_ORDER, {"orderId": order_id})["orderCancel"]


@pytest.mark.parametrize("held", ["ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"])
def test_an_order_a_fulfillment_service_holds_is_not_cancelled(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock, held: str
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway="pix", seed=8
    )
    answer = shop.control("/orders/fulfillment_service", {"orderId": order_id, "service": "Armazém Log",
                                                          "requestStatus": held})  # fmt: skip
    assert answer.status_code == 200, answer.text
    [fo] = shop.data(FULFILLMENT_ORDERS, {"id": order_id})["order"]["fulfillmentOrders"]["nodes"]
    assert fo == {"status": "IN_PROGRESS", "requestStatus": held, "assignedLocation": {"name": "Armazém Log"}}

    refused = _cancel(shop, order_id)
    assert refused["job"] is None
    [error] = refused["orderCancelUserErrors"]
    assert error["code"] == "INVALID" and error["field"] == ["orderId"] and "fulfillment" in error["message"]

    assert shop.control("/orders/fulfillment_service", {"orderId": order_id, "requestStatus": None}).ok
    [fo] = shop.data(FULFILLMENT_ORDERS, {"id": order_id})["order"]["fulfillmentOrders"]["nodes"]
    assert fo["status"] == "OPEN" and fo["requestStatus"] == "UNSUBMITTED"
    assert fo["assignedLocation"]["name"] != "Armazém Log"
    started = _cancel(shop, order_id)
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    shop.data("query Job($id: ID!) { job(id: $id) { done } }", {"id": started["job"]["id"]})
    assert shop.data(FULFILLMENT_ORDERS, {"id": order_id})["order"]["cancelledAt"]


def test_a_request_only_submitted_does_not_block_and_a_bad_status_is_refused(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway="pix", seed=9
    )
    assert (
        shop.control(
            "/orders/fulfillment_service", {"orderId": order_id, "requestStatus": "DONE"}
        ).status_code
        == 400
    )
    assert (
        shop.control("/orders/fulfillment_service", {"orderId": "gid://shopify/Order/0"}).status_code == 404
    )
    assert shop.control("/orders/fulfillment_service", {"orderId": order_id, "requestStatus": "SUBMITTED"}).ok
    assert _cancel(shop, order_id)["orderCancelUserErrors"] == []
