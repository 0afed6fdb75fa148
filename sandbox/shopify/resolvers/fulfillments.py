"""Fulfilment: fulfillmentCreate over fulfillment orders of one order at one location (whole or
by line and quantity, with tracking; notifyCustomer true keeps a SHIPPING_CONFIRMATION in the
order's `_notifications`), the FulfillmentOrder / Fulfillment reads, and the order fields that
list them.

Shipping units moves stock the way Shopify does: committed and on hand both go down at the
fulfillment order's location. Sends orders/fulfilled (or orders/partially_fulfilled) and
orders/updated.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.gids import num_of
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.order_totals import bag
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error

_OPEN = ("OPEN", "IN_PROGRESS")


def tracking_entries(info: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A FulfillmentTrackingInput as the fulfillment's trackingInfo entries (one per number)."""
    if not info:
        return []
    numbers = info.get("numbers") or ([info["number"]] if info.get("number") else [None])
    urls = info.get("urls") or ([info["url"]] if info.get("url") else [])
    return [
        {"company": info.get("company"), "number": number, "url": urls[i] if i < len(urls) else None}
        for i, number in enumerate(numbers)
    ]


def _wanted(
    fo: dict[str, Any], group: dict[str, Any], path: list[str]
) -> tuple[list[tuple[dict, int]], list]:
    """(fulfillment order line item, quantity) pairs asked for, or userErrors."""
    items = group.get("fulfillmentOrderLineItems")
    if not items:
        return [
            (item, item["remainingQuantity"]) for item in fo["_lineItems"] if item["remainingQuantity"] > 0
        ], []
    by_id = {item["id"]: item for item in fo["_lineItems"]}
    wanted, errors = [], []
    for index, asked in enumerate(items):
        item = by_id.get(asked["id"])
        item_path = [*path, "fulfillmentOrderLineItems", str(index)]
        if item is None:
            errors.append(user_error([*item_path, "id"], "Fulfillment order line item does not exist."))
        elif not 0 < asked["quantity"] <= item["remainingQuantity"]:
            errors.append(
                user_error(
                    [*item_path, "quantity"],
                    (
                        f"Invalid quantity {asked['quantity']}: "
                        f"{item['remainingQuantity']} remaining to fulfill."
                    ),
                )
            )
        else:
            wanted.append((item, asked["quantity"]))
    return wanted, errors


def _plan(ctx: Ctx, groups: list[dict[str, Any]]) -> tuple[dict | None, list, list]:
    """The order, [(fulfillment order, [(item, quantity)])], and userErrors."""
    order, plan, errors = None, [], []
    for index, group in enumerate(groups):
        path = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
        owner = order_store.owning(ctx, group["fulfillmentOrderId"])
        fo = order_store.fulfillment_order(owner, group["fulfillmentOrderId"]) if owner else None
        if fo is None:
            errors.append(user_error([*path, "fulfillmentOrderId"], "Fulfillment order does not exist."))
            continue
        if order is not None and owner["id"] != order["id"]:
            errors.append(
                user_error(
                    [*path, "fulfillmentOrderId"], "All fulfillment orders must belong to the same order."
                )
            )
            continue
        order = order or owner
        if plan and fo["_locationId"] != plan[0][0]["_locationId"]:
            errors.append(
                user_error(
                    [*path, "fulfillmentOrderId"],
                    "All fulfillment orders must be assigned to the same location.",
                )
            )
            continue
        if order["cancelledAt"] or fo["status"] not in _OPEN:
            errors.append(
                user_error(
                    [*path, "fulfillmentOrderId"],
                    (f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status'].lower()}."),
                )
            )
            continue
        wanted, problems = _wanted(fo, group, path)
        errors += problems
        plan.append((fo, wanted))
    if not errors and not any(wanted for _, wanted in plan):
        errors.append(user_error(["fulfillment"], "Fulfillment has no line items to fulfill."))
    return order, plan, errors


@mutation("fulfillmentCreate")
def fulfillment_create(
    _src: Any, info: GraphQLResolveInfo, fulfillment: dict, message: str | None = None
) -> dict:
    ctx: Ctx = info.context
    order, plan, errors = _plan(ctx, fulfillment["lineItemsByFulfillmentOrder"])
    if errors or order is None:
        return {"fulfillment": None, "userErrors": errors}
    doc = fulfil(ctx, order, plan, fulfillment.get("trackingInfo"), bool(fulfillment.get("notifyCustomer")))
    order_store.save(ctx, order)
    topic = (
        "orders/fulfilled"
        if order["displayFulfillmentStatus"] == "FULFILLED"
        else "orders/partially_fulfilled"
    )
    emit_order(ctx, order, topic, "orders/updated")
    return {"fulfillment": doc, "userErrors": []}


def fulfil(
    ctx: Ctx,
    order: dict[str, Any],
    plan: list[tuple[dict[str, Any], list[tuple[dict[str, Any], int]]]],
    tracking: dict[str, Any] | None = None,
    notify: bool = False,
) -> dict[str, Any]:
    """A fulfillment of `plan` ([(fulfillment order, [(its line item, quantity)])], checked): the
    units leave (committed and on hand down), the fulfillment orders' remaining quantities and
    statuses follow. Also what a POS register does for the items handed over at the counter
    (sandbox.shopify.checkout). Returns the Fulfillment; the caller saves the order."""
    now = iso(ctx.now())
    created_lines = []
    for fo, wanted in plan:
        for item, quantity in wanted:
            item["remainingQuantity"] -= quantity
            line = order_store.line(order, item["_lineItemId"])
            line["_fulfilled"] += quantity
            order_store.ship_stock(ctx, line["_variantId"], fo["_locationId"], quantity)
            unit = Decimal(line["_unitPrice"])
            created_lines.append(
                {
                    "__typename": "FulfillmentLineItem",
                    "id": order_store.new_id(ctx, "FulfillmentLineItem"),
                    "_lineItemId": line["id"],
                    "quantity": quantity,
                    "originalTotalSet": bag(unit * quantity),
                    "discountedTotalSet": bag(
                        Decimal(line["discountedUnitPriceSet"]["shopMoney"]["amount"]) * quantity
                    ),
                }
            )
        fo["_fulfilledAny"], fo["updatedAt"] = True, now
    order_store.refresh_fulfillment_order_status(order)
    fulfillment_id = order_store.new_id(ctx, "Fulfillment")
    doc = {
        "__typename": "Fulfillment",
        "id": fulfillment_id,
        "legacyResourceId": str(num_of(fulfillment_id)),
        "name": f"{order['name']}-F{len(order['_fulfillments']) + 1}",
        "status": "SUCCESS",
        "displayStatus": "FULFILLED",
        "createdAt": now,
        "updatedAt": now,
        "deliveredAt": None,
        "estimatedDeliveryAt": None,
        "inTransitAt": None,
        "requiresShipping": True,
        "originAddress": None,
        "service": None,
        "totalQuantity": sum(item["quantity"] for item in created_lines),
        "_trackingInfo": tracking_entries(tracking),
        "_lineItems": created_lines,
        "_fulfillmentOrderIds": [fo["id"] for fo, _ in plan],
        "_locationId": plan[0][0]["_locationId"],
        "_notifyCustomer": notify,
        "_orderId": order["id"],
    }
    order["_fulfillments"].append(doc)
    if notify:  # Shopify's shipping confirmation e-mail
        order.setdefault("_notifications", []).append(
            {"kind": "SHIPPING_CONFIRMATION", "fulfillmentId": fulfillment_id, "at": now}
        )
    return doc


@mutation("fulfillmentOrderOpen")
def fulfillment_order_open(_src: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    """A SCHEDULED fulfillment order becomes OPEN (fulfillable now); any other status is refused."""
    ctx: Ctx = info.context
    with ctx.store.transaction():
        order = order_store.owning(ctx, id)
        fo = order_store.fulfillment_order(order, id) if order else None
        if fo is None:
            return {
                "fulfillmentOrder": None,
                "userErrors": [user_error(["id"], "Fulfillment order does not exist.")],
            }
        if fo["status"] != "SCHEDULED":
            message = f"Fulfillment order {id} has an unopenable status= {fo['status'].lower()}."
            return {"fulfillmentOrder": None, "userErrors": [user_error(["id"], message)]}
        fo["status"] = "OPEN"
        order_store.save(ctx, order)
    return {"fulfillmentOrder": fo, "userErrors": []}


# -- reads ---------------------------------------------------------------------------------
@query("fulfillmentOrder")
def resolve_fulfillment_order(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    order = order_store.owning(info.context, id)
    return order_store.fulfillment_order(order, id) if order else None


@query("fulfillment")
def resolve_fulfillment(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    order = order_store.owning(info.context, id)
    return next((f for f in order["_fulfillments"] if f["id"] == id), None) if order else None


@field("Order", "fulfillmentOrders")
def order_fulfillment_orders(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    found = order["_fulfillmentOrders"]
    if args.get("displayable"):
        found = [fo for fo in found if fo["status"] not in ("CLOSED", "CANCELLED")]
    return connection(found, args)


@field("Order", "fulfillments")
def order_fulfillments(
    order: dict, _info: GraphQLResolveInfo, first: int | None = None, query: str | None = None
) -> list[dict]:
    return order["_fulfillments"][:first] if first is not None else order["_fulfillments"]


@field("Order", "fulfillmentsCount")
def order_fulfillments_count(order: dict, _info: GraphQLResolveInfo) -> dict:
    return {"count": len(order["_fulfillments"]), "precision": "EXACT"}


@field("FulfillmentOrder", "order")
def fulfillment_order_order(fo: dict, info: GraphQLResolveInfo) -> dict | None:
    return order_store.get(info.context, fo["orderId"])


@field("FulfillmentOrder", "lineItems")
def fulfillment_order_line_items(fo: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(fo["_lineItems"], args)


@field("FulfillmentOrder", "fulfillments")
def fulfillment_order_fulfillments(fo: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    order = order_store.get(info.context, fo["orderId"]) or {"_fulfillments": []}
    return connection([f for f in order["_fulfillments"] if fo["id"] in f["_fulfillmentOrderIds"]], args)


@field("FulfillmentOrderAssignedLocation", "location")
def assigned_location(assigned: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, assigned["_locationId"])


def _order_line(ctx: Ctx, part_id: str, line_id: str) -> dict | None:
    order = order_store.owning(ctx, part_id)
    return order_store.line(order, line_id) if order else None


@field("FulfillmentOrderLineItem", "lineItem")
def fulfillment_order_line_item_line(item: dict, info: GraphQLResolveInfo) -> dict | None:
    return _order_line(info.context, item["id"], item["_lineItemId"])


@field("FulfillmentOrderLineItem", "variant")
def fulfillment_order_line_item_variant(item: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, item.get("_variantId"))


@field("Fulfillment", "order")
def fulfillment_order_of(fulfillment: dict, info: GraphQLResolveInfo) -> dict | None:
    return order_store.get(info.context, fulfillment["_orderId"])


@field("Fulfillment", "trackingInfo")
def fulfillment_tracking(
    fulfillment: dict, _info: GraphQLResolveInfo, first: int | None = None
) -> list[dict]:
    return fulfillment["_trackingInfo"][:first] if first is not None else fulfillment["_trackingInfo"]


@field("Fulfillment", "fulfillmentLineItems")
def fulfillment_line_items(fulfillment: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(
        [{**item, "_fulfillmentId": fulfillment["id"]} for item in fulfillment["_lineItems"]], args
    )


@field("Fulfillment", "location")
def fulfillment_location(fulfillment: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, fulfillment["_locationId"])


@field("Fulfillment", "fulfillmentOrders")
def fulfillment_fulfillment_orders(fulfillment: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    order = order_store.get(info.context, fulfillment["_orderId"]) or {"_fulfillmentOrders": []}
    return connection(
        [fo for fo in order["_fulfillmentOrders"] if fo["id"] in fulfillment["_fulfillmentOrderIds"]], args
    )


@field("FulfillmentLineItem", "lineItem")
def fulfillment_line_item_line(item: dict, info: GraphQLResolveInfo) -> dict | None:
    return _order_line(info.context, item["_fulfillmentId"], item["_lineItemId"])
