"""Shopify -> ERP cancellation of an order the link already shows invoiced (its NF-e applied: nfe_key,
erp_status F). The ERP's cancel endpoint is not public (docs: only the sandbox's is known), so the app
does not count on the ERP refusing it (409 PEDIDO_FATURADO): an ERP that took it would cancel an
order whose NF-e is valid, and the app would report success. The cancellation is flagged for a
person, in the words of PEDIDO_FATURADO, and the ERP receives no cancel call."""

from __future__ import annotations

from typing import Any

from erp.client import ErpClient
from jobs.cancellations import to_erp
from ledger import order_notes
from ledger.models import MessageStatus

from .conftest import World


def test_an_order_the_link_shows_invoiced_is_flagged_without_asking_the_erp_to_cancel(
    world: World, monkeypatch: Any
) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _total, invoiced = world.invoice(order)
    assert invoiced.status == MessageStatus.DONE.value, invoiced.error_text
    link = world.link(order.gid)
    assert link.nfe_key and link.erp_status == "F"

    asked: list[Any] = []
    real = ErpClient.cancel_order

    def cancel_order(self, nro, *args, **kwargs):  # an ERP that would take it: the app must not ask
        asked.append(nro)
        return real(self, nro, *args, **kwargs)

    monkeypatch.setattr(ErpClient, "cancel_order", cancel_order)
    assert to_erp.cancel_in_erp(world.shop_id, order.gid, "customer", name=link.shopify_order_name) == (
        MessageStatus.FAILED.value
    )
    assert asked == []
    assert world.erp.order(order.nro)["situacaoPed"] == "F"  # nothing changed in the ERP

    num = order.gid.rsplit("/", 1)[-1]
    [message] = _messages(world, num)
    assert message.error_class == "rejected" and message.error_detail["code"] == "PEDIDO_FATURADO"
    assert "already invoiced" in message.error_text and link.nfe_key in message.error_text
    assert message.error_detail["fail"]["key"] == "cancel_after_invoicing_money"
    note = order_notes.note_of(world.link(order.gid), "cancellations") or ""
    assert "already invoiced" in note and "cancel the NF-e in the ERP" in note, note


def _messages(world: World, num: str) -> list[Any]:
    from sqlalchemy import select

    from ledger.db import session_scope
    from ledger.models import Message

    with session_scope() as session:
        rows = list(
            session.scalars(
                select(Message).where(
                    Message.shop_id == world.shop_id,
                    Message.flow == "cancellations",
                    Message.unit_key == f"cancel:{num}",
                )
            )
        )
        for row in rows:
            session.expunge(row)
        return rows
