"""A fulfillment order on hold at invoicing: the message ends done and the order says to release the
hold and Replay the NF-e's message (Retry is for a message not done). The replay fulfils the goods,
sends the tracking, and clears the note that no longer describes the order; a note of the NF-e's
money stays (a replay of an NF-e applied already does not look at its money again)."""

from __future__ import annotations

from jobs import invoices
from ledger.models import MessageStatus
from orders_out.conftest import World
from orders_out.test_picking_and_invoice import _fulfillment_orders_status


def test_a_hold_released_then_the_nfe_replayed_fulfils_and_clears_the_on_hold_note(world: World) -> None:
    held = world.linked_order([(world.plain(1), 1)], gateway="cartao", capture="manual")
    _fulfillment_orders_status(world, held.gid, "ON_HOLD")
    _total, message = world.invoice(held)
    assert message.status == MessageStatus.DONE.value, message.error_text
    note = world.link(held.gid).needs_attention or ""
    assert "on hold" in note and "then Replay this NF-e's message" in note, note

    _fulfillment_orders_status(world, held.gid, "OPEN")  # the merchant releases the hold
    assert invoices.replay(message.id) == MessageStatus.DONE.value

    assert [line["_fulfilled"] for line in world.order_doc(held.gid)["_lines"]] == [1]
    [made] = world.order_doc(held.gid)["_fulfillments"]
    assert made["_trackingInfo"], "the replay's fulfillment carries the ERP's tracking"
    assert world.link(held.gid).needs_attention is None


def test_a_replay_still_on_hold_keeps_the_note(world: World) -> None:
    held = world.linked_order([(world.plain(1), 1)], gateway="cartao", capture="manual")
    _fulfillment_orders_status(world, held.gid, "ON_HOLD")
    _total, message = world.invoice(held)
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    assert "on hold" in (world.link(held.gid).needs_attention or "")
