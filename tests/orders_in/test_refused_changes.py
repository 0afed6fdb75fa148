"""An edit or a cancellation the ERP refuses for a reason of its own (not "too late"): the message
fails with the ERP's words and the order is flagged, so the Orders page does not show a live order
like any other; a Retry that goes through clears the flag."""

from __future__ import annotations

from decimal import Decimal

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs.cancellations import to_erp as cancels_to_erp
from jobs.order_edits import to_erp as edits_to_erp
from ledger.models import MessageStatus
from sandbox.shopify.checkout import pay_balance
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, edit_message, imported


def test_a_cancellation_the_erp_refuses_flags_the_order_until_a_retry_cancels_it(world, monkeypatch):
    def refused(self, nro, reason=None):
        raise ErpRejected(
            "Pedido com carga montada não pode ser cancelado.", codigo="PEDIDO_EM_CARGA", status=422
        )

    real = ErpClient.cancel_order
    monkeypatch.setattr(ErpClient, "cancel_order", refused)
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert message.status == MessageStatus.FAILED.value
    assert world.chain.order(nro)["situacaoPed"] != "C"  # the ERP would pick and invoice it
    note = world.link(gid).needs_attention
    assert note.startswith(cancels_to_erp.REFUSED_NOTE), note
    assert "Pedido com carga montada não pode ser cancelado." in note and "cancel it in the ERP" in note
    monkeypatch.setattr(ErpClient, "cancel_order", real)  # the cause fixed (the load undone)
    assert cancels_to_erp.replay(message.id) == "done"
    assert world.chain.order(nro)["situacaoPed"] == "C"
    assert world.link(gid).needs_attention is None


def test_an_edit_the_erp_refuses_flags_the_order_until_an_edit_applies(world, monkeypatch):
    def refused(self, *args, **kwargs):
        raise ErpRejected("Produto inativo para a empresa.", codigo="PRODUTO_INATIVO", status=422)

    real = ErpClient.edit_order
    monkeypatch.setattr(ErpClient, "edit_order", refused)
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert note.startswith(edits_to_erp.NOTE) and "Produto inativo para a empresa." in note, note
    assert "NOT applied in the ERP" in note and "undo the edit" in note
    monkeypatch.setattr(ErpClient, "edit_order", real)  # the product active again
    assert edits_to_erp.replay(message.id) == "done"
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 3
    assert world.link(gid).needs_attention is None


def test_an_applied_edit_keeps_the_erp_payments_equal_to_the_new_total(world):
    """The import makes the ERP's payment forms sum to the order's total; an edit that changes the
    total sends them again (formaPagtoDto), mapped by the same rule, so they still do."""

    def paid(order):
        return sum((Decimal(str(p["vlrPagto"])) for p in order["formasPagto"]), Decimal(0))

    gid, nro = imported(world)
    before = world.chain.order(nro)
    assert paid(before) == Decimal(str(before["vlrTotalPedido"]))
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3, before separation
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    after = world.chain.order(nro)
    assert Decimal(str(after["vlrTotalPedido"])) > Decimal(str(before["vlrTotalPedido"]))
    assert paid(after) == Decimal(str(after["vlrTotalPedido"])), after["formasPagto"]
    forms = [p["nroFormaPagto"] for p in after["formasPagto"]]
    assert forms == [p["nroFormaPagto"] for p in before["formasPagto"]]


def test_a_refused_cancellation_done_in_the_erp_by_hand_clears_the_flag_and_closes_it(world, monkeypatch):
    """The note said "cancel it in the ERP": once the merchant does, the ERP's cancellation event
    clears it and closes the failed message, instead of leaving a note saying the order is live."""
    from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events

    def refused(self, nro, reason=None):
        raise ErpRejected(
            "Pedido com carga montada não pode ser cancelado.", codigo="PEDIDO_EM_CARGA", status=422
        )

    monkeypatch.setattr(ErpClient, "cancel_order", refused)
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    unit = f"cancel:{gid.rsplit('/', 1)[-1]}"
    assert world.message(gid, "cancellations", unit).status == MessageStatus.FAILED.value
    assert world.link(gid).needs_attention.startswith(cancels_to_erp.REFUSED_NOTE)
    world.chain.handle.erp.cancel(nro)  # the merchant cancels it in the ERP, as told
    poll_erp_events(world)
    link = world.link(gid)
    assert link.erp_status == "C" and link.needs_attention is None
    closed = world.message(gid, "cancellations", unit)
    assert closed.status == MessageStatus.DONE.value and closed.response_payload["cancelled_in_erp"] is True
