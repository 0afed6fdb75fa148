"""ERP -> Shopify weight adjustments: a weighed item picked lighter than ordered becomes a line
discount in the picking's order edit, so Shopify's total follows the NF-e and the invoice's
capture pays the order in full; a heavier pick is recorded, never charged above the
authorisation; the same events again send nothing."""

from __future__ import annotations

import copy
from decimal import Decimal

from jobs.order_edits import to_shopify
from ledger import watermarks
from ledger.db import session_scope
from ledger.models import MessageStatus

from .conftest import World


def _calculated_orders(world: World) -> int:
    """Order edits begun on the shop (every orderEditBegin stores one CalculatedOrder)."""
    return len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder"))


def test_lighter_weighed_item_discounts_the_line_and_the_invoice_capture_pays_the_order(
    world: World,
) -> None:
    weighed_sku, plain_sku = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed_sku, 1), (plain_sku, 2)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    authorised = before.open_authorization()
    assert authorised is not None and before.current_total is not None

    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): 0.985})
    assert world.poll()["enqueued"] == 1

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert edit.response_payload["edited"] is True and len(edit.response_payload["discounted"]) == 1
    price = world.chain.prices[weighed_sku]
    difference = price - (Decimal("0.985") * price).quantize(Decimal("0.01"))
    assert difference > 0
    doc = world.order_doc(order.gid)
    assert Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"]) == before.current_total - difference
    line = next(item for item in doc["_lines"] if item["sku"] == weighed_sku)
    assert line["currentQuantity"] == 1  # the quantity stays: the weight is money, not units
    [allocation] = line["discountAllocations"]
    assert Decimal(allocation["allocatedAmountSet"]["shopMoney"]["amount"]) == difference
    assert allocation["discountApplication"]["description"] == "Ajuste de peso: 1,000 kg → 0,985 kg"
    [change] = world.line_changes(order.gid)
    assert (change.kind, change.qty_before, change.qty_after, change.applied) == (
        "weight",
        1,
        Decimal("0.985"),
        True,
    )
    assert "Ajuste de peso: 1,000 kg → 0,985 kg" in (change.reason or "")

    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    assert world.poll()["enqueued"] == 1
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    invoiced = Decimal(str(document["vlrTotal"]))
    assert after.current_total == invoiced == before.current_total - difference
    assert after.paid == invoiced < authorised.amount
    assert after.financial_status == "PAID"
    assert world.link(order.gid).captured_amount == invoiced

    # Again: the poller finds the events traced, a replay of the edit re-reads Shopify and sends nothing.
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)
    with session_scope() as session:
        watermarks.reset(session, world.shop_id, "order_events")
    again = world.poll()
    assert again["enqueued"] == 0 and again["seen"] == again["read"]
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot
    assert _calculated_orders(world) == begun  # no orderEditBegin, so no discount either
    assert len(world.line_changes(order.gid)) == 1


def test_heavier_weighed_item_is_recorded_and_never_charged_above_the_authorisation(
    world: World,
) -> None:
    weighed_sku, plain_sku = world.weighed(), world.plain(1)
    order = world.linked_order([(weighed_sku, 1), (plain_sku, 1)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    begun = _calculated_orders(world)

    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): 1.04})
    assert world.poll()["enqueued"] == 1

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value and edit.response_payload["edited"] is False
    assert _calculated_orders(world) == begun
    assert world.settlement(order.gid).current_total == before.current_total
    [change] = world.line_changes(order.gid)
    assert (change.kind, change.qty_after, change.applied) == ("weight", Decimal("1.04"), False)
    assert "not charged above what was authorised" in (change.reason or "")
