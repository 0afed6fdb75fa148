"""orderEditAddLineItemDiscount: a manual discount on one line of an open order edit; and
orderEditRemoveDiscount: a discount taken off in one (staged in it, or committed by an earlier edit).

Why: a supermarket adjusts a line's price after picking (a weighed item lighter than ordered),
and Shopify's order edit is the way to lower what the order costs before the payment is
captured. The discount is staged on the CalculatedOrder (`_discounts`), previewed by every read
of the edit (calculated line: discounted unit price, `calculatedDiscountAllocations`,
`hasStagedLineItemDiscount`; calculated totals), and applied by orderEditCommit
(resolvers/order_edits.py `_apply`): a ManualDiscountApplication on the order, a discount
allocation on the line, and the current totals / outstanding amount recomputed.

A fixed value is per unit (allocation EACH, Shopify's "discount per item"); a percentage is
taken of the line's discounted unit price. userErrors follow Shopify's `UserError` (field,
message): an unknown or removed line, a second discount on the same line in one edit, both or
neither of fixedValue / percentValue, a currency other than the shop's, a value not positive or
above the unit price, a percentage above 100.

orderEditRemoveDiscount names a CalculatedDiscountApplication: one staged in this edit (the
staged discount is dropped) or one the order carries from an earlier edit (its calculated id,
given by the edit's `calculatedDiscountAllocations`): the commit takes its allocation off every
line, as `add_line_discount` put it on (order_totals.remove_line_discount; the application stays in
the order's list, its index referenced by the REST payloads). Only a manual discount: a code or
automatic discount is refused here (the sandbox does not model removing those). Refusals are
OrderEditRemoveDiscountUserError code INVALID: an unknown id, one removed already in this edit.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.order_totals import CURRENCY, ZERO, bag_amount, cents, money_v2
from sandbox.shopify.registry import Ctx, mutation, user_error
from sandbox.shopify.resolvers.order_edits import _calc_line_id, _open_calc, _payload, application_ids

_NONE = {
    "addedDiscountStagedChange": None,
    "calculatedLineItem": None,
    "calculatedOrder": None,
    "orderEditSession": None,
}


def _refused(field_path: list[str], message: str) -> dict[str, Any]:
    return {**_NONE, "userErrors": [user_error(field_path, message)]}


def _target(ctx: Ctx, calc: dict, order: dict, line_item_id: str) -> tuple[str, Decimal, int] | None:
    """(order line id, discounted unit price, quantity after the staged changes) of a calc line."""
    for line in order["_lines"]:
        if _calc_line_id(line["id"]) == line_item_id:
            unit = bag_amount(line["discountedUnitPriceSet"]) if line.get("discountedUnitPriceSet") else None
            quantity = calc["_quantities"].get(line["id"], line["currentQuantity"])
            return line["id"], unit if unit is not None else Decimal(line["_unitPrice"]), quantity
    for added in calc["_added"]:
        if _calc_line_id(added["lineId"]) == line_item_id:
            variant = ctx.store.get(ctx.shop, added["variantId"]) or {}
            return added["lineId"], Decimal(str(variant.get("price") or "0")), added["quantity"]
    return None


def _per_unit(discount: dict[str, Any], unit_price: Decimal) -> tuple[Decimal | None, dict, list]:
    """(per-unit amount, PricingValue doc, userErrors) of an OrderEditAppliedDiscountInput."""
    fixed, percent = discount.get("fixedValue"), discount.get("percentValue")
    if (fixed is None) == (percent is None):
        return None, {}, [user_error(["discount"], "Exactly one of fixedValue or percentValue is required.")]
    if fixed is not None:
        if fixed.get("currencyCode") != CURRENCY:
            message = f"The discount currency must be the order's currency {CURRENCY}."
            return None, {}, [user_error(["discount", "fixedValue", "currencyCode"], message)]
        try:
            value = Decimal(str(fixed.get("amount")))
        except InvalidOperation:
            return None, {}, [user_error(["discount", "fixedValue", "amount"], "The amount is not a number.")]
        if value <= ZERO or cents(value) != value:
            message = "The discount amount must be greater than 0 with at most two decimals."
            return None, {}, [user_error(["discount", "fixedValue", "amount"], message)]
        if value > unit_price:
            message = f"The discount ({value}) can't exceed the line item's unit price ({unit_price})."
            return None, {}, [user_error(["discount", "fixedValue", "amount"], message)]
        return value, {"__typename": "MoneyV2", **money_v2(value)}, []
    rate = Decimal(str(percent))
    if rate <= ZERO or rate > 100:
        return (
            None,
            {},
            [user_error(["discount", "percentValue"], "The percentage must be between 0 and 100.")],
        )
    value_doc = {"__typename": "PricingPercentageValue", "percentage": float(rate)}
    return cents(unit_price * rate / 100), value_doc, []


@mutation("orderEditAddLineItemDiscount")
def order_edit_add_line_item_discount(
    _src: Any, info: GraphQLResolveInfo, id: str, lineItemId: str, discount: dict[str, Any]
) -> dict:
    ctx: Ctx = info.context
    calc, order, errors = _open_calc(ctx, id)
    if errors:
        return {**_NONE, "userErrors": errors}
    target = _target(ctx, calc, order, lineItemId)
    if target is None:
        return _refused(["lineItemId"], "The line item does not exist.")
    line_id, unit_price, quantity = target
    if quantity <= 0:
        return _refused(["lineItemId"], "The line item is removed in this edit and can't be discounted.")
    staged = calc.setdefault("_discounts", [])
    if any(d["lineId"] == line_id for d in staged):
        return _refused(["lineItemId"], "The line item already has a discount staged in this edit.")
    per_unit, value, errors = _per_unit(discount, unit_price)
    if errors or per_unit is None:
        return {**_NONE, "userErrors": errors}
    description = discount.get("description")
    entry = {
        "id": order_store.new_id(ctx, "CalculatedManualDiscountApplication"),
        "lineId": line_id,
        "perUnit": f"{per_unit}",
        "description": description,
        "value": value,
    }
    staged.append(entry)
    ctx.store.put(ctx.shop, calc)
    change = {
        "__typename": "OrderStagedChangeAddLineItemDiscount",
        "id": entry["id"],
        "description": description or "",
        "value": value,
    }
    return {**_payload(ctx, calc, lineItemId), "addedDiscountStagedChange": change}


def _remove_refused(message: str) -> dict[str, Any]:
    return {"calculatedOrder": None, "orderEditSession": None,
            "userErrors": [user_error(["discountApplicationId"], message, "INVALID")]}  # fmt: skip


@mutation("orderEditRemoveDiscount")
def order_edit_remove_discount(
    _src: Any, info: GraphQLResolveInfo, id: str, discountApplicationId: str
) -> dict:
    ctx: Ctx = info.context
    calc, order, errors = _open_calc(ctx, id)
    if errors:
        return {"calculatedOrder": None, "orderEditSession": None,
                "userErrors": [{**e, "code": "INVALID"} for e in errors]}  # fmt: skip
    staged = calc.get("_discounts", [])
    entry = next((d for d in staged if d["id"] == discountApplicationId), None)
    if entry is not None:
        staged.remove(entry)
        ctx.store.put(ctx.shop, calc)
        return {key: value for key, value in _payload(ctx, calc).items() if key != "calculatedLineItem"}
    ids = application_ids(ctx, calc, order)
    if discountApplicationId not in ids:
        return _remove_refused("The discount application does not exist.")
    index = ids.index(discountApplicationId)
    application = order["_discountApplications"][index]
    if application.get("__typename") != "ManualDiscountApplication":
        return _remove_refused("Only a manual discount can be removed from the order in this edit.")
    removed = calc.setdefault("_removedDiscounts", [])
    carried = any(
        a["discountApplication"].get("index") == index
        for line in order["_lines"]
        for a in line.get("discountAllocations", [])
    )
    if index in removed or not carried:
        return _remove_refused("The discount application does not exist.")
    removed.append(index)
    ctx.store.put(ctx.shop, calc)
    return {key: value for key, value in _payload(ctx, calc).items() if key != "calculatedLineItem"}
