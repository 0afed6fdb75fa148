"""Refunds: Order.refunds and the Refund a merchant makes in the Shopify admin (`refund`).

refundCreate is not emulated (the app never refunds: the merchant does, in the admin). `refund` is
the Python API tests and the demo refund with, as Shopify records a refund of line items: each
line's currentQuantity goes down by the units refunded (a tip's line to 0: the current total drops
by the tip, order_totals), the units not fulfilled yet leave their fulfillment order and go back to
stock (restockType CANCEL), the shipped ones with the customer (NO_RESTOCK) unless restocked (RETURN:
on hand again), one REFUND transaction of the money given back against the order's
first capture (else its first successful sale), and a Refund document (createdAt, processedAt,
note, totalRefundedSet; refundLineItems with lineItem, quantity, priceSet, subtotalSet at the
line's unit price after all discounts, totalTaxSet, restockType, restocked; refundShippingLines with
shippingLine, subtotalAmountSet, taxAmountSet; transactions) listed by Order.refunds, oldest first,
and read alone by QueryRoot.refund. Shipping refunded (`shipping`, the admin's "Refund shipping")
lowers its shipping lines' currentDiscountedPriceSet ("after applying refunds"), first line first,
and so Order.currentShippingPriceSet and the current total; totalRefundedShippingSet sums it.
[not modelled:] refunds of duties, order adjustments, the refunds/create and orders/updated webhooks
(a test hands the app the refund itself).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.order_totals import ZERO, bag, bag_amount, cents, current_shipping_of, recompute
from sandbox.shopify.registry import Ctx, field, query


@field("Order", "refunds")
def order_refunds(order: dict, _info: GraphQLResolveInfo, first: int | None = None) -> list[dict]:
    found = order.get("_refunds") or []
    return found[:first] if first is not None else found


@query("refund")
def resolve_refund(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    """A refund by its id, as its order reads (None for an order the app may not read)."""
    order = order_store.owning(info.context, id)
    if order is None or not order_store.readable(info.context, order):
        return None
    return next((r for r in order.get("_refunds") or [] if r["id"] == id), None)


@field("Refund", "refundShippingLines")
def refund_shipping_lines(refund: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(refund.get("_shippingLines") or [], args)


@field("RefundShippingLine", "shippingLine")
def refund_shipping_line_line(item: dict, info: GraphQLResolveInfo) -> dict | None:
    order = order_store.owning(info.context, item["_refundId"])
    found = [s for s in order["_shippingLines"] if s["id"] == item["_shippingLineId"]] if order else []
    return found[0] if found else None


@field("Refund", "refundLineItems")
def refund_line_items(refund: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(refund["_lineItems"], args)


@field("Refund", "transactions")
def refund_transactions(refund: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    ids = refund["_transactionIds"]
    order = order_store.owning(info.context, ids[0]) if ids else None
    found = [order_store.transaction(order, t) for t in ids] if order else []
    return connection([t for t in found if t], args)


@field("RefundLineItem", "lineItem")
def refund_line_item_line(item: dict, info: GraphQLResolveInfo) -> dict | None:
    order = order_store.owning(info.context, item["_lineItemId"])
    return order_store.line(order, item["_lineItemId"]) if order else None


def refund(
    ctx: Ctx,
    order: dict[str, Any],
    quantities: dict[str, int],
    *,
    amount: Decimal | None = None,
    at: str | None = None,
    note: str | None = None,
    restock: bool = False,
    shipping: Decimal | None = None,
) -> dict[str, Any]:
    """Refund `quantities` (line id -> units) of the order's lines and `shipping` of its shipping,
    giving back `amount` (default: the units' value after all discounts, plus the shipping), at `at`
    (Shopify's DateTime; now by default). Units not shipped go back to stock (CANCEL); shipped ones
    stay with the customer (NO_RESTOCK) unless `restock` (the admin's "Restock items" on fulfilled
    units: RETURN, back on hand at the line's location). Changes `order` in place (the caller saves
    it) and returns the Refund. ValueError for a line the order does not have, more units than it
    has now, more shipping than it charges now, or money to give back with nothing paid."""
    recompute(order)  # every line's price after all discounts, as it stands
    when = at or iso(ctx.now())
    refund_id = order_store.new_id(ctx, "Refund")
    shipping_lines = _refund_shipping(ctx, order, cents(shipping or ZERO), refund_id)
    items, value = [], ZERO
    for line_id, units in quantities.items():
        line = order_store.line(order, line_id)
        if line is None or not 0 < units <= line["currentQuantity"]:
            raise ValueError(f"cannot refund {units} of line {line_id}")
        unit = bag_amount(line["discountedUnitPriceAfterAllDiscountsSet"])
        open_units = min(units, max(0, line["currentQuantity"] - line["_fulfilled"]))
        if open_units:  # not shipped yet: off its fulfillment order, back to stock
            for _fo, item in order_store.fulfillment_order_lines_for(order, line_id)[:1]:
                item["totalQuantity"] -= open_units
                item["remainingQuantity"] = max(0, item["remainingQuantity"] - open_units)
            if line.get("_locationId"):
                order_store.release_stock(ctx, line["_variantId"], line["_locationId"], open_units, True)
        returned = units - open_units if restock else 0
        if returned and line.get("_locationId"):  # shipped units brought back, on hand again
            order_store.return_stock(ctx, line["_variantId"], line["_locationId"], returned)
        line["currentQuantity"] -= units
        value += unit * units
        items.append(
            {
                "__typename": "RefundLineItem",
                "id": order_store.new_id(ctx, "RefundLineItem"),
                "quantity": units,
                "priceSet": bag(unit),
                "subtotalSet": bag(cents(unit * units)),
                "totalTaxSet": bag(ZERO),
                "restockType": "CANCEL" if open_units else "RETURN" if returned else "NO_RESTOCK",
                "restocked": bool((open_units or returned) and line.get("_locationId")),
                "location": None,
                "_lineItemId": line_id,
            }
        )
    shipped_back = sum((bag_amount(s["subtotalAmountSet"]) for s in shipping_lines), ZERO)
    money = cents(value + shipped_back if amount is None else amount)
    transactions = []
    if money > 0:
        paid = [t for t in order["_transactions"] if t["kind"] == "CAPTURE" and t["status"] == "SUCCESS"] or [
            t for t in order["_transactions"] if t["kind"] == "SALE" and t["status"] == "SUCCESS"
        ]
        if not paid:
            raise ValueError(f"nothing was paid on {order['id']}: no money to refund")
        made = order_store.new_transaction(ctx, "REFUND", "SUCCESS", paid[0]["gateway"], money, paid[0]["id"])
        made["createdAt"] = made["processedAt"] = when
        order["_transactions"].append(made)
        transactions.append(made["id"])
    order_store.refresh_fulfillment_order_status(order)
    made_refund = {
        "__typename": "Refund",
        "id": refund_id,
        "createdAt": when,
        "processedAt": when,
        "updatedAt": when,
        "note": note,
        "totalRefundedSet": bag(money),
        "duties": [],
        "return": None,
        "staffMember": None,
        "_lineItems": items,
        "_shippingLines": shipping_lines,
        "_transactionIds": transactions,
    }
    order.setdefault("_refunds", []).append(made_refund)
    return made_refund


def _refund_shipping(ctx: Ctx, order: dict[str, Any], shipping: Decimal, refund_id: str) -> list[dict]:
    """`shipping` taken off the order's shipping lines charged now, first line first (each lowered to
    no less than 0): the refund's RefundShippingLines. ValueError when they charge less than that."""
    if shipping <= 0:
        return []
    charged = [s for s in order["_shippingLines"] if not s.get("isRemoved")]
    if shipping > current_shipping_of(order):
        raise ValueError(
            f"cannot refund {shipping} of shipping: {order['id']} charges {current_shipping_of(order)}"
        )
    made, left = [], shipping
    for line in charged:
        now = bag_amount(line.get("currentDiscountedPriceSet") or line["originalPriceSet"])
        part = min(now, left)
        if part <= 0:
            continue
        line["currentDiscountedPriceSet"] = bag(now - part)
        left -= part
        made.append(
            {
                "__typename": "RefundShippingLine",
                "id": order_store.new_id(ctx, "RefundShippingLine"),
                "subtotalAmountSet": bag(part),
                "taxAmountSet": bag(ZERO),
                "_shippingLineId": line["id"],
                "_refundId": refund_id,
            }
        )
    return made


def refund_order(
    sandbox: Any,
    shop: str,
    order_id: str,
    quantities: dict[str, int],
    *,
    amount: Decimal | None = None,
    at: str | None = None,
    note: str | None = None,
    restock: bool = False,
    shipping: Decimal | None = None,
) -> dict[str, Any]:
    """`refund` on the shop's order, saved (its updatedAt now). LookupError when it has no such order."""
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        made = refund(
            ctx, order, quantities, amount=amount, at=at, note=note, restock=restock, shipping=shipping
        )
        order_store.save(ctx, order)
    return made
