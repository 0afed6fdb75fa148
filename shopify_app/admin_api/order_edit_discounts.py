"""Line discounts in order edits: orderEditAddLineItemDiscount and the manual discounts an order
already carries.

Why a module of its own: the weight adjustment of a weighed item (picked lighter than ordered)
is the one order-edit change that is money, not quantity; it lives beside the other order
operations without touching client.py, taking the client's executor (pacing, retries, typed
userErrors) as its first argument:

    order_edit_discounts.add_line_item_discount(client.executor, calc_id, line_id, amount, "BRL",
                                                description="Ajuste de peso: 1,000 kg → 0,985 kg")

Shopify applies a fixed value per unit of the line (allocation EACH); the caller divides a
line-level amount by the line's quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import Money, parse_money_bag, require

LINES_PER_PAGE = 100


@dataclass(frozen=True)
class LineDiscount:
    """One manual discount allocated to an order line (what an earlier edit applied)."""

    line_item_id: str
    description: str | None
    amount: Money | None


def add_line_item_discount(
    executor: Executor,
    calculated_order_id: str,
    calculated_line_id: str,
    amount_per_unit: Decimal,
    currency: str,
    *,
    description: str | None = None,
) -> str:
    """Stage a fixed per-unit discount on a calculated line; the calculated line's id.

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
    return require(payload.get("calculatedLineItem"), "id", "orderEditAddLineItemDiscount.calculatedLineItem")


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
