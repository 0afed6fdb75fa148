"""Two refunds of an invoiced order, one unit each: each flag names the order's lines as Shopify
holds them against what the ERP served, so the later one names both units; the earlier one is
closed as superseded, and one open message says what to return (not 1 + 2 units for 2 refunded)."""

from __future__ import annotations

from sqlalchemy import select

from jobs import order_edits
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from tests.orders_in.test_edits_and_cancels import imported, refund_items_in_shopify


def test_a_second_refund_after_invoicing_supersedes_the_first_ones_flag(world) -> None:
    a = world.sku(0)
    gid, nro = imported(world, skus=[(a, 3), (world.sku(1), 1)])
    world.chain.handle.erp.invoice(nro)
    order_edits.on_refund(refund_items_in_shopify(world, gid, a, 1, refund_id=91))
    order_edits.on_refund(refund_items_in_shopify(world, gid, a, 1, refund_id=92))
    with session_scope() as session:
        flags = {
            m.unit_key: m
            for m in session.scalars(select(Message).where(Message.unit_key.like("edit:refund-%")))
        }
        session.expunge_all()
    first, second = flags["edit:refund-91"], flags["edit:refund-92"]
    assert second.status == MessageStatus.FAILED.value and "3 -> 1" in (second.error_text or "")
    assert first.status == MessageStatus.SKIPPED.value
    assert f"superseded by message #{second.id}" in (first.error_text or "")
    assert "3 -> 1" in (world.link(gid).needs_attention or "")
