"""The order link's notes (needs_attention) left by Shopify -> ERP edits, cancellations and invoices:
one per flow (ledger.order_notes), so none hides another when flows meet; when each is cleared, and
what it says."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs import inbox, order_events
from jobs.order_edits import to_erp as edits_to_erp
from jobs.worker import run_worker
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Shop, WebhookInbox
from sandbox.shopify.checkout import expire_authorizations, pay_balance
from shopify_app.admin_api import for_shop
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    discount_in_shopify,
    edit_in_shopify,
    imported,
    line_changes,
)


def inbox_ids(topic: str) -> list[int]:
    with session_scope() as session:
        query = select(WebhookInbox.id).where(WebhookInbox.topic == topic).order_by(WebhookInbox.id)
        return list(session.scalars(query))


def edit_messages() -> list[Message]:
    with session_scope() as session:
        query = select(Message).where(Message.flow == "order_edits").order_by(Message.id)
        return list(session.scalars(query))


def poll_erp_events(world) -> None:
    order_events.run(world.shop_id)
    run_worker(burst=True, simple=True, with_scheduler=False)


def test_an_edit_run_after_an_invoiced_cancellation_keeps_the_nfe_note(world):
    """Edited, then cancelled in Shopify after the ERP invoiced. Webhooks are not ordered: the
    cancellation's job runs first and notes "cancel the NF-e"; the edit's job, run after, is skipped
    (its Shopify order is cancelled) and never replaces that note with an edit's."""
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    edit_in_shopify(world, gid, world.sku(0), 3)
    cancel_in_shopify(world, gid)
    world.delivered()
    [cancelled], [edited] = inbox_ids("orders/cancelled"), inbox_ids("orders/edited")
    inbox.process(cancelled)
    note = world.link(gid).needs_attention
    assert note and "already invoiced" in note
    inbox.process(edited)
    assert world.link(gid).needs_attention == note
    [message] = edit_messages()
    assert message.status == MessageStatus.SKIPPED.value and "cancelled in Shopify" in message.error_text


def test_an_edit_flag_never_replaces_a_cancellations_note(world, monkeypatch):
    """Whatever the order's Shopify state, an edit that cannot apply leaves a cancellation's note:
    the edit's note goes beside it, and the cancellation's is read first."""
    from ledger.models import OrderLink

    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    note = "cancellations: NF-e 123 was cancelled in the ERP after invoicing"
    with session_scope() as session:
        session.get(OrderLink, world.link(gid).id).needs_attention = note
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    [message] = edit_messages()
    assert message.status == MessageStatus.FAILED.value and "NOT applied" in message.error_text
    first, edited = order_notes.notes(world.link(gid))
    assert first.text == note and edited.flow == "order_edits" and "NOT applied" in edited.text


def test_an_invoice_never_replaces_the_note_of_a_cancellation_sent_to_the_erp(world):
    """A Shopify cancellation the ERP refused (already invoiced) notes "cancel the NF-e"; the ERP's
    invoice event, applied after, must not replace that note with its own: whatever it notes goes
    beside it, and the cancellation's stays first."""
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)  # its F event not polled yet
    cancel_in_shopify(world, gid)
    world.drain()
    note = world.link(gid).needs_attention
    assert note and "already invoiced" in note
    poll_erp_events(world)
    first, *_ = order_notes.notes(world.link(gid))
    assert first.text == note


def expired_card_order(world) -> tuple[str, int]:
    """An order paid by card, captured by hand, imported; its authorisation lapses before the NF-e,
    so the invoice notes a capture problem ("expired uncaptured") for a person."""
    with session_scope() as session:  # an authorised card goes to the ERP at once
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "payment_confirmation": "authorized"}
    gid, nro = imported(world, gateway="cartao", capture="manual")
    expire_authorizations(world.shopify.sandbox, world.name, gid)
    world.drain()
    return gid, nro


def test_an_edit_not_applied_stays_beside_a_later_invoices_capture_warning(world):
    """Edited in Shopify once the ERP separated the order: "NOT applied in the ERP". The invoice
    that comes after has its own capture problem to tell; it is noted beside the edit's, not over
    it, or the person never learns of the edit the ERP does not have."""
    gid, nro = expired_card_order(world)
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    # beside the note that its authorisation lapsed while the ERP order is open (orders (payment))
    edited = order_notes.note_of(world.link(gid), "order_edits") or ""
    assert edited.startswith("order_edits: ") and "NOT applied" in edited, world.link(gid).needs_attention
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    note = world.link(gid).needs_attention or ""
    assert edited in note, note
    assert "invoices: " in note and "expired uncaptured" in note, note


def test_a_capture_warning_stays_beside_a_later_edit_not_applied_and_outlives_its_undo(world):
    """The invoice noted a capture problem; an edit made after invoicing is NOT applied (the NF-e
    stands) and notes so beside it. Undoing the edit as told clears the edit's note only: the
    capture problem still needs its person."""
    gid, nro = expired_card_order(world)
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    captured = world.link(gid).needs_attention or ""
    assert captured.startswith("invoices: ") and "expired uncaptured" in captured, captured
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)  # an item added after the NF-e (its lines are fulfilled)
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[world.sku(2)], 1)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    note = world.link(gid).needs_attention or ""
    assert captured in note and "order_edits: " in note and "NOT applied" in note, note
    edit_in_shopify(world, gid, world.sku(2), 0)  # undone, as the note says
    world.drain()
    assert edit_messages()[-1].status == MessageStatus.SKIPPED.value, edit_messages()[-1].error_text
    assert world.link(gid).needs_attention == captured


def test_undoing_a_flagged_edit_as_told_clears_the_flag(world):
    """An edit after separation is flagged "undo the edit in Shopify"; once undone Shopify matches
    the ERP again: the edit is skipped and its note cleared, or the order stays flagged for ever."""
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3: flagged
    world.drain()
    assert world.link(gid).needs_attention
    edit_in_shopify(world, gid, world.sku(0), 2)  # undone, as the note says
    world.drain()
    last = edit_messages()[-1]
    assert last.status == MessageStatus.SKIPPED.value, last.error_text
    assert "the change came from the ERP" not in last.error_text
    assert world.link(gid).needs_attention is None


def test_undoing_an_edit_that_left_no_item_clears_the_flag(world):
    """'... leave no item ... otherwise undo the edit': the undo is applied in the ERP (still
    editable), and the note it answered is cleared."""
    gid, _ = imported(world)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    for sku in (world.sku(0), world.sku(1)):
        line = edit.line_for_variant(world.variants[sku])
        client.order_edit_set_quantity(edit.calculated_order_id, line.id, 0)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    assert "leave no item" in (world.link(gid).needs_attention or "")
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[world.sku(0)], 1)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    last = edit_messages()[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert world.link(gid).needs_attention is None


def test_a_cancellation_sent_to_the_erp_clears_a_flagged_edits_note(world):
    """A flagged edit ("change the order in the ERP or undo the edit") is moot once the order is
    cancelled in Shopify and in the ERP: the cancellation clears the edit's note."""
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    assert world.link(gid).needs_attention
    cancel_in_shopify(world, gid)
    world.drain()
    link = world.link(gid)
    assert world.chain.order(nro)["situacaoPed"] == "C" and link.cancelled_at is not None
    assert link.needs_attention is None
    # and its failure is settled with it (left failed, it sat in the failed queue, its task moot)
    assert [m.status for m in edit_messages()] == [MessageStatus.SKIPPED.value]


def test_an_edit_of_an_order_the_erp_cancelled_is_skipped_not_flagged(world):
    """The ERP cancelled the order (its C event not polled yet) and then it is edited in Shopify:
    nothing to edit, and nothing for a person to pick; the ERP's cancellation reaches Shopify."""
    gid, nro = imported(world)
    world.chain.handle.erp.cancel(nro)
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    [message] = edit_messages()
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert f"ERP order {nro} is cancelled" in message.error_text
    poll_erp_events(world)
    link = world.link(gid)
    assert link.cancelled_at is not None and link.erp_status == "C"
    assert link.needs_attention is None


def test_an_edit_whose_erp_answer_was_lost_is_recorded_on_its_retry(world, monkeypatch):
    """The ERP applied the PUT but its answer was lost (a timeout); the retry finds the ERP already
    has the lines and skips, yet refreshes the link's total and records the line change the lost
    answer would have."""
    from erp.client import ErpClient
    from ledger.errors import Transient

    gid, nro = imported(world)
    old_total = world.link(gid).total
    real = ErpClient.edit_order

    def answer_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)  # the ERP takes the edit ...
        raise Transient("read timeout")  # ... and the app never hears back

    monkeypatch.setattr(ErpClient, "edit_order", answer_lost)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.delivered()
    [edited] = inbox_ids("orders/edited")
    with pytest.raises(Transient):  # RQ retries it
        inbox.process(edited)
    monkeypatch.setattr(ErpClient, "edit_order", real)
    [message] = edit_messages()
    assert edits_to_erp.replay(message.id) == "skipped"  # RQ's retry
    erp_total = Decimal(str(world.chain.order(nro)["vlrTotalPedido"]))
    assert erp_total != old_total and world.link(gid).total == erp_total
    [change] = line_changes()
    assert (change.kind, change.sku, change.qty_before, change.qty_after, change.applied) == (
        "qty",
        world.sku(0),
        Decimal(2),
        Decimal(3),
        True,
    )


def test_a_discount_only_edit_after_separation_names_the_money_change(world):
    """A discount keeps the quantities: the flag says the line's value in R$ before and after,
    not "2.0 -> 2"."""
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    before = next(i for i in world.chain.order(nro)["itens"] if i["idSku"] == world.sku(0))
    discount_in_shopify(world, gid, world.sku(0), Decimal("1.00"))
    world.drain()
    [message] = edit_messages()
    assert message.status == MessageStatus.FAILED.value
    value = Decimal(str(before["vlrTotalPedido"]))
    was, now = (f"R$ {v:.2f}".replace(".", ",") for v in (value, value - 2))
    assert f"value {was} -> {now} (price or discount changed)" in message.error_text, message.error_text
    assert "2.0" not in message.error_text


def test_undoing_a_flagged_edit_while_the_erps_picking_edit_failed_clears_only_that_flag(world, monkeypatch):
    """The ERP cut an item but its picking edit failed in Shopify (still as placed; that event's own
    note says so). An edit flagged then, undone as told, leaves Shopify as the ERP order was placed:
    skipped and its flag cleared, not flagged again "(no line change)"; the failed picking's note stays."""
    from jobs.order_edits import to_shopify
    from ledger.errors import Rejected

    gid, nro = imported(world, skus=[(world.sku(0), 3), (world.sku(1), 1)])

    def refused(unit):
        raise Rejected("picking edit refused by Shopify", system="shopify", code="TEST_REFUSED")

    monkeypatch.setattr(to_shopify, "_apply", refused)
    cuts = {str(i["seqItem"]): (1 if i["idSku"] == world.sku(0) else i["qtdPedida"])
            for i in world.chain.order(nro)["itens"]}  # fmt: skip
    world.chain.handle.erp.separate(nro, cuts=cuts, weights={})
    poll_erp_events(world)
    world.drain()
    edit_in_shopify(world, gid, world.sku(1), 2)  # 1 -> 2: flagged
    world.drain()
    assert "NOT applied" in (world.link(gid).needs_attention or "")

    edit_in_shopify(world, gid, world.sku(1), 1)  # undone, as the note says
    world.drain()

    last = edit_messages()[-1]
    assert last.status == MessageStatus.SKIPPED.value, last.error_text
    note = world.link(gid).needs_attention or ""
    assert "NOT applied" not in note and "no line change" not in note
    assert "picking edit refused by Shopify" in note  # the failed picking's own, for a person


def test_the_erps_echo_of_a_cancellation_made_in_shopify_keeping_the_money_flags_nothing(world) -> None:
    """A person cancels a paid Pix order in Shopify keeping the money (no refund: settled another way).
    The app cancels the ERP order; that cancellation's C event comes back: not told as "the ERP
    cancelled order #... before invoicing it ... check how the payment was settled" (false, and a
    flag on every such cancellation): the person chose in Shopify's own dialog."""
    import by_hand

    gid, nro = imported(world, gateway="pix")
    by_hand.cancel_in_shopify(world.domain, gid, refund=False)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    num = gid.rsplit("/", 1)[-1]
    assert world.message(gid, "cancellations", f"cancel:{num}").status == MessageStatus.DONE.value
    poll_erp_events(world)  # the C event of the app's own cancellation
    assert order_notes.note_of(world.link(gid), "cancellations") is None
    assert world.link(gid).needs_attention is None
