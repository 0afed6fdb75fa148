"""Order editing: orderEditBegin -> orderEditSetQuantity / orderEditAddVariant ->
orderEditCommit, the way a supermarket adjusts an order after picking.

A CalculatedOrder document stages the changes (new quantities by line, added variants); reads
preview them by applying the staged changes to a copy of the order. Only unfulfilled units can
change: a quantity below what was fulfilled, or any change to a fully fulfilled line, is a
userError. Commit moves stock (restock or write-off on reductions, commit on additions),
updates quantities and totals, and sends orders/edited and orders/updated.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.gids import gid, kind_of, num_of
from sandbox.shopify.order_documents import line_item_doc
from sandbox.shopify.order_payloads import emit_order, order_edit
from sandbox.shopify.order_totals import (
    ZERO,
    add_line_discount,
    bag,
    bag_amount,
    cents,
    recompute,
    remove_line_discount,
)
from sandbox.shopify.registry import Ctx, field, mutation, user_error

_EDIT_PAYLOAD_NONE = {"calculatedOrder": None, "calculatedLineItem": None, "orderEditSession": None}


def _session(calc: dict[str, Any]) -> dict[str, Any]:
    return {"__typename": "OrderEditSession", "id": gid("OrderEditSession", num_of(calc["id"]) or 0)}


def _calc_doc(ctx: Ctx, calc_id: str) -> dict[str, Any] | None:
    if kind_of(calc_id) == "OrderEditSession":
        calc_id = gid("CalculatedOrder", num_of(calc_id) or 0)
    doc = ctx.store.get(ctx.shop, calc_id)
    return doc if doc and doc.get("__typename") == "CalculatedOrder" else None


def _calc_line_id(line_id: str) -> str:
    return gid("CalculatedLineItem", num_of(line_id) or 0)


def _apply(ctx: Ctx, order: dict[str, Any], calc: dict[str, Any], move_stock: bool) -> tuple[list, list]:
    """Apply the staged changes to `order`; returns (additions, removals) as webhook deltas."""
    additions, removals = [], []
    for line in order["_lines"]:
        staged = calc["_quantities"].get(line["id"])
        if staged is None or staged == line["currentQuantity"]:
            continue
        delta = staged - line["currentQuantity"]
        location = line.get("_locationId")
        for _fo, item in order_store.fulfillment_order_lines_for(order, line["id"])[:1]:
            item["totalQuantity"] += delta
            item["remainingQuantity"] = max(0, item["remainingQuantity"] + delta)
        if move_stock and location:
            if delta > 0:
                order_store.commit_stock(ctx, line["_variantId"], location, delta)
            else:
                order_store.release_stock(
                    ctx, line["_variantId"], location, -delta, calc["_restock"].get(line["id"], True)
                )
        line["currentQuantity"] = staged
        (additions if delta > 0 else removals).append({"id": num_of(line["id"]), "delta": abs(delta)})
    for added in calc["_added"]:
        variant = ctx.store.get(ctx.shop, added["variantId"])
        if not variant:
            continue
        line = line_item_doc(ctx, variant, added["quantity"])
        line["id"] = added["lineId"]
        order["_lines"].append(line)
        if move_stock:
            order_store.add_to_fulfillment_order(ctx, order, line, added["locationId"])
            order_store.commit_stock(ctx, variant["id"], added["locationId"], added["quantity"])
        additions.append({"id": num_of(line["id"]), "delta": added["quantity"]})
    for index in calc.get("_removedDiscounts", []):  # orderEditRemoveDiscount (order_edit_discount.py)
        for line in order["_lines"]:
            remove_line_discount(line, index)
    for staged in calc.get("_discounts", []):  # orderEditAddLineItemDiscount (order_edit_discount.py)
        target = next((item for item in order["_lines"] if item["id"] == staged["lineId"]), None)
        if target is not None and target["currentQuantity"] > 0:
            application = _manual_application(staged, len(order["_discountApplications"]), move_stock)
            order["_discountApplications"] = [*order["_discountApplications"], application]
            add_line_discount(target, application, Decimal(staged["perUnit"]))
    order_store.refresh_fulfillment_order_status(order)
    return additions, removals


def _manual_application(staged: dict[str, Any], index: int, committed: bool) -> dict[str, Any]:
    """A line discount as the order keeps it (committed) or as the open edit previews it."""
    common = {
        "allocationMethod": "EACH",
        "targetSelection": "EXPLICIT",
        "targetType": "LINE_ITEM",
        "description": staged["description"],
        "value": staged["value"],
        "index": index,
        "_perUnit": staged["perUnit"],  # what one unit had off (a percentage's too): its removal
    }
    if committed:
        return {
            "__typename": "ManualDiscountApplication",
            "title": staged["description"] or "Desconto",
            **common,
        }
    return {"__typename": "CalculatedManualDiscountApplication", "id": staged["id"], "appliedTo": "LINE",
            "_staged": True, **common}  # fmt: skip


def application_ids(ctx: Ctx, calc: dict[str, Any], order: dict[str, Any]) -> list[str]:
    """The ids the edit gives the order's discount applications (by index): a committed discount
    is a CalculatedDiscountApplication in the edit, which orderEditRemoveDiscount names. Given
    when first asked, kept for the edit (the calculated order is stored again by its caller)."""
    ids = calc.setdefault("_applicationIds", [])
    for application in order["_discountApplications"][len(ids) :]:
        ids.append(order_store.new_id(ctx, f"Calculated{application['__typename']}"))
    return ids


def _calculated_allocation(allocation: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """An order line's discount allocation as the edit shows it (`calculatedDiscountAllocations`):
    a staged one as it is, a committed one with its application's calculated id."""
    application = allocation["discountApplication"]
    if application.get("_staged"):
        return allocation
    index = application.get("index", 0)
    calculated = {**application, "__typename": f"Calculated{application['__typename']}", "appliedTo": "LINE",
                  "description": application.get("description"),
                  "id": ids[index] if index < len(ids) else None}  # fmt: skip
    return {**allocation, "discountApplication": calculated}


def _calc_line(
    line: dict[str, Any], quantity: int, restocking: bool, added: bool, ids: list[str]
) -> dict[str, Any]:
    price = Decimal(line["_unitPrice"])
    fulfilled = line["_fulfilled"]
    unit_after = bag_amount(line["discountedUnitPriceSet"]) if line.get("discountedUnitPriceSet") else price
    allocations = line.get("discountAllocations", [])
    staged = [a for a in allocations if a["discountApplication"].get("_staged")]
    return {
        "__typename": "CalculatedLineItem",
        "id": _calc_line_id(line["id"]),
        "quantity": quantity,
        "editableQuantity": max(0, quantity - fulfilled),
        "editableQuantityBeforeChanges": (0 if added else max(0, line["currentQuantity"] - fulfilled)),
        "sku": line["sku"],
        "title": line["title"],
        "variantTitle": line["variantTitle"],
        "originalUnitPriceSet": bag(price),
        "discountedUnitPriceSet": bag(unit_after),
        "editableSubtotalSet": bag(cents(unit_after * max(0, quantity - fulfilled))),
        "uneditableSubtotalSet": bag(cents(unit_after * min(fulfilled, quantity))),
        "restockable": not added and line["currentQuantity"] > fulfilled,
        "restocking": restocking,
        "hasStagedLineItemDiscount": bool(staged),
        "stagedChanges": [],
        "customAttributes": [],
        "calculatedDiscountAllocations": [_calculated_allocation(a, ids) for a in allocations],
        "image": None,
        "_variantId": line["_variantId"],
        "_added": added,
    }


def _view(ctx: Ctx, calc: dict[str, Any]) -> dict[str, Any]:
    """The CalculatedOrder as GraphQL reads it: the order with the staged changes applied."""
    order = order_store.get(ctx, calc["_orderId"])
    preview = copy.deepcopy(order)
    _apply(ctx, preview, calc, move_stock=False)
    recompute(preview)
    original_ids = {line["id"] for line in order["_lines"]}
    ids = application_ids(ctx, calc, order)
    lines = [
        _calc_line(
            line,
            line["currentQuantity"],
            bool(calc["_restock"].get(line["id"])),
            line["id"] not in original_ids,
            ids,
        )
        for line in preview["_lines"]
    ]
    received = bag_amount(preview["totalReceivedSet"]) - bag_amount(preview["totalRefundedSet"])
    total = bag_amount(preview["currentTotalPriceSet"])
    return {
        **calc,
        "originalOrder": order,
        "_lineItems": lines,
        "_addedLineItems": [line for line in lines if line["_added"]],
        "subtotalPriceSet": preview["currentSubtotalPriceSet"],
        "totalPriceSet": preview["currentTotalPriceSet"],
        "subtotalLineItemsQuantity": preview["currentSubtotalLineItemsQuantity"],
        "totalOutstandingSet": bag(max(ZERO, total - received)),
        "cartDiscountAmountSet": None,
        "taxLines": [],
        "shippingLines": [],
        "notificationPreviewTitle": f"Pedido {order['name']} atualizado",
        "notificationPreviewHtml": None,
    }


def _payload(ctx: Ctx, calc: dict[str, Any], line_id: str | None = None) -> dict[str, Any]:
    view = _view(ctx, calc)
    line = next((item for item in view["_lineItems"] if item["id"] == line_id), None) if line_id else None
    return {
        "calculatedOrder": view,
        "calculatedLineItem": line,
        "orderEditSession": _session(calc),
        "userErrors": [],
    }


def _open_calc(ctx: Ctx, calc_id: str) -> tuple[dict | None, dict | None, list]:
    calc = _calc_doc(ctx, calc_id)
    if calc is None:
        return None, None, [user_error(["id"], "The calculated order does not exist.")]
    if calc["_committed"]:
        return None, None, [user_error(["id"], "The order edit has already been committed.")]
    order = order_store.get(ctx, calc["_orderId"])
    if order is None or order["cancelledAt"]:
        return None, None, [user_error(["id"], "The order is cancelled and can't be edited.")]
    return calc, order, []


@mutation("orderEditBegin")
def order_edit_begin(_src: Any, info: GraphQLResolveInfo, id: str) -> dict:
    ctx: Ctx = info.context
    order = order_store.get(ctx, id)
    if order is None:
        return {**_EDIT_PAYLOAD_NONE, "userErrors": [user_error(["id"], "The order does not exist.")]}
    if order["cancelledAt"]:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [user_error(["id"], "The order is cancelled and can't be edited.")],
        }
    calc = {
        "__typename": "CalculatedOrder",
        "id": order_store.new_id(ctx, "CalculatedOrder"),
        "_orderId": id,
        "_quantities": {},
        "_restock": {},
        "_added": [],
        "_committed": False,
        "_createdAt": iso(ctx.now()),
    }
    application_ids(ctx, calc, order)
    ctx.store.put(ctx.shop, calc)
    return _payload(ctx, calc)


@mutation("orderEditSetQuantity")
def order_edit_set_quantity(
    _src: Any,
    info: GraphQLResolveInfo,
    id: str,
    lineItemId: str,
    quantity: int,
    restock: bool | None = None,
    locationId: str | None = None,
) -> dict:
    ctx: Ctx = info.context
    calc, order, errors = _open_calc(ctx, id)
    if errors:
        return {**_EDIT_PAYLOAD_NONE, "userErrors": errors}
    if quantity < 0:
        return {**_EDIT_PAYLOAD_NONE, "userErrors": [user_error(["quantity"], "Quantity must be positive.")]}
    added = next((a for a in calc["_added"] if _calc_line_id(a["lineId"]) == lineItemId), None)
    if added is not None:
        if quantity == 0:
            calc["_added"].remove(added)
        else:
            added["quantity"] = quantity
        ctx.store.put(ctx.shop, calc)
        return _payload(ctx, calc, lineItemId if quantity else None)
    line = next((item for item in order["_lines"] if _calc_line_id(item["id"]) == lineItemId), None)
    if line is None:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [user_error(["lineItemId"], "The line item does not exist.")],
        }
    if line["_fulfilled"] >= line["currentQuantity"] and quantity != line["currentQuantity"]:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [user_error(["lineItemId"], "The line item is fulfilled and can't be edited.")],
        }
    if quantity < line["_fulfilled"]:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [
                user_error(
                    ["quantity"],
                    (f"Quantity can't be lower than the fulfilled quantity ({line['_fulfilled']})."),
                )
            ],
        }
    calc["_quantities"][line["id"]] = quantity
    calc["_restock"][line["id"]] = True if restock is None else restock
    ctx.store.put(ctx.shop, calc)
    return _payload(ctx, calc, lineItemId)


@mutation("orderEditAddVariant")
def order_edit_add_variant(
    _src: Any,
    info: GraphQLResolveInfo,
    id: str,
    variantId: str,
    quantity: int,
    locationId: str | None = None,
    allowDuplicates: bool | None = None,
) -> dict:
    ctx: Ctx = info.context
    calc, order, errors = _open_calc(ctx, id)
    if errors:
        return {**_EDIT_PAYLOAD_NONE, "userErrors": errors}
    variant = ctx.store.get(ctx.shop, variantId)
    if not variant or variant.get("__typename") != "ProductVariant":
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [user_error(["variantId"], "The variant does not exist.")],
        }
    if quantity < 1:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [user_error(["quantity"], "Quantity must be greater than 0.")],
        }
    # Already "on the calculated order" (allowDuplicates): on the order's lines or added in this edit.
    present = any(
        line["_variantId"] == variantId and line["currentQuantity"] > 0 for line in order["_lines"]
    ) or any(added["variantId"] == variantId for added in calc["_added"])
    if present and not allowDuplicates:
        return {
            **_EDIT_PAYLOAD_NONE,
            "userErrors": [
                user_error(
                    ["variantId"], "The variant is already on the order; set allowDuplicates to add it again."
                )
            ],
        }
    if locationId is not None:
        location = ctx.store.get(ctx.shop, locationId)
        if not location or location.get("__typename") != "Location":
            return {
                **_EDIT_PAYLOAD_NONE,
                "userErrors": [user_error(["locationId"], "The location does not exist.")],
            }
    else:
        locationId = order_store.choose_location(ctx, variant, quantity)
        if locationId is None:
            return {
                **_EDIT_PAYLOAD_NONE,
                "userErrors": [user_error(["variantId"], "The variant is out of stock.")],
            }
    line_id = order_store.new_id(ctx, "LineItem")
    calc["_added"].append(
        {"lineId": line_id, "variantId": variantId, "quantity": quantity, "locationId": locationId}
    )
    ctx.store.put(ctx.shop, calc)
    return _payload(ctx, calc, _calc_line_id(line_id))


@mutation("orderEditCommit")
def order_edit_commit(
    _src: Any,
    info: GraphQLResolveInfo,
    id: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict:
    ctx: Ctx = info.context
    calc, order, errors = _open_calc(ctx, id)
    if errors:
        return {"order": None, "successMessages": None, "userErrors": errors}
    for line in order["_lines"]:
        staged = calc["_quantities"].get(line["id"])
        if staged is not None and staged < line["_fulfilled"]:
            return {
                "order": None,
                "successMessages": None,
                "userErrors": [
                    user_error(
                        ["id"],
                        f"Line item {line['id']} was fulfilled meanwhile and can't be reduced to {staged}.",
                    )
                ],
            }
    additions, removals = _apply(ctx, order, calc, move_stock=True)
    if additions or removals or calc.get("_discounts") or calc.get("_removedDiscounts"):
        order["edited"] = True
        order["_edits"] = [*order.get("_edits", []), calc["id"]]
    order_store.save(ctx, order)
    calc["_committed"] = True
    ctx.store.put(ctx.shop, calc)
    ctx.sandbox.emit(
        ctx.shop,
        "orders/edited",
        order_edit(
            order, calc["id"], order["updatedAt"], additions, removals, bool(notifyCustomer), staffNote
        ),
    )
    emit_order(ctx, order, "orders/updated")
    return {"order": order, "successMessages": ["Order updated"], "userErrors": []}


@field("CalculatedOrder", "lineItems")
def calculated_line_items(calc: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    """The calculated order's lines, first to last; read through `node(id:)` (a calculated order
    is a Node), the stored edit has no view yet: it is made here."""
    lines = calc["_lineItems"] if "_lineItems" in calc else _view(info.context, calc)["_lineItems"]
    return connection(lines, _without_query(args))


@field("CalculatedOrder", "addedLineItems")
def calculated_added_line_items(calc: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(calc["_addedLineItems"], args)


@field("CalculatedLineItem", "variant")
def calculated_line_variant(line: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, line.get("_variantId"))


def _without_query(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != "query"}
