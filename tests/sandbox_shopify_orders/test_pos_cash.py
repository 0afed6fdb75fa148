"""A POS sale paid in cash (`gateway="cash"`): the cash the customer handed over is a SALE and, when
it was more than the total, the change the till gave back a CHANGE transaction whose parent is the
sale. The money received is the sale less the change (the order reads PAID, nothing outstanding),
and a cancellation's refund gives back what was kept, not the cash handed over."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.shopify import checkout
from sandbox.shopify.clock import ManualClock

from .helpers import Catalogue, ShopClient, amount
from .test_fulfillment_cancel import JOB

CASH_ORDER = """
query CashOrder($id: ID!) {
  order(id: $id) {
    displayFinancialStatus paymentGatewayNames cancelledAt
    currentTotalPriceSet { shopMoney { amount } }
    totalReceivedSet { shopMoney { amount } }
    totalOutstandingSet { shopMoney { amount } }
    transactions { id kind status gateway manualPaymentGateway amountSet { shopMoney { amount } }
      parentTransaction { id } }
  }
}"""

CANCEL = """
mutation Cancel($orderId: ID!) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, restock: true, refund: true) {
    job { id } orderCancelUserErrors { code }
  }
}"""


def _sale(shop: ShopClient, **options) -> str:
    return checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], discount_rate=0.0, seed=3,
        pos="ship", shipping="PAC", gateway="cash", **options,
    )  # fmt: skip


def test_cash_with_change_is_a_sale_of_the_cash_handed_over_and_a_change(
    shop: ShopClient, catalogue: Catalogue, clock: ManualClock
) -> None:
    order_id = _sale(shop, cash_tendered="500.00")
    doc = shop.data(CASH_ORDER, {"id": order_id})["order"]
    total = amount(doc["currentTotalPriceSet"])
    sale, change = doc["transactions"]
    assert (sale["kind"], sale["status"], sale["gateway"], sale["manualPaymentGateway"]) == (
        "SALE", "SUCCESS", "Cash", True)  # fmt: skip
    assert amount(sale["amountSet"]) == Decimal("500.00")
    assert (change["kind"], change["status"], change["parentTransaction"]) == (
        "CHANGE",
        "SUCCESS",
        {"id": sale["id"]},
    )
    assert amount(change["amountSet"]) == Decimal("500.00") - total
    assert doc["displayFinancialStatus"] == "PAID" and doc["paymentGatewayNames"] == ["Cash"]
    assert amount(doc["totalReceivedSet"]) == total and amount(doc["totalOutstandingSet"]) == 0

    exact = shop.data(CASH_ORDER, {"id": _sale(shop)})["order"]  # exact cash: no change
    assert [t["kind"] for t in exact["transactions"]] == ["SALE"]

    started = shop.data(CANCEL, {"orderId": order_id})["orderCancel"]
    assert started["orderCancelUserErrors"] == []
    clock.advance(1)
    assert shop.data(JOB, {"id": started["job"]["id"]})["job"]["done"] is True
    cancelled = shop.data(CASH_ORDER, {"id": order_id})["order"]
    refund = cancelled["transactions"][-1]
    assert refund["kind"] == "REFUND" and amount(refund["amountSet"]) == total
    assert cancelled["cancelledAt"] and cancelled["displayFinancialStatus"] == "REFUNDED"


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"pos": None}, "POS register"),
        ({"cash_tendered": "1.00"}, "below the order's total"),
        ({"cash_tendered": "-5"}, "positive amount"),
        ({"gateway": "pix", "cash_tendered": "100.00"}, "gateway cash"),
    ],
)
def test_cash_asked_otherwise_is_refused(shop: ShopClient, catalogue: Catalogue, options, why) -> None:
    with pytest.raises(checkout.CheckoutError, match=why):
        checkout.place_order(
            shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], discount_rate=0.0,
            **{"pos": "ship", "gateway": "cash", **options},
        )  # fmt: skip
