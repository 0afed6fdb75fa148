"""The units Shopify edits add to an order in the ERP, as the stock flow holds them back
(jobs.stock_pending.edit_payloads), against the real edit flow: an order's open edits count once
(each is read against the ERP order, every open edit before it included), and a flagged edit undone
as its note said holds nothing any more (its flag closed with the note)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import order_map
from jobs.stock_pending import edit_payloads
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported


def _held(world, sku: str) -> Decimal:
    with session_scope() as session:
        held = edit_payloads(session, world.shop_id)
    lines = [line for payload in held.values() for line in payload["lines"] if line["sku"] == sku]
    return sum((Decimal(line["quantity"]) for line in lines), Decimal(0))


def test_two_refused_edits_of_one_order_hold_what_shopify_added_once(world, monkeypatch) -> None:
    """1 in the ERP; edited to 3, the ERP refuses (a final 422); edited again to 4, refused again:
    Shopify holds 3 more than the ERP, not 2 + 3."""
    gid, _nro = imported(world, gateway="pix", skus=[(world.sku(0), 1), (world.sku(1), 1)])
    monkeypatch.setattr(order_map, "is_ready", lambda *a, **k: True)  # the customer pays each edit

    def refused(self, *args, **kwargs):
        raise ErpRejected("cliente bloqueado", codigo="CLIENTE_BLOQUEADO", status=422)

    monkeypatch.setattr(ErpClient, "edit_order", refused)
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    edit_in_shopify(world, gid, world.sku(0), 4)
    world.drain()
    with session_scope() as session:
        failed = session.scalars(
            select(Message.id).where(
                Message.flow == "order_edits", Message.status == MessageStatus.FAILED.value
            )
        ).all()
    assert len(failed) == 2
    assert _held(world, world.sku(0)) == 3


def test_a_flagged_edit_undone_as_its_note_said_holds_nothing(world) -> None:
    """An edit after picking began (2 -> 3) is flagged: undo it in Shopify. The person undoes it
    (3 -> 2): the note goes, and so does the flag's message (settled), so its unit is no longer
    held back from sale."""
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()
    assert _held(world, world.sku(0)) == 1  # the flagged edit's unit: sold in Shopify, not in the ERP
    edit_in_shopify(world, gid, world.sku(0), 2)  # undone, as the note says
    world.drain()
    assert world.link(gid).needs_attention is None
    with session_scope() as session:
        edits = session.scalars(
            select(Message).where(Message.flow == "order_edits").order_by(Message.id)
        ).all()
        assert [m.status for m in edits] == [MessageStatus.SKIPPED.value] * 2
        assert (
            edits[0].error_text
            == f"settled: Shopify matches ERP order {nro} as picked again (message #{edits[1].id})"
        )
    assert _held(world, world.sku(0)) == 0
