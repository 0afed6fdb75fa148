"""Local pickup: fulfillmentOrderLineItemsPreparedForPickup, Shopify's "ready for pickup".

A fulfillment order whose deliveryMethod is PICK_UP is marked ready as a whole (the input names
fulfillment orders, not lines): it goes IN_PROGRESS, Shopify sends the customer its "Ready for
pickup" notice (kept in the order's `_notifications`), and no fulfillment is made and no stock
moves: the goods are still in the store. The merchant marks it picked up later with
fulfillmentCreate, which closes it. Asked again (or once picked up) it has nothing left to prepare:
NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER, and the customer is not notified twice. A
fulfillment order that is not a pickup, or none at all, is FULFILLMENT_ORDER_INVALID.
Sends orders/updated.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx, mutation, user_error

PREPARABLE = ("OPEN", "IN_PROGRESS")
INVALID = "FULFILLMENT_ORDER_INVALID"
NOTHING = "NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER"


def _refusal(order: dict[str, Any] | None, fo: dict[str, Any] | None, fo_id: str) -> tuple[str, str] | None:
    """(code, message) when `fo` cannot be marked ready for pickup now, else None."""
    if fo is None or order is None:
        return INVALID, f"Fulfillment order {fo_id} does not exist."
    if (fo.get("deliveryMethod") or {}).get("methodType") != "PICK_UP":
        return INVALID, f"Fulfillment order {fo_id} is not a local pickup."
    remaining = sum(item["remainingQuantity"] for item in fo["_lineItems"])
    if order["cancelledAt"] or fo["status"] not in PREPARABLE or fo.get("_preparedForPickup"):
        return NOTHING, "The fulfillment order does not have any line items that can be prepared."
    if not remaining:
        return NOTHING, "The fulfillment order does not have any line items that can be prepared."
    return None


@mutation("fulfillmentOrderLineItemsPreparedForPickup")
def prepared_for_pickup(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: Ctx = info.context
    with ctx.store.transaction():
        chosen, errors = [], []
        for index, group in enumerate(input["lineItemsByFulfillmentOrder"]):
            fo_id = group["fulfillmentOrderId"]
            order = order_store.owning(ctx, fo_id)
            fo = order_store.fulfillment_order(order, fo_id) if order else None
            refused = _refusal(order, fo, fo_id)
            if refused:
                path = ["input", "lineItemsByFulfillmentOrder", str(index), "fulfillmentOrderId"]
                errors.append(user_error(path, refused[1], refused[0]))
            else:
                chosen.append((order, fo))
        if errors:
            return {"userErrors": errors}
        now = iso(ctx.now())
        touched: dict[str, dict[str, Any]] = {}
        for order, fo in chosen:
            order = touched.setdefault(order["id"], order)
            fo = order_store.fulfillment_order(order, fo["id"])
            fo["_preparedForPickup"], fo["status"], fo["updatedAt"] = now, "IN_PROGRESS", now
            order.setdefault("_notifications", []).append(
                {"kind": "READY_FOR_PICKUP", "fulfillmentOrderId": fo["id"], "at": now}
            )
        for order in touched.values():
            order_store.save(ctx, order)
    for order in touched.values():
        emit_order(ctx, order, "orders/updated")
    return {"userErrors": []}
