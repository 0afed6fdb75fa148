"""The order link's note (needs_attention) left by Shopify -> ERP edits and cancellations: which note
wins when flows meet, when it is cleared, and what it says."""

from __future__ import annotations

from sqlalchemy import select

from jobs import inbox, order_events
from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, WebhookInbox
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    edit_in_shopify,
    imported,
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
    """Whatever the order's Shopify state, an edit that cannot apply leaves a cancellation's note."""
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
    assert world.link(gid).needs_attention == note


def test_an_invoice_never_replaces_the_note_of_a_cancellation_sent_to_the_erp(world):
    """A Shopify cancellation the ERP refused (already invoiced) notes "cancel the NF-e"; the ERP's
    invoice event, applied after, must not replace that note with its own (keeps_flag)."""
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)  # its F event not polled yet
    cancel_in_shopify(world, gid)
    world.drain()
    note = world.link(gid).needs_attention
    assert note and "already invoiced" in note
    poll_erp_events(world)
    assert world.link(gid).needs_attention == note
