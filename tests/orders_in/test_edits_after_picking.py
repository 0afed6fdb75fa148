"""Shopify -> ERP edits of an order the ERP already picked: the ERP's own picking coming back
(orders/edited after the ERP -> Shopify picking edit) is not the merchant's edit, and what the
merchant did change after picking (a line, the freight) is flagged by itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs import order_edits
from jobs.inbox import WebhookEvent
from jobs.order_edits import to_erp as edits_to_erp
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLineChange
from sandbox.shopify.order_totals import bag, recompute
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_and_cancels import (
    change_order,
    discount_in_shopify,
    edit_in_shopify,
    imported,
)


def edit_messages(direction: str = SHOPIFY_TO_ERP) -> list[Message]:
    with session_scope() as session:
        query = select(Message).where(Message.flow == "order_edits", Message.direction == direction)
        return list(session.scalars(query.order_by(Message.id)))


def changes_sent() -> list[OrderLineChange]:
    with session_scope() as session:
        query = select(OrderLineChange).where(OrderLineChange.direction == SHOPIFY_TO_ERP)
        return list(session.scalars(query.order_by(OrderLineChange.id)))


def picked(world, nro: int, served) -> None:
    """The ERP separates the order, serving `served(item)` of each item; the ERP -> Shopify side
    applies the picking to Shopify, whose orders/edited comes back (the echo) and runs."""
    cuts = {str(i["seqItem"]): served(i) for i in world.chain.order(nro)["itens"]}
    world.chain.handle.erp.separate(nro, cuts=cuts, weights={})
    poll_erp_events(world)
    world.drain()


def test_the_echo_of_a_partial_cut_is_skipped(world):
    gid, nro = imported(world, skus=[(world.sku(0), 3), (world.sku(1), 1)])
    picked(world, nro, lambda i: 1 if i["idSku"] == world.sku(0) else i["qtdPedida"])
    back = edit_messages()
    assert back and all(m.status == MessageStatus.SKIPPED.value for m in back), [m.error_text for m in back]
    assert world.link(gid).needs_attention is None


def test_the_echo_of_a_picking_that_cut_every_item_asks_to_cancel_the_order_not_to_undo_an_edit(world):
    """The ERP cut every item: Shopify, changed to match, has no item left and the ERP order is
    live with nothing to deliver. Not a merchant's edit "to leave no item" to undo (that would sell
    what the store does not have): the note says the ERP cut it all, and the sale is to be cancelled."""
    gid, nro = imported(world, skus=[(world.sku(0), 2), (world.sku(1), 1)])
    picked(world, nro, lambda i: 0)
    [echo] = edit_messages()
    assert echo.status == MessageStatus.FAILED.value
    assert echo.error_detail["code"] == "ERP_CUT_EVERY_ITEM"
    note = world.link(gid).needs_attention
    assert note.startswith(edits_to_erp.NOTE) and "picked with every item cut" in note, note
    assert "Cancel the order in Shopify" in note
    assert "edited in Shopify" not in note and "undo" not in note


def test_an_edit_after_a_cut_names_and_records_only_the_merchants_change(world):
    """The ERP cut sku 0 from 3 to 1 (Shopify follows); the merchant then raises sku 1 from 1 to 2.
    The flag and the ledger name that change only: the cut is the ERP's own, already in Shopify."""
    gid, nro = imported(world, skus=[(world.sku(0), 3), (world.sku(1), 1)])
    picked(world, nro, lambda i: 1 if i["idSku"] == world.sku(0) else i["qtdPedida"])
    assert world.link(gid).needs_attention is None  # the echo was skipped
    edit_in_shopify(world, gid, world.sku(1), 2)
    world.drain()
    note = world.link(gid).needs_attention
    assert f"({world.sku(1)} 1 -> 2)" in note and f"{world.sku(0)} 3 -> 1" not in note, note
    [change] = changes_sent()
    assert (change.sku, change.kind, change.qty_before, change.qty_after, change.applied) == (
        world.sku(1),
        "qty",
        Decimal(1),
        Decimal(2),
        False,
    )


def remove_shipping(ctx, order) -> None:
    """orderEditRemoveShippingLine, committed: the line is marked removed (shippingLines no longer
    lists it) and the order charges no freight."""
    for shipping in order["_shippingLines"]:
        shipping["isRemoved"] = True
    recompute(order)


def test_a_shipping_line_removed_after_separation_is_flagged_naming_the_freight(world):
    """The lines still match what the ERP picked, but the freight does not: the ERP would invoice
    R$ 32,50 of freight Shopify no longer charges. Not the ERP's echo: flagged for a person."""
    gid, nro = imported(world, shipping="SEDEX")
    world.chain.handle.erp.separate(nro, weights={})  # picking started, nothing cut
    change_order(world, gid, remove_shipping)
    num = gid.rsplit("/", 1)[-1]
    assert edits_to_erp.apply_edit(world.shop_id, num, "901") == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "(freight R$ 32,50 -> R$ 0,00)" in note and "change the ERP order's freight" in note, note
    assert Decimal(str(world.chain.order(nro)["vlrTotFrete"])) == Decimal("32.50")  # nothing sent
    assert changes_sent() == []  # no line changed


def test_a_shipping_refund_after_separation_is_flagged_not_skipped(world):
    """refunds/create refunding R$ 20,00 of the shipping: the shipping line's current price (after
    refunds) drops, Shopify's total with it; the ERP order, picked, still charges the whole freight."""
    gid, nro = imported(world, shipping="SEDEX")
    world.chain.handle.erp.separate(nro, weights={})

    def refund_shipping(ctx, order):
        order["_shippingLines"][0]["currentDiscountedPriceSet"] = bag(Decimal("12.50"))
        recompute(order)

    change_order(world, gid, refund_shipping)
    payload = {"id": 81, "order_id": int(gid.rsplit("/", 1)[-1]), "refund_line_items": []}
    event = WebhookEvent(9881, "refunds/create", world.domain, "r-81", "re-81", "2026-10", None, payload)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "was refunded in Shopify (freight R$ 32,50 -> R$ 12,50)" in note, note
    assert "A refund cannot be reversed" in note and "undo" not in note


def test_a_shipping_line_removed_before_separation_reaches_the_erp(world):
    gid, nro = imported(world, shipping="SEDEX")
    change_order(world, gid, remove_shipping)
    num = gid.rsplit("/", 1)[-1]
    assert edits_to_erp.apply_edit(world.shop_id, num, "902") == "done"
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    erp_order = world.chain.order(nro)
    assert Decimal(str(erp_order["vlrTotFrete"])) == 0
    assert Decimal(str(erp_order["vlrTotalPedido"])) == shopify_total


def test_an_edit_made_before_the_picking_reached_shopify_waits_for_it(world):
    """The ERP separated the order cutting sku 0 from 3 to 1, and the merchant raises sku 1 from 1
    to 2 before the poller brings that cut to Shopify. Counted against what the ERP served, the
    cut Shopify does not show yet would be named as the merchant's "3 more of sku 0": the edit
    waits (retrying) until the picking is in Shopify, then names and records the merchant's change only."""
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, skus=[(a, 3), (b, 1)])
    items = world.chain.order(nro)["itens"]
    cuts = {str(i["seqItem"]): (1 if i["idSku"] == a else i["qtdPedida"]) for i in items}
    world.chain.handle.erp.separate(nro, cuts=cuts, weights={})  # the poller has not run yet
    edit_in_shopify(world, gid, b, 2)
    world.drain()
    [waiting] = edit_messages()
    assert waiting.status == MessageStatus.RETRYING.value, (waiting.status, waiting.error_text)
    assert "picking" in waiting.error_text, waiting.error_text
    assert world.link(gid).needs_attention is None and changes_sent() == []
    poll_erp_events(world)  # the picking edit reaches Shopify (its echo runs too)
    world.drain()
    order_edits.replay(waiting.id)  # RQ's retry (or the orders catch-up)
    note = world.link(gid).needs_attention
    assert f"({b} 1 -> 2)" in note and f"{a} " not in note, note
    # The picking's echo, run meanwhile, shows the same lines: one failed message, one ledger row.
    messages = edit_messages()
    assert [m.status for m in messages].count(MessageStatus.FAILED.value) == 1, messages
    assert all(m.status == MessageStatus.SKIPPED.value for m in messages if m.status != "failed")
    rows = [(c.sku, c.kind, c.qty_before, c.qty_after, c.applied) for c in changes_sent()]
    assert rows == [(b, "qty", Decimal(1), Decimal(2), False)], rows


def test_an_edit_made_before_a_second_picking_reached_shopify_waits_for_it(world):
    """The store picks the order again before the NF-e (sku 0 cut 3 -> 2, applied; then 2 -> 1, not
    polled yet) and the merchant raises sku 1 meanwhile: with any picking applied, the change was
    counted against the ERP's second cut, which Shopify did not show yet, and flagged as the
    merchant raising sku 0 "1 -> 2" (a person told to undo it, or to put 2 back in the ERP's
    picking). It waits for the latest picking, as for a first one."""
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, skus=[(a, 3), (b, 1)])
    items = world.chain.order(nro)["itens"]
    seq_a = next(str(i["seqItem"]) for i in items if i["idSku"] == a)
    world.chain.handle.erp.separate(nro, cuts={seq_a: 2}, weights={})
    poll_erp_events(world)
    world.drain()
    assert [line["currentQuantity"] for line in world.order_doc(gid)["_lines"] if line["sku"] == a] == [2]
    before = len(edit_messages())
    world.chain.handle.erp.separate(nro, cuts={seq_a: 1}, weights={})  # picked again, not polled yet
    edit_in_shopify(world, gid, b, 2)
    world.drain()
    [waiting] = edit_messages()[before:]
    assert waiting.status == MessageStatus.RETRYING.value, (waiting.status, waiting.error_text)
    assert world.link(gid).needs_attention is None and changes_sent() == []
    poll_erp_events(world)  # the second picking reaches Shopify
    world.drain()
    order_edits.replay(waiting.id)
    note = world.link(gid).needs_attention
    assert f"({b} 1 -> 2)" in note and f"{a} " not in note, note
    rows = [(c.sku, c.kind, c.qty_before, c.qty_after, c.applied) for c in changes_sent()]
    assert rows == [(b, "qty", Decimal(1), Decimal(2), False)], rows


@pytest.mark.parametrize("weight", ["as ordered", "lighter", "heavier"])
def test_a_discount_on_a_weighed_line_after_its_picking_is_flagged_and_the_pickings_echo_is_not(
    world, weight: str
) -> None:
    """A weighed line's money is compared as Shopify shows its weighing (the lower of ordered and
    weighed): the picking's own echo is skipped, a discount a person adds since is flagged naming
    the line's value, not skipped as the echo (Shopify would charge less than the ERP invoices)."""
    weighed = world.sku(4)
    gid, nro = imported(world, skus=[(weighed, 2), (world.sku(0), 1)])
    item = next(i for i in world.chain.order(nro)["itens"] if i["idSku"] == weighed)
    kilos = {"as ordered": 1, "lighter": Decimal("0.9"), "heavier": Decimal("1.1")}[weight]
    world.chain.handle.erp.separate(
        nro, weights={str(item["seqItem"]): float(Decimal(item["qtdPedida"]) * kilos)}
    )
    poll_erp_events(world)
    world.drain()
    echoes = edit_messages()
    assert all(m.status == MessageStatus.SKIPPED.value for m in echoes), [m.error_text for m in echoes]
    assert world.link(gid).needs_attention is None

    discount_in_shopify(world, gid, weighed, Decimal("5.00"))
    world.drain()

    [flagged] = [m for m in edit_messages() if m not in echoes and m.status != MessageStatus.SKIPPED.value]
    assert flagged.status == MessageStatus.FAILED.value and "NOT applied in the ERP" in flagged.error_text
    assert f"{weighed} value R$" in flagged.error_text and "(price or discount changed)" in flagged.error_text
