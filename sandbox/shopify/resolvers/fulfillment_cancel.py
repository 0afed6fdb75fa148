"""fulfillmentCancel: undo one fulfillment, the reverse of fulfillmentCreate.

Why it exists: Shopify refuses to cancel an order that has an active fulfillment, so an app
that fulfilled an order (the app does so at invoicing) and must then cancel it (the NF-e was
cancelled in the ERP) cancels the fulfillment first. What Shopify does, emulated here:

- the fulfillment's status becomes CANCELLED (display status CANCELED); it stays on the order;
- its units are fulfillable again: a fulfillment order still open (partially fulfilled) gets its
  remaining quantities back; one that was closed (entirely fulfilled) stays CLOSED and a new OPEN
  fulfillment order at the same location holds the cancelled units (the schema's description:
  "the system creates new fulfillment orders for the cancelled items");
- the stock comes back the way it left: committed and on hand go up again at the fulfillment's
  location (fulfillmentCreate took both down), so a later orderCancel can restock or write off;
- the order's fulfillment status is derived again; orders/updated is sent.

Cancelling a fulfillment that is already cancelled, of a cancelled order, or an unknown id is a
userError (the payload's `UserError` has no code).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx, mutation, user_error

ACTIVE_FULFILLMENT_ORDER = ("OPEN", "IN_PROGRESS")


def _refuse(message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [user_error(["id"], message)]}


def _give_back(ctx: Ctx, order: dict[str, Any], fulfillment: dict[str, Any], now: str) -> None:
    """Make the fulfillment's units fulfillable again on the fulfillment order(s) they came from."""
    remaining = {item["_lineItemId"]: item["quantity"] for item in fulfillment["_lineItems"]}
    for fo_id in fulfillment["_fulfillmentOrderIds"]:
        fo = order_store.fulfillment_order(order, fo_id)
        if fo is None:
            continue
        for item in fo["_lineItems"]:
            back = min(
                remaining.get(item["_lineItemId"], 0), item["totalQuantity"] - item["remainingQuantity"]
            )
            if back <= 0:
                continue
            remaining[item["_lineItemId"]] -= back
            if fo["status"] in ACTIVE_FULFILLMENT_ORDER:
                item["remainingQuantity"] += back
            else:
                _reopen(ctx, order, fo, item, back)
        fo["updatedAt"] = now


def _reopen(
    ctx: Ctx, order: dict[str, Any], closed: dict[str, Any], closed_item: dict[str, Any], quantity: int
) -> None:
    """Put `quantity` units of a closed fulfillment order's line on an open one at its location, of
    its delivery method (a POS sale's items handed over and those shipped are two groups)."""
    method = (closed.get("deliveryMethod") or {}).get("methodType")
    target = order_store.fulfillment_order_at(ctx, order, closed["_locationId"], method)
    existing = next((i for i in target["_lineItems"] if i["_lineItemId"] == closed_item["_lineItemId"]), None)
    if existing is not None:
        existing["totalQuantity"] += quantity
        existing["remainingQuantity"] += quantity
        return
    target["_lineItems"].append(
        {
            **closed_item,
            "id": order_store.new_id(ctx, "FulfillmentOrderLineItem"),
            "totalQuantity": quantity,
            "remainingQuantity": quantity,
        }
    )


@mutation("fulfillmentCancel")
def fulfillment_cancel(_src: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    ctx: Ctx = info.context
    order = order_store.owning(ctx, id)
    fulfillment = next((f for f in order["_fulfillments"] if f["id"] == id), None) if order else None
    if order is None or fulfillment is None:
        return _refuse("Fulfillment does not exist.")
    if fulfillment["status"] == "CANCELLED":
        return _refuse("Fulfillment has already been cancelled.")
    if order["cancelledAt"] or order.get("_cancelJob"):
        return _refuse("Cannot cancel a fulfillment of a cancelled order.")
    now = iso(ctx.now())
    for shipped in fulfillment["_lineItems"]:
        line = order_store.line(order, shipped["_lineItemId"])
        if line is None:
            continue
        line["_fulfilled"] = max(0, line["_fulfilled"] - shipped["quantity"])
        order_store.unship_stock(ctx, line["_variantId"], fulfillment["_locationId"], shipped["quantity"])
    _give_back(ctx, order, fulfillment, now)
    fulfillment.update({"status": "CANCELLED", "displayStatus": "CANCELED", "updatedAt": now})
    active = {
        fo_id
        for f in order["_fulfillments"]
        if f["status"] != "CANCELLED"
        for fo_id in f["_fulfillmentOrderIds"]
    }
    for fo in order["_fulfillmentOrders"]:
        if fo["status"] in ACTIVE_FULFILLMENT_ORDER:
            fo["_fulfilledAny"] = fo["id"] in active
    order_store.refresh_fulfillment_order_status(order)
    order_store.save(ctx, order)
    emit_order(ctx, order, "orders/updated")
    return {"fulfillment": fulfillment, "userErrors": []}
