"""A POS "Ship to customer" sale paid in cash with change (jobs.order_kinds sends it to the ERP):
Shopify records the cash handed over as a SALE and the change the till gave back as a CHANGE
transaction ("the money returned to the customer when they've paid too much during a cash
transaction"). The change is no money kept: invoicing never names it as a refund owed, and the
Orders page's paid column shows what the customer paid net."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from jobs.invoice_capture import capture
from ledger.models import MessageStatus
from shopify_app.admin_api.order_settlement import parse_settlement

from .conftest import World

D = Decimal
M = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731


def test_the_change_given_back_at_the_till_is_not_money_kept_nor_a_refund_owed() -> None:
    raw = {
        "id": "gid://shopify/Order/1", "displayFinancialStatus": "PAID", "currentTotalPriceSet": M("80.00"),
        "transactions": [
            {"id": "s1", "kind": "SALE", "status": "SUCCESS", "gateway": "Cash", "amountSet": M("100.00")},
            {"id": "c1", "kind": "CHANGE", "status": "SUCCESS", "gateway": "Cash", "amountSet": M("20.00"),
             "parentTransaction": {"id": "s1"}},
        ],
    }  # fmt: skip
    state = parse_settlement(raw)
    assert (state.paid, state.refunded, state.kept, state.kept_before(None)) == (D("80.00"), 0, D("80.00"),
                                                                                 D("80.00"))  # fmt: skip
    told = capture(None, "gid://shopify/Order/1", D("80.00"), state)  # type: ignore[arg-type]
    assert told.attention is None, told.attention
    assert told.paid == D("80.00")
    # an NF-e below what the customer paid net still names the refund owed, of that difference only
    cut = capture(None, "gid://shopify/Order/1", D("70.00"), state)  # type: ignore[arg-type]
    assert cut.attention is not None and "80.00 was taken for an NF-e of 70.00: refund 10.00" in cut.attention


def test_a_pos_sale_paid_in_cash_with_change_is_invoiced_with_nothing_to_refund(world: World) -> None:
    """End to end, the sandbox's POS cash sale: 2 units shipped by PAC, the customer hands over the
    total rounded up to R$ 50 and more, the till gives the change back. The NF-e of the whole order
    is paid: the message ends done, nothing is flagged, the link shows the total paid."""
    sku = world.plain(0)
    total = world.chain.prices[sku] * 2 + D("19.90")
    tendered = (total / 50).to_integral_value(rounding=ROUND_UP) * 50 + 50
    order = world.linked_order([(sku, 2)], pos="ship", shipping="PAC", gateway="cash",
                               cash_tendered=str(tendered))  # fmt: skip
    assert world.settlement(order.gid).financial_status == "PAID"
    paid = [
        (t["kind"], D(t["amountSet"]["shopMoney"]["amount"]))
        for t in world.order_doc(order.gid)["_transactions"]
    ]
    assert paid == [("SALE", tendered), ("CHANGE", tendered - total)], paid
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert nfe_total == total
    assert "needs_attention" not in message.response_payload, message.response_payload
    link = world.link(order.gid)
    assert link.needs_attention is None, link.needs_attention
    assert link.captured_amount == total
    assert world.settlement(order.gid).paid == total
