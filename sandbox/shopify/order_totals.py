"""Order arithmetic: money bags, discount allocation to the cent, and the derived fields of an
order document (totals, financial and fulfillment status, capturable amounts).

Why one `recompute`: every order mutation (checkout, edit, capture, fulfil, cancel) changes a
few raw facts (quantities, transactions, fulfilled counts); deriving every total and status
from those facts in one place keeps the document self-consistent, so GraphQL reads plain keys.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CURRENCY = "BRL"
CENT = Decimal("0.01")
ZERO = Decimal("0")
TAX_TITLE = "Imposto"


def cents(value: Decimal | str | int | float) -> Decimal:
    """`value` rounded half-up to the cent."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def amount(value: Decimal) -> str:
    """Shopify's Decimal / Money as a string with two decimals."""
    return f"{cents(value)}"


def money_v2(value: Decimal) -> dict[str, str]:
    return {"amount": amount(value), "currencyCode": CURRENCY}


def bag(value: Decimal) -> dict[str, dict[str, str]]:
    """A MoneyBag in the shop currency (presentment = shop: one-currency BR stores)."""
    return {"shopMoney": money_v2(value), "presentmentMoney": money_v2(value)}


def bag_amount(money_bag: dict[str, Any]) -> Decimal:
    return Decimal(money_bag["shopMoney"]["amount"])


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` over `weights` proportionally, in cents, summing exactly to `total`
    (largest remainder): how a code discount spreads over lines without a lost cent."""
    total_cents = int(cents(total) / CENT)
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0 or total_cents == 0:
        return [ZERO for _ in weights]
    raw = [Decimal(total_cents) * w / weight_sum for w in weights]
    floors = [int(r) for r in raw]
    left = total_cents - sum(floors)
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)
    for index in by_remainder[:left]:
        floors[index] += 1
    return [Decimal(f) * CENT for f in floors]


def tax_rate(order: dict[str, Any], line: dict[str, Any]) -> Decimal:
    """The tax rate the store charges on `line`: the order's `_taxRate` (a store that charges a tax
    in Settings > Taxes; taxesIncluded: inside the prices) on a taxable line, else 0."""
    rate = order.get("_taxRate")
    return Decimal(str(rate)) if rate and line.get("taxable", True) else ZERO


def included_tax(value: Decimal, rate: Decimal) -> Decimal:
    """The tax inside a tax-included `value` at `rate`, to the cent (value x rate / (1 + rate))."""
    return cents(value * rate / (1 + rate)) if rate else ZERO


def _tax_lines(tax: Decimal, rate: Decimal) -> list[dict[str, Any]]:
    if not rate:
        return []
    return [
        {
            "title": TAX_TITLE,
            "rate": float(rate),
            "ratePercentage": float(rate * 100),
            "priceSet": bag(tax),
            "price": amount(tax),
            "source": None,
            "channelLiable": False,
        }
    ]


def _line_figures(line: dict[str, Any]) -> dict[str, Any]:
    """Per-line money: original, discount (original and current share), unfulfilled."""
    price = Decimal(line["_unitPrice"])
    quantity, current = line["quantity"], line["currentQuantity"]
    discount = Decimal(line["_discount"])
    current_discount = cents(discount * current / quantity) if quantity else ZERO
    unfulfilled = max(0, current - line["_fulfilled"])
    unfulfilled_discount = cents(discount * unfulfilled / quantity) if quantity else ZERO
    return {
        "price": price,
        "quantity": quantity,
        "current": current,
        "discount": discount,
        "current_discount": current_discount,
        "unfulfilled": unfulfilled,
        "unfulfilled_discount": unfulfilled_discount,
    }


def _recompute_line(line: dict[str, Any], rate: Decimal = ZERO) -> dict[str, Any]:
    """As Shopify documents LineItem: `totalDiscountSet`, `discountedUnitPriceSet` and
    `discountedTotalSet` count the line's own discounts only (an order-level code's allocation is
    in `discountAllocations` and the "after all discounts" fields). Taxes are inside the prices
    (taxesIncluded): `priceAfterAllDiscountsBeforeTaxesSet` "doesn't include taxes", so it is the
    line's current value less the tax in it; `taxLines` count removed units too."""
    f = _line_figures(line)
    price, quantity = f["price"], f["quantity"]
    # What is allocated (discountAllocations): `_discount` less the units an edit's discount was
    # never on (add_line_discount), which only make the current share prorate right.
    allocated = f["discount"] - Decimal(line.get("_editUnallocated") or "0")
    own = allocated - Decimal(line.get("_orderDiscount") or "0")
    after_all = price * quantity - allocated
    unit_after = cents(after_all / quantity) if quantity else price
    unit_own = cents((price * quantity - own) / quantity) if quantity else price
    current_value = price * f["current"] - f["current_discount"]
    f["tax"] = included_tax(after_all, rate)
    f["current_tax"] = included_tax(current_value, rate)
    line.update(
        {
            "originalUnitPriceSet": bag(price),
            "originalUnitPrice": amount(price),
            "discountedUnitPriceSet": bag(unit_own),
            "discountedUnitPrice": amount(unit_own),
            "discountedUnitPriceAfterAllDiscountsSet": bag(unit_after),
            "originalTotalSet": bag(price * quantity),
            "originalTotal": amount(price * quantity),
            "discountedTotalSet": bag(price * quantity - own),
            "discountedTotal": amount(price * quantity - own),
            "priceAfterAllDiscountsBeforeTaxesSet": bag(current_value - f["current_tax"]),
            "taxLines": _tax_lines(f["tax"], rate),
            "totalDiscountSet": bag(own),
            "totalDiscount": amount(own),
            "unfulfilledQuantity": f["unfulfilled"],
            "fulfillableQuantity": f["unfulfilled"],
            "nonFulfillableQuantity": max(0, quantity - f["current"]),
            "refundableQuantity": f["current"],
            "unfulfilledOriginalTotalSet": bag(price * f["unfulfilled"]),
            "unfulfilledOriginalTotal": amount(price * f["unfulfilled"]),
            "unfulfilledDiscountedTotalSet": bag(price * f["unfulfilled"] - f["unfulfilled_discount"]),
            "unfulfilledDiscountedTotal": amount(price * f["unfulfilled"] - f["unfulfilled_discount"]),
            "restockable": f["current"] > 0,
            "canRestock": f["current"] > 0,
            "merchantEditable": f["unfulfilled"] > 0,
            "fulfillmentStatus": "fulfilled"
            if f["current"] and f["unfulfilled"] == 0
            else ("partial" if line["_fulfilled"] else "unfulfilled"),
        }
    )
    return f


def multi_capturable(authorization: dict[str, Any]) -> bool:
    """Whether the authorisation allows several captures (its gateway's, fixed when it was made:
    order_store.new_transaction); one made before that was kept allowed several, as all then did."""
    return authorization["kind"] == "AUTHORIZATION" and authorization.get("_multiCapturable", True)


def authorization_remaining(order: dict[str, Any], authorization: dict[str, Any]) -> Decimal:
    """What can still be captured on one authorization (0 once closed by a final capture or void);
    a capture still pending at the gateway holds its amount (resolvers/order_capture) — on an
    authorisation allowing one capture, all of it: that capture closes it."""
    if authorization.get("_closed") or authorization["status"] != "SUCCESS":
        return ZERO
    captures = [
        bag_amount(t["amountSet"])
        for t in order["_transactions"]
        if t["kind"] == "CAPTURE"
        and t["status"] in ("SUCCESS", "PENDING", "AWAITING_RESPONSE")
        and t.get("parentId") == authorization["id"]
    ]
    if captures and not multi_capturable(authorization):
        return ZERO
    return max(ZERO, bag_amount(authorization["amountSet"]) - sum(captures, ZERO))


def _sum(order: dict[str, Any], kinds: tuple[str, ...]) -> Decimal:
    return sum(
        (
            bag_amount(t["amountSet"])
            for t in order["_transactions"]
            if t["kind"] in kinds and t["status"] == "SUCCESS"
        ),
        ZERO,
    )


def financial_status(
    order: dict[str, Any], received: Decimal, refunded: Decimal, capturable: Decimal, total: Decimal
) -> str:
    """OrderDisplayFinancialStatus from the money that moved."""
    if refunded > 0:
        return "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
    if received > 0:
        return "PAID" if received >= total else "PARTIALLY_PAID"
    if any(t["kind"] == "VOID" and t["status"] == "SUCCESS" for t in order["_transactions"]):
        return "VOIDED"
    if order.get("cancelledAt"):  # cancelled before any money was taken (its total is 0 now)
        return "VOIDED"
    if capturable > 0:
        return "AUTHORIZED"
    if any(
        t["kind"] == "CAPTURE" and t["status"] in ("PENDING", "AWAITING_RESPONSE")
        for t in order["_transactions"]
    ):
        return "PENDING"  # the authorisation is being captured: the gateway has not answered yet
    if any(t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS" for t in order["_transactions"]):
        return "EXPIRED" if received == 0 and total > 0 else "PAID"
    return "PENDING" if total > 0 else "PAID"


def fulfillment_status(order: dict[str, Any]) -> str:
    """OrderDisplayFulfillmentStatus from fulfilled vs current quantities."""
    lines = [line for line in order["_lines"] if line["requiresShipping"]]
    if not lines:
        return "FULFILLMENT_NOT_REQUIRED"
    wanted = sum(line["currentQuantity"] for line in lines)
    done = sum(min(line["_fulfilled"], line["currentQuantity"]) for line in lines)
    if order.get("cancelledAt") and done == 0:
        return "UNFULFILLED"
    if wanted and done >= wanted:
        return "FULFILLED"
    if done:
        return "PARTIALLY_FULFILLED"
    fulfillment_orders = order.get("_fulfillmentOrders") or []
    waiting = [fo for fo in fulfillment_orders if fo["status"] not in ("CLOSED", "CANCELLED")]
    if waiting and all(fo["status"] == "IN_PROGRESS" for fo in waiting):
        return "IN_PROGRESS"  # every item marked in progress (a local pickup ready for pickup)
    return "UNFULFILLED"


def _recompute_transactions(order: dict[str, Any]) -> Decimal:
    capturable = ZERO
    for txn in order["_transactions"]:
        remaining = authorization_remaining(order, txn) if txn["kind"] == "AUTHORIZATION" else ZERO
        capturable += remaining
        txn["manuallyCapturable"] = remaining > 0
        txn["multiCapturable"] = multi_capturable(txn)
        txn["totalUnsettledSet"] = bag(remaining)
        txn["totalUnsettled"] = amount(remaining)
        txn["amount"] = txn["amountSet"]["shopMoney"]["amount"]
        txn["amountV2"] = txn["amountSet"]["shopMoney"]
    return capturable


def current_shipping_of(order: dict[str, Any]) -> Decimal:
    """The shipping the order charges now: its shipping lines not removed, each at its
    currentDiscountedPriceSet ("the current shipping price after applying refunds, after applying
    discounts"), which a shipping refund lowers (its originalPriceSet stays)."""
    return sum(
        (
            bag_amount(s.get("currentDiscountedPriceSet") or s["originalPriceSet"])
            for s in order["_shippingLines"]
            if not s.get("isRemoved")
        ),
        ZERO,
    )


def refunded_shipping(order: dict[str, Any]) -> Decimal:
    """The shipping the order's refunds gave back (their refundShippingLines' subtotals)."""
    return sum(
        (
            bag_amount(s["subtotalAmountSet"])
            for r in order.get("_refunds") or []
            for s in r.get("_shippingLines") or []
        ),
        ZERO,
    )


def recompute(order: dict[str, Any]) -> dict[str, Any]:
    """Refresh every derived field of the order document in place (and return it).

    A tip's line (`_tip`: order_documents.tip_line_doc) is outside the subtotals (Shopify: "before
    shipping, duties, taxes, and tips") and inside the totals; refunded (its currentQuantity 0), it
    leaves the current total. totalTipReceivedSet sums the tip lines as placed [assumed, not
    documented: "the sum of all tip amounts for the order", read as totalReceivedSet is, "before
    returns": a tip refunded stays in it; the app counts the tip lines' current value either way]."""
    all_figures = [_recompute_line(line, tax_rate(order, line)) for line in order["_lines"]]
    figures = [f for f, line in zip(all_figures, order["_lines"], strict=True) if not line.get("_tip")]
    tipped = [f for f, line in zip(all_figures, order["_lines"], strict=True) if line.get("_tip")]
    tips = sum((f["price"] * f["quantity"] for f in tipped), ZERO)
    current_tips = sum((f["price"] * f["current"] for f in tipped), ZERO)
    subtotal = sum((f["price"] * f["quantity"] - f["discount"] for f in figures), ZERO)
    current_subtotal = sum((f["price"] * f["current"] - f["current_discount"] for f in figures), ZERO)
    discounts = sum((f["discount"] for f in figures), ZERO)
    current_discounts = sum((f["current_discount"] for f in figures), ZERO)
    shipping = sum((bag_amount(s["originalPriceSet"]) for s in order["_shippingLines"]), ZERO)
    # A cancelled order is owed nothing, its shipping included: Shopify shows its current total 0.
    # Otherwise what each shipping line is charged now (currentDiscountedPriceSet: after discounts
    # and refunds); a line an order edit removed (isRemoved) is charged nothing.
    current_shipping = ZERO if order.get("cancelledAt") else current_shipping_of(order)
    total, current_total = subtotal + shipping + tips, current_subtotal + current_shipping + current_tips
    # Taxes included: inside the subtotal and the total, not added to them.
    tax = sum((f["tax"] for f in figures), ZERO)
    current_tax = sum((f["current_tax"] for f in figures), ZERO)
    rate = Decimal(str(order.get("_taxRate") or 0))
    received = _sum(order, ("SALE", "CAPTURE")) - _sum(order, ("CHANGE",))  # the cash a till gave back
    refunded = _sum(order, ("REFUND",))
    capturable = _recompute_transactions(order)
    order.update(
        {
            "subtotalPriceSet": bag(subtotal),
            "currentSubtotalPriceSet": bag(current_subtotal),
            "subtotalLineItemsQuantity": sum(f["quantity"] for f in figures),
            "currentSubtotalLineItemsQuantity": sum(f["current"] for f in figures),
            "totalDiscountsSet": bag(discounts),
            "currentTotalDiscountsSet": bag(current_discounts),
            "cartDiscountAmountSet": None,
            "currentCartDiscountAmountSet": bag(ZERO),
            "totalShippingPriceSet": bag(shipping),
            "currentShippingPriceSet": bag(current_shipping),
            "totalTaxSet": bag(tax),
            "currentTotalTaxSet": bag(current_tax),
            "taxLines": _tax_lines(tax, rate) if tax else [],
            "currentTaxLines": _tax_lines(current_tax, rate) if current_tax else [],
            "totalPriceSet": bag(total),
            "originalTotalPriceSet": bag(order.get("_originalTotal") or total),
            "currentTotalPriceSet": bag(current_total),
            "totalReceivedSet": bag(received),
            "totalRefundedSet": bag(refunded),
            "netPaymentSet": bag(received - refunded),
            "totalOutstandingSet": bag(max(ZERO, current_total - received + refunded)),
            "totalCapturableSet": bag(capturable),
            "capturable": capturable > 0,
            "totalRefundedShippingSet": bag(refunded_shipping(order)),
            "totalTipReceivedSet": bag(tips),
            "refundDiscrepancySet": bag(ZERO),
            "totalWeight": 0,
            "currentTotalWeight": 0,
            "subtotalPrice": amount(subtotal),
            "totalPrice": amount(total),
            "totalDiscounts": amount(discounts),
            "totalShippingPrice": amount(shipping),
            "totalTax": amount(tax),
            "totalReceived": amount(received),
            "totalRefunded": amount(refunded),
            "totalCapturable": amount(capturable),
        }
    )
    order.setdefault("_originalTotal", amount(total))
    order["displayFinancialStatus"] = financial_status(order, received, refunded, capturable, current_total)
    order["displayFulfillmentStatus"] = fulfillment_status(order)
    order["fullyPaid"] = received - refunded >= current_total and current_total > 0
    order["unpaid"] = received == 0
    order["canMarkAsPaid"] = received < current_total and not order.get("cancelledAt")
    order["refundable"] = received - refunded > 0
    order["restockable"] = any(line["currentQuantity"] > 0 for line in order["_lines"])
    order["requiresShipping"] = any(line["requiresShipping"] for line in order["_lines"])
    order["fulfillable"] = not order.get("cancelledAt") and any(
        line["unfulfilledQuantity"] > 0 for line in order["_lines"]
    )
    order["merchantEditable"] = not order.get("cancelledAt") and order["fulfillable"]
    order["merchantEditableErrors"] = [] if order["merchantEditable"] else ["The order cannot be edited."]
    return order


def add_line_discount(line: dict[str, Any], application: dict[str, Any], per_unit: Decimal) -> Decimal:
    """A manual per-unit (allocation EACH) discount on one line; the amount allocated to it.

    `_discount` counts over the ordered `quantity` while totals prorate it to `currentQuantity`,
    so `per_unit x quantity` is added: the current share then is exactly `per_unit x current`.
    As in Shopify, the allocation is on the current units only (units removed before never had
    it): totalDiscountSet and the after-all-discounts unit price count `per_unit x current`.
    """
    allocated = cents(per_unit * line["currentQuantity"])
    line["_discount"] = f"{cents(Decimal(line['_discount']) + per_unit * line['quantity'])}"
    unallocated = Decimal(line.get("_editUnallocated") or "0") + per_unit * line["quantity"] - allocated
    line["_editUnallocated"] = f"{cents(unallocated)}"
    line["discountAllocations"] = [
        *line.get("discountAllocations", []),
        {"allocatedAmountSet": bag(allocated), "discountApplication": application},
    ]
    return allocated


def remove_line_discount(line: dict[str, Any], index: int) -> Decimal:
    """Take a manual per-unit discount (the order's discount application `index`) off one line,
    exactly as `add_line_discount` put it on; the amount that was allocated (0: not on the line)."""
    kept, removed = [], ZERO
    for allocation in line.get("discountAllocations", []):
        application = allocation["discountApplication"]
        if application.get("index") != index or application.get("__typename") != "ManualDiscountApplication":
            kept.append(allocation)
            continue
        per_unit = Decimal(str(application.get("_perUnit") or application["value"]["amount"]))
        allocated = bag_amount(allocation["allocatedAmountSet"])
        line["_discount"] = f"{cents(Decimal(line['_discount']) - per_unit * line['quantity'])}"
        unallocated = Decimal(line.get("_editUnallocated") or "0") - (per_unit * line["quantity"] - allocated)
        line["_editUnallocated"] = f"{cents(unallocated)}"
        removed += allocated
    line["discountAllocations"] = kept
    return removed
