"""Line discounts in order edits: orderEditAddLineItemDiscount, the manual discounts an order
already carries, and the staged steps of an exact weight adjustment.

Why a module of its own: the weight adjustment of a weighed item (picked lighter than ordered)
is the one order-edit change that is money, not quantity; it lives beside the other order
operations without touching client.py, taking the client's executor (pacing, retries, typed
userErrors) as its first argument:

    order_edit_discounts.add_line_item_discount(client.executor, calc_id, line_id, amount, "BRL",
                                                description="Ajuste de peso: 1,000 kg → 0,985 kg")

PER UNIT (the one place this assumption is stated): Shopify documents `fixedValue` of
OrderEditAppliedDiscountInput only as "the value of the discount as a fixed amount"; this app
takes it as an amount off EACH unit of the line (the "discount per item" of the admin, allocation
EACH; the sandbox emulates that). The caller divides a line-level amount by the line's quantity,
and jobs.order_edits.to_shopify checks the calculated order's subtotal before it commits, so a
Shopify that read the value otherwise is logged and recorded, not silently trusted.

The steps that return a `Staged` also return the calculated order's subtotal after the change:
Shopify's own arithmetic (its proration of a line's other discounts, the added variant's price
now), which the exact split of a weight adjustment measures instead of predicting.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopify_app.admin_api.errors import UnexpectedResponse
from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.order_edit_lines import begun_edit
from shopify_app.admin_api.order_results import OrderEdit
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import Money, parse_money_bag, require

LINES_PER_PAGE = 100


@dataclass(frozen=True)
class LineDiscount:
    """One manual discount allocated to an order line (what an earlier edit applied)."""

    line_item_id: str
    description: str | None
    amount: Money | None


@dataclass(frozen=True)
class CalculatedDiscount:
    """One discount on a line of an open edit (staged in it, or committed by an earlier edit)."""

    application_id: str  # the calculated discount application's id (what orderEditRemoveDiscount names)
    description: str | None
    per_unit: Decimal | None  # a fixed value's amount (per unit, as this app stages it); None: a percentage


@dataclass(frozen=True)
class Staged:
    """One staged change: the calculated line it touched and the calculated order's subtotal after."""

    line_id: str | None  # None: the line left the edit (an added line set to 0)
    subtotal: Decimal
    unit_price: Decimal | None = None  # an added line: the price Shopify gave it (the variant's now)


def _subtotal(payload: dict[str, Any], where: str) -> Decimal:
    money = parse_money_bag(require(payload.get("calculatedOrder"), "subtotalPriceSet", where))
    if money is None:
        raise UnexpectedResponse(f"Shopify's answer has no {where}.subtotalPriceSet.shopMoney")
    return money.amount


def begin(executor: Executor, order_id: str) -> tuple[OrderEdit, Decimal]:
    """orderEditBegin: the open edit and its calculated subtotal (what the first change is measured from)."""
    payload = executor.mutate("OrderEditBegin", {"id": order_id}, "orderEditBegin")
    return begun_edit(executor, payload), _subtotal(payload, "orderEditBegin.calculatedOrder")


def set_quantity(
    executor: Executor, calculated_order_id: str, calculated_line_id: str, quantity: int
) -> Staged:
    """orderEditSetQuantity (restocking what leaves); an added line set to 0 leaves the edit."""
    payload = executor.mutate(
        "OrderEditSetQuantity",
        {"id": calculated_order_id, "lineItemId": calculated_line_id, "quantity": quantity, "restock": True},
        "orderEditSetQuantity",
    )
    line = payload.get("calculatedLineItem") or {}
    return Staged(line.get("id"), _subtotal(payload, "orderEditSetQuantity.calculatedOrder"))


def add_unit(
    executor: Executor, calculated_order_id: str, variant_id: str, *, location_id: str | None
) -> Staged:
    """One more unit of a variant the order already has, on a line of its own (allowDuplicates)."""
    return add_variant(executor, calculated_order_id, variant_id, 1, location_id=location_id)


def add_variant(
    executor: Executor, calculated_order_id: str, variant_id: str, quantity: int, *, location_id: str | None
) -> Staged:
    """`quantity` units of a variant on a line of their own (allowDuplicates: the order may have
    the variant already); the calculated line, the subtotal after and the price Shopify gave it."""
    payload = executor.mutate(
        "OrderEditAddVariant",
        {"id": calculated_order_id, "variantId": variant_id, "quantity": quantity, "locationId": location_id,
         "allowDuplicates": True},
        "orderEditAddVariant",
    )  # fmt: skip
    line = require(payload, "calculatedLineItem", "orderEditAddVariant")
    price = parse_money_bag(line.get("originalUnitPriceSet"))
    return Staged(
        require(line, "id", "orderEditAddVariant.calculatedLineItem"),
        _subtotal(payload, "orderEditAddVariant.calculatedOrder"),
        price.amount if price else None,
    )


def add_line_item_discount(
    executor: Executor,
    calculated_order_id: str,
    calculated_line_id: str,
    amount_per_unit: Decimal,
    currency: str,
    *,
    description: str | None = None,
) -> Staged:
    """Stage a fixed per-unit discount on a calculated line; the line and the subtotal after.

    Raises ValueError for a non-positive amount (a discount cannot raise a price) and
    ShopifyUserErrors when Shopify refuses it (e.g. above the unit price).
    """
    if amount_per_unit <= 0:
        raise ValueError(f"a line discount must be positive, got {amount_per_unit}")
    payload = executor.mutate(
        "OrderEditAddLineItemDiscount",
        {
            "id": calculated_order_id,
            "lineItemId": calculated_line_id,
            "discount": {
                "fixedValue": {"amount": f"{amount_per_unit}", "currencyCode": currency},
                "description": description,
            },
        },
        "orderEditAddLineItemDiscount",
    )
    return Staged(
        require(payload.get("calculatedLineItem"), "id", "orderEditAddLineItemDiscount.calculatedLineItem"),
        _subtotal(payload, "orderEditAddLineItemDiscount.calculatedOrder"),
    )


def remove_discount(executor: Executor, calculated_order_id: str, discount_application_id: str) -> Decimal:
    """orderEditRemoveDiscount: a discount off the open edit (a calculated discount application's
    id: one an earlier edit committed, as the edit's lines list it); the calculated subtotal after.
    Raises ShopifyUserErrors when Shopify refuses it."""
    payload = executor.mutate(
        "OrderEditRemoveDiscount",
        {"id": calculated_order_id, "discountApplicationId": discount_application_id},
        "orderEditRemoveDiscount",
    )
    return _subtotal(payload, "orderEditRemoveDiscount.calculatedOrder")


def calculated_discounts(executor: Executor, calculated_order_id: str) -> dict[str, list[CalculatedDiscount]]:
    """The discounts on each line of an open edit, committed ones too, by calculated line id (lines
    without: absent)."""
    found: dict[str, list[CalculatedDiscount]] = {}
    for line in paginate(executor, "CalculatedOrderDiscounts", ("node", "lineItems"),
                         {"id": calculated_order_id}, first=LINES_PER_PAGE):  # fmt: skip
        for allocation in line.get("calculatedDiscountAllocations") or []:
            application = allocation.get("discountApplication") or {}
            if application.get("id"):
                amount = (application.get("value") or {}).get("amount")
                found.setdefault(line["id"], []).append(
                    CalculatedDiscount(
                        application["id"],
                        application.get("description"),
                        Decimal(str(amount)) if amount is not None else None,
                    )
                )
    return found


def line_discounts(executor: Executor, order_id: str) -> dict[str, list[LineDiscount]]:
    """The manual discounts of every line of the order, by line item id (lines without: absent)."""
    found: dict[str, list[LineDiscount]] = {}
    for line in paginate(executor, "OrderLineDiscounts", ("order", "lineItems"), {"id": order_id},
                         first=LINES_PER_PAGE):  # fmt: skip
        for allocation in line.get("discountAllocations") or []:
            application = allocation.get("discountApplication") or {}
            if "description" not in application and "title" not in application:
                continue  # not a manual discount (a code or automatic one)
            found.setdefault(line["id"], []).append(
                LineDiscount(
                    line_item_id=line["id"],
                    description=application.get("description") or application.get("title"),
                    amount=parse_money_bag(allocation.get("allocatedAmountSet")),
                )
            )
    return found
