"""ERP -> Shopify cancellation refused because a fulfillment service holds the order.

A fulfillment service (a 3PL or warehouse app) asked to fulfil an order's fulfillment order takes
the work: while it holds it (requestStatus SUBMITTED, ACCEPTED, CANCELLATION_REQUESTED or
CANCELLATION_REJECTED; the admin shows "Fulfillment in progress"), Shopify cancels no order and
refuses orderCancel with a userError of code INVALID, a code it gives to many refusals. Which one
it is is told by the order itself, not by Shopify's words: its fulfillment orders are read, and
when a service holds one the refusal becomes CANCEL_HELD_BY_FULFILLMENT_SERVICE, naming the
service, what it is doing and what the merchant does (have the service stop, then Retry), with
Shopify's own words kept at the end and in the detail.
"""

from __future__ import annotations

from ledger.errors import Rejected
from ledger.order_notes import joined
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_results import FulfillmentOrder

CODE = "CANCEL_HELD_BY_FULFILLMENT_SERVICE"
FINISHED = ("CLOSED", "CANCELLED")
# The furthest along first: it decides what the merchant does when fulfillment orders differ.
PRECEDENCE = ("CANCELLATION_REJECTED", "CANCELLATION_REQUESTED", "ACCEPTED", "SUBMITTED")
# What the service is doing with the request, by requestStatus, and what the merchant does about it.
HOLDING = {
    "SUBMITTED": (
        "was asked to fulfil it and has not answered yet",
        "withdraw the request (Cancel request on the fulfillment in the Shopify admin)",
    ),
    "ACCEPTED": (
        "accepted the fulfillment request and is fulfilling it",
        "ask the service to stop (Request cancellation on the fulfillment in progress, in the Shopify "
        "admin) and wait until it accepts",
    ),
    "CANCELLATION_REQUESTED": (
        "was asked to cancel its fulfillment and has not answered yet",
        "wait for the service to accept the cancellation request (or contact it)",
    ),
    "CANCELLATION_REJECTED": (
        "refused to cancel its fulfillment: the goods may be packed or shipped already",
        "contact the service and have it cancel its fulfillment (Request cancellation again on the "
        "fulfillment, in the Shopify admin)",
    ),
}


# What the service is doing and what the merchant does, in the merchant's words (shopify_app.note_words).
HOLDING_WORDS = {
    status: (f"service_doing_{status.lower()}", f"service_to_do_{status.lower()}") for status in HOLDING
}
A_SERVICE = "a fulfillment service"  # a service whose location Shopify does not name


def held(fulfillment_orders: list[FulfillmentOrder]) -> list[FulfillmentOrder]:
    """Pure: the fulfillment orders a fulfillment service holds (unfinished, in a request status)."""
    return [fo for fo in fulfillment_orders if fo.request_status in HOLDING and fo.status not in FINISHED]


def explained(client: AdminClient, order_id: str, name: str, refusal: ShopifyUserErrors) -> Rejected | None:
    """orderCancel's `refusal` told as a fulfillment service's hold when one holds the order (its
    fulfillment orders read now); None when none does (another refusal: kept as Shopify said it)."""
    holding = held(client.fulfillment_orders(order_id))
    return hold_refusal(name, holding, refusal) if holding else None


def hold_refusal(name: str, holding: list[FulfillmentOrder], refusal: ShopifyUserErrors) -> Rejected:
    """Pure: the merchant's words for an order `holding` fulfillment orders keep from cancelling."""
    services = sorted({fo.location_name or A_SERVICE for fo in holding})
    statuses = [fo.request_status or "" for fo in holding]
    furthest = next(s for s in PRECEDENCE if s in statuses)
    doing, to_do = HOLDING[furthest]
    words = [e.message for e in refusal.errors]
    text = (
        f"Shopify did not cancel order {name}: fulfillment service {' and '.join(services)} holds it "
        f"(it {doing}), and Shopify cancels no order while a fulfillment service is fulfilling it. To "
        f"cancel it, {to_do}; then click Retry here and the app cancels the order. If the service has "
        "shipped the goods already, it cannot stop: refund the customer or take the goods back "
        f"instead. Shopify said: {' '.join(words)}"
    )
    detail = {
        **{k: v for k, v in refusal.detail.items() if k not in ("system", "code", "field")},
        "shopify_code": refusal.code,
        "shopify_words": words,
        "fulfillment_orders": [
            {
                "id": fo.id,
                "status": fo.status,
                "request_status": fo.request_status,
                "service": fo.location_name,
            }
            for fo in holding
        ],
    }
    doing_words, to_do_words = HOLDING_WORDS[furthest]
    named = [("a_fulfillment_service", {}) if service == A_SERVICE else service for service in services]
    said = {"name": name, "services": joined(named, "and"), "doing": (doing_words, {}),
            "to_do": (to_do_words, {}), "shopify": " ".join(words)}  # fmt: skip
    return Rejected(text, system="shopify", code=CODE, field=refusal.field, detail=detail,
                    words=("cancel_held_by_service", said))  # fmt: skip
