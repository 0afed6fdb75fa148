"""orderCancel: asynchronous and irreversible, like Shopify's.

The mutation validates, then answers with a `job` (done: false). The cancellation itself runs
when the job is due (CANCEL_DELAY_SECONDS on the sandbox clock): a timer completes it, and
`job(id:)` completes a due job on read, so a test on a manual clock advances time instead of
sleeping. Completing: unfulfilled units are restocked (or written off) and removed from their
lines (currentQuantity 0, so the current total is 0, as Shopify shows a cancelled order), money
that was taken is refunded (REFUND), open authorisations are voided (VOID), fulfillment orders
are cancelled, then orders/cancelled and orders/updated are sent. Cancelling again is a
userError, and so is cancelling while a fulfillment is active (fulfillmentCancel first, as
Shopify asks), while a fulfillment service holds a fulfillment order (it accepted the request:
sandbox.shopify.fulfillment_service; INVALID, "cancel the fulfillment request first"), and a
`staffNote` over 255 characters (the 2026-10 schema's "Maximum length of 255
characters"; the code INVALID, field ["staffNote"]; Shopify's exact words are not documented,
these are Rails' length message).

A cancel job can also end without cancelling (OrderCancelJobResult.status FAILED in Shopify, the
cause in the order's timeline: the refund to the original payment method declined, say): `job`
reads done, the order stays as it was (not cancelled, nothing restocked, refunded or voided) and
orderCancel may be sent again. `fail_next_cancel` (control API `orders/cancel_fails`) makes the
order's next cancel job end so.
"""

from __future__ import annotations

import logging
import threading
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import fulfillment_service, order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.order_totals import bag_amount
from sandbox.shopify.registry import Ctx, mutation, query

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)

CANCEL_DELAY_SECONDS = 0.15  # not done when first answered; done by the next read of a poller waiting 0.2 s
STAFF_NOTE_MAX = 255  # orderCancel(staffNote:) "Maximum length of 255 characters."
REFUND_DECLINED = "The refund to the original payment method was declined."


def _error(field: list[str] | None, message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def _refuse(error: dict[str, Any]) -> dict[str, Any]:
    return {"job": None, "jobResult": None, "orderCancelUserErrors": [error], "userErrors": [error]}


def _job_doc(ctx: Ctx, job_id: str) -> dict[str, Any] | None:
    doc = ctx.store.get(ctx.shop, job_id)
    return doc if doc and doc.get("__typename") == "Job" else None


def _view(job: dict[str, Any], order: dict[str, Any] | None) -> dict[str, Any]:
    return {"__typename": "Job", "id": job["id"], "done": job["done"], "query": {}, "_order": order}


@mutation("orderCancel")
def order_cancel(
    _src: Any,
    info: GraphQLResolveInfo,
    orderId: str,
    reason: str,
    restock: bool,
    refund: bool | None = None,
    refundMethod: dict | None = None,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict:
    ctx: Ctx = info.context
    if staffNote is not None and len(staffNote) > STAFF_NOTE_MAX:
        message = f"Staff note is too long (maximum is {STAFF_NOTE_MAX} characters)"
        return _refuse(_error(["staffNote"], message, "INVALID"))
    order = order_store.get(ctx, orderId)
    if order is None:
        return _refuse(_error(["orderId"], "Order does not exist.", "NOT_FOUND"))
    if order["cancelledAt"] or order.get("_cancelJob"):
        return _refuse(_error(["orderId"], "Order has already been cancelled.", "INVALID"))
    if any(f["status"] != "CANCELLED" for f in order["_fulfillments"]):
        return _refuse(
            _error(["orderId"], "Cannot cancel an order that has fulfillments; cancel them first.", "INVALID")
        )
    if fulfillment_service.holding(order):
        return _refuse(_error(["orderId"], fulfillment_service.REFUSAL, "INVALID"))
    if refundMethod is not None:
        refund = bool(refundMethod.get("originalPaymentMethodsRefund"))
    job = {
        "__typename": "Job",
        "id": f"gid://shopify/Job/{uuid.uuid4()}",
        "done": False,
        "_orderId": orderId,
        "_dueAt": ctx.now() + CANCEL_DELAY_SECONDS,
        "_reason": reason,
        "_restock": restock,
        "_refund": True if refund is None else refund,
        "_staffNote": staffNote,
        "_notify": bool(notifyCustomer),
    }
    ctx.store.put(ctx.shop, job)
    order["_cancelJob"] = job["id"]
    order_store.save(ctx, order, touch=False)
    timer = threading.Timer(
        CANCEL_DELAY_SECONDS, _complete_later, (ctx.sandbox, ctx.shop, ctx.api_key, job["id"])
    )
    timer.daemon = True
    timer.start()
    result = {
        "__typename": "OrderCancelJobResult",
        "id": job["id"],
        "done": False,
        "status": "STARTED",
        "errors": [],
        "order": order,
    }
    return {"job": _view(job, order), "jobResult": result, "orderCancelUserErrors": [], "userErrors": []}


@query("job")
def resolve_job(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    ctx: Ctx = info.context
    job = _job_doc(ctx, id)
    if job is None:
        return None
    complete_if_due(ctx, job)
    return _view(job, None)


def _complete_later(sandbox: Sandbox, shop: str, api_key: str, job_id: str) -> None:
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=api_key)
    try:
        with ctx.store.transaction():
            job = _job_doc(ctx, job_id)
            if job is not None:
                complete_if_due(ctx, job)
    except Exception:  # a timer thread has nobody to raise to: log loudly, the job read retries
        log.exception("sandbox order cancel job %s failed", job_id)


def complete_if_due(ctx: Ctx, job: dict[str, Any], force: bool = False) -> bool:
    """Run the cancellation when the job is due (or `force`); True once the job is done."""
    if job["done"]:
        return True
    if not force and ctx.now() < job["_dueAt"]:
        return False
    order = order_store.get(ctx, job["_orderId"])
    if order is not None and not order["cancelledAt"]:
        if order.get("_cancelFails"):
            _fail(ctx, order, job)
        else:
            _cancel(ctx, order, job)
    job["done"] = True
    job.setdefault("_status", "SUCCEEDED")
    ctx.store.put(ctx.shop, job)
    return True


def _cancel(ctx: Ctx, order: dict[str, Any], job: dict[str, Any]) -> None:
    now = iso(ctx.now())
    for line in order["_lines"]:
        unfulfilled = line["currentQuantity"] - line["_fulfilled"]
        if unfulfilled > 0 and line.get("_locationId"):
            order_store.release_stock(
                ctx, line["_variantId"], line["_locationId"], unfulfilled, job["_restock"]
            )
        if unfulfilled > 0:  # Shopify shows the unfulfilled units removed from the order
            line["currentQuantity"] = line["_fulfilled"]
    for fo in order["_fulfillmentOrders"]:
        if fo["status"] in ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED"):
            fo["status"], fo["updatedAt"] = "CANCELLED", now
            for item in fo["_lineItems"]:
                item["remainingQuantity"] = 0
    _settle_money(ctx, order, job["_refund"])
    order.update(
        {
            "cancelledAt": now,
            "cancelReason": job["_reason"],
            "closed": True,
            "closedAt": now,
            "cancellation": {"staffNote": job["_staffNote"]},
        }
    )
    order_store.save(ctx, order)
    emit_order(ctx, order, "orders/cancelled", "orders/updated")


def _fail(ctx: Ctx, order: dict[str, Any], job: dict[str, Any]) -> None:
    """The job ends FAILED: the order is left as it was, free to be cancelled again."""
    message = order.pop("_cancelFails")
    order.pop("_cancelJob", None)
    job["_status"], job["_errors"] = "FAILED", [{"field": None, "message": message, "code": None}]
    order_store.save(ctx, order, touch=False)


def fail_next_cancel(sandbox: Sandbox, shop: str, order_id: str, message: str = REFUND_DECLINED) -> None:
    """Control (not Shopify's): the order's next cancel job ends without cancelling it, `message`
    its cause. LookupError when the shop has no such order."""
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        order["_cancelFails"] = message
        order_store.save(ctx, order, touch=False)


def _settle_money(ctx: Ctx, order: dict[str, Any], refund: bool) -> None:
    """Void open authorisations, fail pending sales, refund what was received when asked (a cash
    sale's CHANGE was given back at the till already)."""
    for txn in list(order["_transactions"]):
        if txn["kind"] == "AUTHORIZATION" and txn["manuallyCapturable"]:
            remaining = bag_amount(txn["totalUnsettledSet"])
            order["_transactions"].append(
                order_store.new_transaction(
                    ctx, "VOID", "SUCCESS", txn["gateway"], remaining, parent_id=txn["id"]
                )
            )
            txn["_closed"] = True
        elif txn["kind"] == "SALE" and txn["status"] == "PENDING":
            txn["status"] = "FAILURE"
    if not refund:
        return
    for txn in list(order["_transactions"]):
        if txn["kind"] in ("SALE", "CAPTURE") and txn["status"] == "SUCCESS":
            refunded = sum(
                (
                    bag_amount(t["amountSet"])
                    for t in order["_transactions"]
                    if t["kind"] in ("REFUND", "CHANGE") and t.get("parentId") == txn["id"]
                ),
                Decimal(0),
            )
            left = bag_amount(txn["amountSet"]) - refunded
            if left > 0:
                order["_transactions"].append(
                    order_store.new_transaction(
                        ctx, "REFUND", "SUCCESS", txn["gateway"], left, parent_id=txn["id"]
                    )
                )
