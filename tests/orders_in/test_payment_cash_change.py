"""The ERP payment forms of a POS sale paid in cash with change (jobs.order_kinds sends a POS "Ship to
customer" sale to the ERP): Shopify records the cash handed over as a SALE and the change the till
gave back as a CHANGE. The cash form kept the difference only, so a card that paid the rest is an
ERP payment of its own, not swallowed by the cash's tendered amount."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_map

from .test_payment_forms import forms, order_of, txn

D = Decimal


def test_the_change_given_back_is_not_money_the_cash_kept() -> None:
    """Order of 100.00 (80.10 + 19.90 shipping): 150.00 cash handed over, 70.00 change given back, and
    20.00 on a card. The cash kept 80.00: the ERP books 80.00 cash and 20.00 card."""
    order = order_of(
        "PAID",
        txn(1, "Cash", "SALE", "SUCCESS", "150.00", manualPaymentGateway=True),
        txn(2, "Cash", "CHANGE", "SUCCESS", "70.00", parent=1, manualPaymentGateway=True),
        txn(3, "cartao", "SALE", "SUCCESS", "20.00"),
    )
    assert order_map.money_kept(order, "Cash") == D("80.00")
    assert order_map.money_kept(order) == order_map.money_kept(order, refunds=False) == D("100.00")
    assert forms(order, "100.00", {"Cash": 1, "cartao": 3}) == [(1, D("80.00")), (3, D("20.00"))]
    assert order_map.unpaid_balance(order) == 0


def test_what_the_order_was_paid_counts_the_cash_less_its_change() -> None:
    """The Orders page's "Paid" as the import writes it (Order.paid, captured_amount): the cash the
    customer kept paying, not what they handed over."""
    order = order_of(
        "PAID",
        txn(1, "Cash", "SALE", "SUCCESS", "150.00", manualPaymentGateway=True),
        txn(2, "Cash", "CHANGE", "SUCCESS", "70.00", parent=1, manualPaymentGateway=True),
        txn(3, "cartao", "SALE", "SUCCESS", "20.00"),
    )
    assert order.paid == D("100.00")
