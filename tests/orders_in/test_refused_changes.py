"""An edit or a cancellation the ERP refuses for a reason of its own (not "too late"): the message
fails with the ERP's words and the order is flagged, so the Orders page does not show a live order
like any other; a Retry that goes through clears the flag."""

from __future__ import annotations

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs.cancellations import to_erp as cancels_to_erp
from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, imported


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
