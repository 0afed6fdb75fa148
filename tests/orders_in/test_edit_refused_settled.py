"""An edit the ERP refused (422, its own reason) fails and flags the order: "fix the cause and Retry,
or undo the edit in Shopify". When the person undoes it as told, or a later edit brings the ERP order
to Shopify's lines, the link's note is cleared and the refused message is settled (skipped): left
failed, it stayed in the failed queue as work to do, and, as an open order_edits message,
jobs.stock_pending kept holding the units it added out of Shopify's stock (the ERP never took them,
or took them since with the later edit: counted twice)."""

from __future__ import annotations

from decimal import Decimal

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import stock_pending
from ledger.db import session_scope
from ledger.models import MessageStatus
from sandbox.shopify.checkout import pay_balance
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported


def _refused(self, *args, **kwargs):
    raise ErpRejected(
        "Pedido bloqueado para alteração pelo usuário FULANO.", codigo="PEDIDO_BLOQUEADO", status=422
    )


def _held_units(world) -> dict[str, Decimal]:
    with session_scope() as session:
        held = stock_pending.edit_payloads(session, world.shop_id)
    units: dict[str, Decimal] = {}
    for payload in held.values():
        for line in payload["lines"]:
            units[line["sku"]] = units.get(line["sku"], Decimal(0)) + Decimal(line["quantity"])
    return units


def _refused_edit(world, monkeypatch):
    real = ErpClient.edit_order
    monkeypatch.setattr(ErpClient, "edit_order", _refused)
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3
    pay_balance(world.shopify.sandbox, world.name, gid)
    world.drain()
    [refused] = edit_messages()
    assert refused.status == MessageStatus.FAILED.value
    assert "NOT applied" in world.link(gid).needs_attention
    monkeypatch.setattr(ErpClient, "edit_order", real)  # the ERP takes edits again
    return gid, nro, refused


def test_a_refused_edit_undone_as_told_is_closed_and_holds_no_stock(world, monkeypatch):
    gid, nro, refused = _refused_edit(world, monkeypatch)
    edit_in_shopify(world, gid, world.sku(0), 2)  # undone, as the note says
    world.drain()
    assert world.link(gid).needs_attention is None  # the flag is gone ...
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 2
    statuses = {m.id: m.status for m in edit_messages()}
    held = _held_units(world)
    print(statuses, held)
    assert held.get(world.sku(0), Decimal(0)) == 0, f"stock still holds {held} for an edit undone"
    assert statuses[refused.id] != MessageStatus.FAILED.value, "refused edit left in the failed queue"


def test_a_refused_edit_carried_by_a_later_applied_edit_is_closed_and_holds_no_stock(world, monkeypatch):
    gid, nro, refused = _refused_edit(world, monkeypatch)
    edit_in_shopify(world, gid, world.sku(1), 2)  # a later edit: the ERP takes every current line
    pay_balance(world.shopify.sandbox, world.name, gid)
    world.drain()
    erp = {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}
    assert erp[world.sku(0)] == 3 and erp[world.sku(1)] == 2  # the ERP reserves the 3 now
    assert world.link(gid).needs_attention is None
    statuses = {m.id: m.status for m in edit_messages()}
    held = _held_units(world)
    print(statuses, held)
    assert held.get(world.sku(0), Decimal(0)) == 0, f"stock holds {held} the ERP already reserves"
    assert statuses[refused.id] != MessageStatus.FAILED.value, "refused edit left in the failed queue"
