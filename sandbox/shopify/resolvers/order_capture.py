"""orderCapture: take money from a card authorisation, never more than what is still authorised.

Partial captures are allowed. On an authorisation that is multi-capturable (its gateway's:
SandboxOptions.gateway_multi_capture) several may be taken, and `finalCapture: true` releases
whatever is left on it (capturable goes to 0). One that is not (Brazil's card gateways are
payments apps, most of them one capture per authorisation) takes one capture, which closes it
whatever finalCapture says ("no effect on authorizations which aren't multi-capturable"): the
rest is released (totalUnsettled and the order's totalCapturable 0, no VOID transaction; the order
PARTIALLY_PAID with the rest outstanding), and a second capture is refused with a userError on
parentTransactionId [assumed: Shopify's docs do not give its words] — as while its one capture is
pending at the gateway; one the gateway refused took nothing, so the capture may be asked again.
The order's financial status follows the money (PARTIALLY_PAID, PAID). Sends orders/updated, and
orders/paid when the order becomes paid.

A gateway that is a payments app (every Brazilian card gateway on Shopify) does not answer a
capture at once: Shopify sends it a capture session, the app answers 201, and later resolves the
session (captureSessionResolve) or rejects it (captureSessionReject, reason AUTHORIZATION_EXPIRED
or PROCESSING_ERROR); Shopify then updates the capture transaction's status. So orderCapture may
answer a CAPTURE transaction PENDING, which turns SUCCESS or FAILURE later, or FAILURE at once.
Controls (not Shopify's): `answer_next_capture` makes the order's next capture answer PENDING or
FAILURE; `settle_captures` resolves (SUCCESS) or rejects (FAILURE, with the reason as errorCode)
the order's PENDING captures. While pending, a capture holds its amount: it cannot be captured
again [assumed], and a final one releases the rest of the authorisation only once it succeeded.
A rejection for AUTHORIZATION_EXPIRED closes the authorisation (it lapsed); PROCESSING_ERROR
leaves it as it was.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.order_totals import CURRENCY, authorization_remaining, cents, multi_capturable
from sandbox.shopify.registry import Ctx, mutation, user_error

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

IN_FLIGHT = ("PENDING", "AWAITING_RESPONSE")  # a capture the gateway has not answered yet
REJECTIONS = ("PROCESSING_ERROR", "AUTHORIZATION_EXPIRED")  # CaptureSessionStateRejectedReason
TAKEN_OR_ASKED = ("SUCCESS", *IN_FLIGHT)


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
    # OrderCaptureInput.currency: the presentment currency, required when it is not the shop's.
    presentment = order.get("presentmentCurrencyCode") or CURRENCY
    if (input.get("currency") or CURRENCY) != presentment:
        return _refuse(
            ["currency"], f"Currency must be the order's presentment currency {presentment}.", "INVALID"
        )
    try:
        wanted = cents(Decimal(str(input["amount"])))
    except InvalidOperation:
        return _refuse(["amount"], "Amount is not a valid decimal.", "INVALID")
    if wanted <= 0:
        return _refuse(["amount"], "Amount must be greater than zero.", "GREATER_THAN")
    if not multi_capturable(parent) and _captured_once(order, parent):
        return _refuse(
            ["parentTransactionId"],
            "The authorization allows one capture only and it was captured already: it is closed.",
            "INVALID",
        )
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
    answer = order.pop("_nextCapture", None) or {"status": "SUCCESS"}
    capture = order_store.new_transaction(
        ctx,
        "CAPTURE",
        answer["status"],
        parent["gateway"],
        wanted,
        parent_id=parent["id"],
        account=parent["accountNumber"],
    )
    capture["_final"] = bool(input.get("finalCapture")) or wanted == remaining or not multi_capturable(parent)
    if answer["status"] == "FAILURE":
        _reject(capture, parent, answer.get("reason") or REJECTIONS[0])
    order["_transactions"].append(capture)
    if answer["status"] == "SUCCESS" and capture["_final"]:
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


def _captured_once(order: dict[str, Any], authorization: dict[str, Any]) -> bool:
    """A capture of the authorisation taken, or asked and not answered yet (a refused one took nothing)."""
    return any(
        t["kind"] == "CAPTURE" and t.get("parentId") == authorization["id"] and t["status"] in TAKEN_OR_ASKED
        for t in order["_transactions"]
    )


def _reject(capture: dict[str, Any], parent: dict[str, Any], reason: str) -> None:
    capture["status"], capture["errorCode"] = "FAILURE", reason
    if reason == "AUTHORIZATION_EXPIRED":
        parent["_closed"] = True


def answer_next_capture(
    sandbox: Sandbox, shop: str, order_id: str, status: str, reason: str | None = None
) -> None:
    """Control (not Shopify's): the order's next orderCapture answers `status`: PENDING (the
    gateway's payments app has not resolved the capture session yet: `settle_captures` does it
    later) or FAILURE (rejected at once, `reason` PROCESSING_ERROR by default). LookupError when
    the shop has no such order; ValueError for another status or reason."""
    if status not in (*IN_FLIGHT, "FAILURE") or (reason is not None and reason not in REJECTIONS):
        raise ValueError(f"a capture answers {', '.join(IN_FLIGHT)} or FAILURE ({', '.join(REJECTIONS)})")
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        order["_nextCapture"] = {"status": status, "reason": reason}
        order_store.save(ctx, order, touch=False)


def settle_captures(
    sandbox: Sandbox, shop: str, order_id: str, status: str = "SUCCESS", reason: str | None = None
) -> list[str]:
    """Control (not Shopify's): the gateway's payments app resolves (SUCCESS) or rejects (FAILURE,
    `reason` PROCESSING_ERROR by default) the order's pending captures, and Shopify updates their
    status: a final one that succeeded releases the rest of its authorisation. Sends orders/updated
    (and orders/paid when the order becomes paid). The ids of the captures settled."""
    if status not in ("SUCCESS", "FAILURE") or (reason is not None and reason not in REJECTIONS):
        raise ValueError(f"a capture settles SUCCESS or FAILURE ({', '.join(REJECTIONS)})")
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        was_paid = order["displayFinancialStatus"] == "PAID"
        settled = []
        for capture in order["_transactions"]:
            if capture["kind"] != "CAPTURE" or capture["status"] not in IN_FLIGHT:
                continue
            parent = order_store.transaction(order, capture["parentId"]) or {}
            capture["processedAt"] = iso(ctx.now())
            if status == "FAILURE":
                _reject(capture, parent, reason or REJECTIONS[0])
            else:
                capture["status"] = "SUCCESS"
                if capture.get("_final"):
                    parent["_closed"] = True
            settled.append(capture["id"])
        order_store.save(ctx, order)
        topics = ["orders/updated"]
        if order["displayFinancialStatus"] == "PAID" and not was_paid:
            topics.insert(0, "orders/paid")
        emit_order(ctx, order, *topics)
    return settled
