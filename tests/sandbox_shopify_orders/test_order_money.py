"""orderCancel (asynchronous job, restock, refund, irreversible) and orderCapture (never above
the authorisation; partial, then final capture; a payments app's answer later: PENDING, then
SUCCESS or FAILURE)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.shopify import checkout
from sandbox.shopify.clock import ManualClock
from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures

from .helpers import Catalogue, Receiver, ShopClient, amount, order, stock

CANCEL = """
mutation Cancel($orderId: ID!) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, restock: true, notifyCustomer: false,
              refundMethod: {originalPaymentMethodsRefund: true}, staffNote: "Cliente desistiu") {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

JOB = "query Job($id: ID!) { job(id: $id) { id done } }"

CAPTURE = """
mutation Capture($input: OrderCaptureInput!) {
  orderCapture(input: $input) {
    transaction { id kind status errorCode amountSet { shopMoney { amount } } parentTransaction { id } }
    userErrors { field message }
  }
}"""


def test_cancel_is_asynchronous_restocks_refunds_and_is_irreversible(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 2}], gateway="pix", seed=8
    )
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 2, "on_hand": 5}
    started = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert started["orderCancelUserErrors"] == [] and started["job"]["done"] is False
    job_id = started["job"]["id"]
    assert shop.data(JOB, {"id": job_id})["job"]["done"] is False
    assert order(shop, order_id)["cancelledAt"] is None
    twice = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert twice["job"] is None and twice["orderCancelUserErrors"][0]["code"] == "INVALID"

    clock.advance(1)
    assert shop.data(JOB, {"id": job_id})["job"]["done"] is True
    cancelled = order(shop, order_id)
    assert (
        cancelled["cancelledAt"] and cancelled["cancelReason"] == "CUSTOMER" and cancelled["closed"] is True
    )
    assert cancelled["displayFinancialStatus"] == "REFUNDED"
    # Shopify shows the cancelled order's lines removed and nothing left to pay.
    assert [line["currentQuantity"] for line in cancelled["lineItems"]["nodes"]] == [0]
    assert amount(cancelled["currentTotalPriceSet"]) == 0
    refund = cancelled["transactions"][-1]
    assert refund["kind"] == "REFUND" and amount(refund["amountSet"]) == amount(cancelled["totalPriceSet"])
    assert refund["parentTransaction"]["id"] == cancelled["transactions"][0]["id"]
    assert cancelled["fulfillmentOrders"]["nodes"][0]["status"] == "CANCELLED"
    assert stock(shop, catalogue, "ARZ-5") == {"available": 5, "committed": 0, "on_hand": 5}
    after = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert after["job"] is None and after["orderCancelUserErrors"][0]["field"] == ["orderId"]
    shop.wait_webhooks()
    assert len(receiver.topics("orders/cancelled")) == 1
    assert receiver.topics("orders/cancelled")[0].json["cancel_reason"] == "customer"


def test_a_staff_note_over_255_characters_is_refused_and_nothing_cancelled(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock
) -> None:
    """The 2026-10 schema: staffNote "Maximum length of 255 characters."; 255 is taken."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway="pix", seed=9
    )
    document = CANCEL.replace("($orderId: ID!)", "($orderId: ID!, $note: String)").replace(
        'staffNote: "Cliente desistiu"', "staffNote: $note"
    )
    long = shop.data(document, {"orderId": order_id, "note": "x" * 256})["orderCancel"]
    assert long["job"] is None
    assert long["orderCancelUserErrors"] == [
        {
            "field": ["staffNote"],
            "message": "Staff note is too long (maximum is 255 characters)",
            "code": "INVALID",
        }
    ]
    clock.advance(1)
    assert order(shop, order_id)["cancelledAt"] is None
    started = shop.data(document, {"orderId": order_id, "note": "x" * 255})["orderCancel"]
    assert started["orderCancelUserErrors"] == [] and started["job"]["done"] is False


def test_a_cancelled_unpaid_order_is_voided_with_nothing_left_to_pay(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock
) -> None:
    """A boleto never paid, then cancelled: no money moved, the payment status is Voided (as
    Shopify's help says of a payment not captured), not still pending or paid."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], gateway="boleto", seed=3
    )
    assert order(shop, order_id)["displayFinancialStatus"] == "PENDING"
    started = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": started["job"]["id"]})["job"]["done"] is True
    cancelled = order(shop, order_id)
    assert cancelled["displayFinancialStatus"] == "VOIDED"
    assert [line["currentQuantity"] for line in cancelled["lineItems"]["nodes"]] == [0]
    assert amount(cancelled["currentTotalPriceSet"]) == 0
    assert [t["kind"] for t in cancelled["transactions"] if t["kind"] == "REFUND"] == []


def test_a_cancel_job_can_end_without_cancelling_and_the_order_can_be_cancelled_again(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock, receiver: Receiver
) -> None:
    """Shopify's cancel job can end FAILED (the refund to the original payment method declined):
    the job reads done, the order is as it was (not cancelled, nothing restocked or refunded),
    and orderCancel is taken again. The control API makes the order's next cancel job end so."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 2}], gateway="pix", seed=8
    )
    before = order(shop, order_id)
    assert shop.control("/orders/cancel_fails", {"orderId": order_id}).status_code == 200
    assert shop.control("/orders/cancel_fails", {"orderId": "gid://shopify/Order/1"}).status_code == 404
    started = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": started["job"]["id"]})["job"]["done"] is True
    job = shop.handle.sandbox.store.get("acme", started["job"]["id"])
    assert job["_status"] == "FAILED" and "declined" in job["_errors"][0]["message"]
    assert order(shop, order_id) == before
    assert stock(shop, catalogue, "ARZ-5") == {"available": 3, "committed": 2, "on_hand": 5}

    again = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]  # once only: this one goes through
    assert again["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": again["job"]["id"]})["job"]["done"] is True
    cancelled = order(shop, order_id)
    assert cancelled["cancelledAt"] and cancelled["displayFinancialStatus"] == "REFUNDED"
    assert stock(shop, catalogue, "ARZ-5") == {"available": 5, "committed": 0, "on_hand": 5}
    shop.wait_webhooks()
    assert len(receiver.topics("orders/cancelled")) == 1


def test_capture_never_exceeds_the_authorisation(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-5", "quantity": 1}],
        gateway="cartao",
        capture="manual",
        discount_rate=0.0,
        shipping="PAC",
        seed=9,
    )
    authorised = order(shop, order_id)
    assert authorised["displayFinancialStatus"] == "AUTHORIZED" and authorised["capturable"] is True
    total = amount(authorised["totalPriceSet"])
    assert total == Decimal("49.80") and amount(authorised["totalCapturableSet"]) == total
    auth = authorised["transactions"][0]
    assert auth["kind"] == "AUTHORIZATION" and auth["gateway"] == "Cartão de crédito"

    def capture(value: str, final: bool = False) -> dict:
        return shop.data(
            CAPTURE,
            {
                "input": {
                    "id": order_id,
                    "parentTransactionId": auth["id"],
                    "amount": value,
                    "currency": "BRL",
                    "finalCapture": final,
                }
            },
        )["orderCapture"]

    over = capture("49.81")
    assert over["transaction"] is None and over["userErrors"][0]["field"] == ["input", "amount"]
    partial = capture("20.00")
    assert partial["userErrors"] == [] and partial["transaction"]["kind"] == "CAPTURE"
    assert partial["transaction"]["parentTransaction"]["id"] == auth["id"]
    middle = order(shop, order_id)
    assert middle["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert amount(middle["totalCapturableSet"]) == Decimal("29.80")
    assert capture("29.81")["userErrors"]
    final = capture("25.00", final=True)
    assert final["userErrors"] == []
    done = order(shop, order_id)
    assert done["capturable"] is False and amount(done["totalCapturableSet"]) == 0
    assert done["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert capture("1.00")["userErrors"]


def test_edit_then_capture_the_new_total(shop: ShopClient, catalogue: Catalogue) -> None:
    """The supermarket flow: authorise, cut a line after picking, capture exactly the new total."""
    sandbox = shop.handle.sandbox
    order_id = checkout.place_order(
        sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 2}],
        gateway="cartao",
        capture="manual",
        discount_rate=0.0,
        shipping="RETIRADA",
        seed=1,
    )
    auth_id = order(shop, order_id)["transactions"][0]["id"]
    begin = shop.data(
        "mutation B($id: ID!) { orderEditBegin(id: $id) { calculatedOrder { id lineItems(first: 5) "
        "{ nodes { id } } } userErrors { field message } } }",
        {"id": order_id},
    )["orderEditBegin"]
    calc = begin["calculatedOrder"]
    shop.data(
        "mutation S($id: ID!, $line: ID!) { orderEditSetQuantity(id: $id, lineItemId: $line, quantity: 1) "
        "{ userErrors { field message } } }",
        {"id": calc["id"], "line": calc["lineItems"]["nodes"][0]["id"]},
    )
    shop.data(
        "mutation C($id: ID!) { orderEditCommit(id: $id) { userErrors { field message } } }",
        {"id": calc["id"]},
    )
    edited = order(shop, order_id)
    assert amount(edited["currentTotalPriceSet"]) == Decimal("7.90")
    captured = shop.data(
        CAPTURE,
        {"input": {"id": order_id, "parentTransactionId": auth_id, "amount": "7.90", "finalCapture": True}},
    )["orderCapture"]
    assert captured["userErrors"] == []
    paid = order(shop, order_id)
    assert paid["displayFinancialStatus"] == "PAID" and paid["capturable"] is False


def test_a_capture_a_payments_app_answers_later_holds_its_amount_until_resolved_or_rejected(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """A payments app gateway answers a capture session later: orderCapture's transaction is
    PENDING (nothing received; its amount cannot be captured again), then Shopify updates it to
    SUCCESS (a final one releases the rest) or FAILURE (with the rejection's reason as errorCode; a
    PROCESSING_ERROR leaves the authorisation capturable, AUTHORIZATION_EXPIRED closes it)."""
    sandbox = shop.handle.sandbox
    order_id = _card_order(shop, seed=9)
    auth = order(shop, order_id)["transactions"][0]

    def capture(value: str, final: bool = False) -> dict:
        variables = {
            "id": order_id,
            "parentTransactionId": auth["id"],
            "amount": value,
            "finalCapture": final,
        }
        return shop.data(CAPTURE, {"input": variables})["orderCapture"]

    answer_next_capture(sandbox, "acme", order_id, "PENDING")
    pending = capture("20.00", final=True)
    assert pending["userErrors"] == [] and pending["transaction"]["status"] == "PENDING"
    held = order(shop, order_id)
    assert amount(held["totalCapturableSet"]) == Decimal("29.80")
    assert capture("29.81")["userErrors"]  # the 20.00 in flight is not capturable again
    assert settle_captures(sandbox, "acme", order_id, "SUCCESS") == [pending["transaction"]["id"]]
    taken = order(shop, order_id)
    assert taken["transactions"][-1]["status"] == "SUCCESS"
    assert taken["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert taken["capturable"] is False  # it was final: the rest released once it was taken

    order_id = _card_order(shop, seed=10)
    auth = order(shop, order_id)["transactions"][0]
    answer_next_capture(sandbox, "acme", order_id, "FAILURE")
    refused = capture("49.80")["transaction"]
    assert (refused["status"], refused["errorCode"]) == ("FAILURE", "PROCESSING_ERROR")
    assert amount(order(shop, order_id)["totalCapturableSet"]) == Decimal("49.80")  # still authorised
    answer_next_capture(sandbox, "acme", order_id, "PENDING")
    assert capture("49.80")["transaction"]["status"] == "PENDING"
    assert order(shop, order_id)["displayFinancialStatus"] == "PENDING"
    settle_captures(sandbox, "acme", order_id, "FAILURE", "AUTHORIZATION_EXPIRED")
    lapsed = order(shop, order_id)
    assert lapsed["transactions"][-1]["status"] == "FAILURE" and lapsed["capturable"] is False
    assert lapsed["displayFinancialStatus"] == "EXPIRED"


def _card_order(shop: ShopClient, seed: int) -> str:
    """An order of 49.80 on a card authorised for manual capture."""
    return checkout.place_order(shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}],
                                gateway="cartao", capture="manual", discount_rate=0.0, shipping="PAC",
                                seed=seed)  # fmt: skip


COD_READ = """
query Cod($id: ID!) {
  order(id: $id) {
    displayFinancialStatus paymentGatewayNames
    transactions { kind status gateway manualPaymentGateway amountSet { shopMoney { amount } } }
  }
}"""


def test_a_manual_payment_method_collected_at_delivery_leaves_the_order_pending_until_marked_paid(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """Cash on delivery (a manual method, here named as the store named it): Shopify makes one
    PENDING sale of the total, marked manualPaymentGateway, and nothing is taken online; the order
    is PENDING until the merchant marks it paid."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], gateway="cod",
        gateway_name="Pagamento na entrega", seed=3,
    )  # fmt: skip
    placed = shop.data(COD_READ, {"id": order_id})["order"]
    assert placed["displayFinancialStatus"] == "PENDING"
    assert placed["paymentGatewayNames"] == ["Pagamento na entrega"]
    [sale] = placed["transactions"]
    assert (sale["kind"], sale["status"], sale["gateway"], sale["manualPaymentGateway"]) == (
        "SALE", "PENDING", "Pagamento na entrega", True,
    )  # fmt: skip
    assert amount(sale["amountSet"]) == amount(order(shop, order_id)["currentTotalPriceSet"])
    checkout.mark_paid(shop.handle.sandbox, "acme", order_id)
    assert shop.data(COD_READ, {"id": order_id})["order"]["displayFinancialStatus"] == "PAID"
    default = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], gateway="cod"
    )
    assert shop.data(COD_READ, {"id": default})["order"]["paymentGatewayNames"] == ["Cash on Delivery (COD)"]
    with pytest.raises(checkout.CheckoutError):
        checkout.place_order(shop.handle.sandbox, "acme", gateway="pix", gateway_name="Dinheiro")
