"""fulfillmentTrackingInfoUpdate: a fulfillment's tracking given or changed after it was made.

What Shopify does, emulated here:

- the fulfillment's tracking (`trackingInfo`) becomes the input's, replacing what it showed: one
  entry for `number` / `url`, one per number for `numbers` / `urls` (matched by position), the
  `company` on each — as fulfillmentCreate stores it;
- `notifyCustomer` true: the customer is sent the shipping update (kept in the order's
  `_notifications`, kind SHIPPING_UPDATE) and the fulfillment notifies of later updates too;
  false or left out: no e-mail for this update;
- the fulfillment's and the order's `updatedAt` move; orders/updated is sent.

An unknown fulfillment id, or a cancelled fulfillment (nothing is shipping under it), is a
userError on `fulfillmentId` and nothing changes (the payload's `UserError` has no code; the
wording is the sandbox's).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx, mutation, user_error
from sandbox.shopify.resolvers.fulfillments import tracking_entries


def _refuse(message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [user_error(["fulfillmentId"], message)]}


@mutation("fulfillmentTrackingInfoUpdate")
def fulfillment_tracking_info_update(
    _src: Any,
    info: GraphQLResolveInfo,
    fulfillmentId: str,
    trackingInfoInput: dict[str, Any],
    notifyCustomer: bool | None = None,
) -> dict[str, Any]:
    ctx: Ctx = info.context
    with ctx.store.transaction():
        order = order_store.owning(ctx, fulfillmentId)
        found = [f for f in order["_fulfillments"] if f["id"] == fulfillmentId] if order else []
        if order is None or not found:
            return _refuse("Fulfillment does not exist.")
        fulfillment = found[0]
        if fulfillment["status"] == "CANCELLED":
            return _refuse("Cannot update the tracking information of a cancelled fulfillment.")
        now = iso(ctx.now())
        fulfillment["_trackingInfo"] = tracking_entries(trackingInfoInput)
        fulfillment["updatedAt"] = now
        if notifyCustomer is not None:
            fulfillment["_notifyCustomer"] = bool(notifyCustomer)
        if notifyCustomer:
            order.setdefault("_notifications", []).append(
                {"kind": "SHIPPING_UPDATE", "fulfillmentId": fulfillmentId, "at": now}
            )
        order_store.save(ctx, order)
    emit_order(ctx, order, "orders/updated")
    return {"fulfillment": fulfillment, "userErrors": []}
