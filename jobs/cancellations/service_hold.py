"""ERP -> Shopify cancellation refused because a fulfillment service holds the order.

A fulfillment service (a 3PL or warehouse app) asked to fulfil an order's fulfillment order takes
the work: while it holds it (requestStatus SUBMITTED, ACCEPTED, CANCELLATION_REQUESTED or
CANCELLATION_REJECTED; the admin shows "Fulfillment in progress"), Shopify cancels no order and
refuses orderCancel with a userError of code INVALID, a code it gives to many refusals. Which one
it is is told by the order itself, not by Shopify's words: its fulfillment orders are read, and
when a service holds one the refusal becomes CANCEL_HELD_BY_FULFILLMENT_SERVICE, naming the
service, what it is doing and what the merchant does (have the service stop, then Retry), with
Shopify's own words kept at the end and in the detail.

Shopify answers Order.fulfillmentOrders with only the fulfillment orders the app's scopes cover: a
fulfillment service's location's need read_third_party_fulfillment_orders (THIRD_PARTY, among
settings.DEFAULT_SCOPES since this explanation relies on it). A store that installed before the app
asked for it keeps working (nothing else reads those), but this read cannot see the service: its
refusal says so (`unseen_refusal`), what to check in the admin and to approve the app's permissions,
instead of Shopify's words alone.
"""

from __future__ import annotations

from ledger.errors import Rejected
from ledger.order_notes import joined
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_results import FulfillmentOrder
from shopify_app.scopes import missing_scopes

CODE = "CANCEL_HELD_BY_FULFILLMENT_SERVICE"
THIRD_PARTY = "read_third_party_fulfillment_orders"  # what shows a service's fulfillment orders
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
    fulfillment orders read now); None when none does (another refusal: kept as Shopify said it, or
    `unseen` when the app could not see a service)."""
    holding = held(client.fulfillment_orders(order_id))
    return hold_refusal(name, holding, refusal) if holding else None


def unseen(name: str, refusal: ShopifyUserErrors, granted: str | None) -> Rejected | None:
    """Pure: a refusal no seen hold explains, told as one the app may not see the cause of when the
    shop's grant (`granted`, its scopes comma-separated; None or empty: not known) lacks THIRD_PARTY
    (`unseen_refusal`); None otherwise."""
    if granted and missing_scopes(granted.split(","), [THIRD_PARTY]):
        return unseen_refusal(name, refusal)
    return None


def unseen_refusal(name: str, refusal: ShopifyUserErrors) -> Rejected:
    """Pure: `refusal` of a shop whose grant cannot show a fulfillment service's fulfillment orders:
    Shopify's words first (it may be any refusal), then what the app cannot see and what to do."""
    text = (
        f"{refusal.message.rstrip()} The app cannot tell whether a fulfillment service holds order {name}: "
        f"Shopify shows a service's fulfillment orders only to an app granted {THIRD_PARTY}, which this "
        "store has not approved yet. If the order shows its fulfillment in progress in the Shopify admin, "
        "have the service stop (withdraw its request, or request the cancellation of its fulfillment), "
        "then click Retry here; open the app from the Shopify admin and approve the permissions it asks "
        "for, so the app names the service next time."
    )
    said = {"refusal": refusal.words, "name": name, "scope": THIRD_PARTY}
    worded = ("cancel_refused_service_unseen", said) if refusal.words else None  # else: its text
    detail = {k: v for k, v in refusal.detail.items() if k not in ("system", "code", "field")}
    return Rejected(text, system=refusal.system, code=refusal.code, field=refusal.field,
                    detail={**detail, "missing_scope": THIRD_PARTY}, words=worded)  # fmt: skip


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
