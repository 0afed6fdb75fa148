"""orderCapture: take money from a card authorisation, never more than what is still authorised.

Partial captures are allowed (multi-capture); `finalCapture: true` releases whatever is left
on the authorisation (capturable goes to 0). The order's financial status follows the money
(PARTIALLY_PAID, PAID). Sends orders/updated, and orders/paid when the order becomes paid.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.order_totals import CURRENCY, authorization_remaining, cents
from sandbox.shopify.registry import Ctx, mutation, user_error


def _refuse(path: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    return {"transaction": None, "userErrors": [user_error(["input", *path], message, code)]}


@mutation("orderCapture")
def order_capture(_src: Any, info: GraphQLResolveInfo, input: dict) -> dict:
    ctx: Ctx = info.context
    order = order_store.get(ctx, input["id"])
    if order is None:
        return _refuse(["id"], "Order does not exist.", "NOT_FOUND")
    if order["cancelledAt"]:
        return _refuse(["id"], "Order is cancelled: nothing can be captured.", "INVALID")
    parent = order_store.transaction(order, input["parentTransactionId"])
    if parent is None or parent["kind"] != "AUTHORIZATION":
        return _refuse(
            ["parentTransactionId"], "Parent transaction must be an authorization of this order.", "INVALID"
        )
    if input.get("currency") not in (None, CURRENCY):
        return _refuse(
            ["currency"], f"Currency must be the order's presentment currency {CURRENCY}.", "INVALID"
        )
    try:
        wanted = cents(Decimal(str(input["amount"])))
    except InvalidOperation:
        return _refuse(["amount"], "Amount is not a valid decimal.", "INVALID")
    if wanted <= 0:
        return _refuse(["amount"], "Amount must be greater than zero.", "GREATER_THAN")
    remaining = authorization_remaining(order, parent)
    if remaining <= 0:
        return _refuse(["parentTransactionId"], "The authorization has nothing left to capture.", "INVALID")
    if wanted > remaining:
        return _refuse(
            ["amount"],
            (f"Amount {wanted} is greater than the capturable amount {remaining} on the authorization."),
            "LESS_THAN_OR_EQUAL_TO",
        )
    was_paid = order["displayFinancialStatus"] == "PAID"
    capture = order_store.new_transaction(
        ctx,
        "CAPTURE",
        "SUCCESS",
        parent["gateway"],
        wanted,
        parent_id=parent["id"],
        account=parent["accountNumber"],
    )
    order["_transactions"].append(capture)
    if input.get("finalCapture") or wanted == remaining:
        parent["_closed"] = True
    order_store.save(ctx, order)
    topics = ["orders/updated"]
    if order["displayFinancialStatus"] == "PAID" and not was_paid:
        topics.insert(0, "orders/paid")
    emit_order(ctx, order, *topics)
    return {"transaction": order_store.transaction(order, capture["id"]), "userErrors": []}


@mutation("transactionVoid")
def transaction_void(_src: Any, info: GraphQLResolveInfo, parentTransactionId: str) -> dict:
    """Void what an uncaptured authorisation still holds: a VOID transaction, capturable 0."""
    ctx: Ctx = info.context

    def refuse(message: str, code: str) -> dict[str, Any]:
        return {"transaction": None, "userErrors": [user_error(["parentTransactionId"], message, code)]}

    order = order_store.owning(ctx, parentTransactionId)
    parent = order_store.transaction(order, parentTransactionId) if order else None
    if order is None or parent is None:
        return refuse("Transaction does not exist.", "TRANSACTION_NOT_FOUND")
    if parent["kind"] != "AUTHORIZATION" or parent["status"] != "SUCCESS":
        return refuse("Only a successful authorization can be voided.", "AUTH_NOT_SUCCESSFUL")
    remaining = authorization_remaining(order, parent)
    if remaining <= 0:
        return refuse("The authorization has nothing left to void.", "AUTH_NOT_VOIDABLE")
    void = order_store.new_transaction(
        ctx, "VOID", "SUCCESS", parent["gateway"], remaining, parent_id=parent["id"]
    )
    order["_transactions"].append(void)
    parent["_closed"] = True
    order_store.save(ctx, order)
    emit_order(ctx, order, "orders/updated")
    return {"transaction": order_store.transaction(order, void["id"]), "userErrors": []}
