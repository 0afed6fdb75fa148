"""A fulfillment service holding an order's fulfillment orders (a 3PL / warehouse app), as far as
orderCancel sees it.

In Shopify a fulfillment order assigned to a fulfillment service's location goes through request
statuses (FulfillmentOrderRequestStatus): SUBMITTED (the merchant asked it to fulfil), ACCEPTED
(the service took the work: the fulfillment order is IN_PROGRESS, the admin shows "Fulfillment in
progress"), CANCELLATION_REQUESTED (the merchant asked it to stop, not answered yet),
CANCELLATION_REJECTED (it refused to stop). While the service holds the work, the order cannot be
cancelled: orderCancel's criteria include "no outstanding fulfillments that can't be cancelled",
and the admin hides "Cancel order" until the request is cancelled or the service accepts its
cancellation. The refusal is an OrderCancelUserError of code INVALID (the schema's codes name
nothing more specific: INVALID, NOT_FOUND, INTERNAL_ERROR, the refund permissions and store
credit ones); Shopify's exact words are not documented, these are the sandbox's. A request only
SUBMITTED (the service has not taken the work) does not block here: Shopify does not document that
case, and the merchant can still withdraw such a request at once.

`hold` (control API `orders/fulfillment_service`, not Shopify's) puts an order's open fulfillment
orders in one of those states, assigned to the service (its location named after it, as Shopify
names a fulfillment service's location), or gives them back (request_status None: the service
cancelled its work and the fulfillment orders are the merchant's and OPEN again).
"""

from __future__ import annotations

from typing import Any

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso

# The request statuses in which the service holds the work (orderCancel refused).
HOLDING = ("ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED")
REQUEST_STATUSES = ("SUBMITTED", *HOLDING)
REFUSAL = (
    "Order cannot be canceled while a fulfillment service is fulfilling it; cancel the fulfillment "
    "request first."
)


def holding(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's fulfillment orders a fulfillment service holds (orderCancel refused)."""
    return [
        fo
        for fo in order["_fulfillmentOrders"]
        if fo.get("requestStatus") in HOLDING and fo["status"] not in ("CLOSED", "CANCELLED")
    ]


def hold(
    sandbox: Any, shop: str, order_id: str, service: str, request_status: str | None = "ACCEPTED"
) -> None:
    """Control: the order's open fulfillment orders are `service`'s in `request_status` (None: given
    back, OPEN and UNSUBMITTED at their own location). LookupError: no such order; ValueError: not
    a request status a service holds or was asked in."""
    if request_status is not None and request_status not in REQUEST_STATUSES:
        raise ValueError(f"request_status must be one of {', '.join(REQUEST_STATUSES)} or null")
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        now = iso(ctx.now())
        for fo in order["_fulfillmentOrders"]:
            if fo["status"] in ("CLOSED", "CANCELLED"):
                continue
            location = fo["assignedLocation"]
            if request_status is None:
                if "_serviceOf" in fo:
                    location["name"] = fo.pop("_serviceOf")
                fo["requestStatus"], fo["status"] = "UNSUBMITTED", "OPEN"
            else:
                fo.setdefault("_serviceOf", location["name"])
                location["name"] = service
                fo["requestStatus"] = request_status
                fo["status"] = "OPEN" if request_status == "SUBMITTED" else "IN_PROGRESS"
            fo["updatedAt"] = now
        order_store.save(ctx, order, touch=False)
