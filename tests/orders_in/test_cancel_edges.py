"""Shopify -> ERP cancellations and edits at the edges of what the ERP answers. A cancellation the
ERP did not refuse for a reason of its own (it has no such order, it refused the integration's
login, or the order could not be read again after a conflict) is noted as what happened, not as
"the ERP order is still live". An edit of an order in a status the app does not know is sent, and
the ERP's answer decides."""

from __future__ import annotations

import dataclasses

import pytest

from erp.client import ErpClient
from erp.errors import AUTH, ErpAuthError, ErpRejected, ErpTransient
from jobs.cancellations import to_erp as cancels_to_erp
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus
from ledger.trace import failed_flagged
from sandbox.shopify.checkout import pay_balance
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, edit_message, imported


def _cancel_message(world, gid: str):
    return world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")


def test_a_cancellation_of_an_erp_order_the_erp_does_not_have_does_not_say_it_is_live(world, monkeypatch):
    def not_found(self, nro, reason=None):
        raise ErpRejected(f"Pedido {nro} não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)

    real = ErpClient.cancel_order
    monkeypatch.setattr(ErpClient, "cancel_order", not_found)
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    message = _cancel_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert note.startswith(cancels_to_erp.NOT_FOUND_NOTE), note
    assert "still live" not in note and "refused to cancel" not in note, note
    assert f"has no order {nro}" in note and "ERP connection" in note, note
    monkeypatch.setattr(ErpClient, "cancel_order", real)  # the address fixed: the ERP finds it
    assert cancels_to_erp.replay(message.id) == "done"
    assert world.link(gid).needs_attention is None


def test_a_cancellation_whose_erp_login_is_refused_says_so_and_waits_for_the_credentials(world, monkeypatch):
    def login_refused(self, nro, reason=None):
        raise ErpAuthError("Usuário ou senha inválidos.", codigo="LOGIN_INVALIDO", status=401)

    real = ErpClient.cancel_order
    monkeypatch.setattr(ErpClient, "cancel_order", login_refused)
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    message = _cancel_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail.get(AUTH) is True  # retried once the ERP connection is saved again
    with session_scope() as session:
        assert message.id in {m.id for m in failed_flagged(session, world.shop_id, AUTH)}
    note = world.link(gid).needs_attention
    assert note.startswith(cancels_to_erp.LOGIN_NOTE), note
    assert "refused to cancel" not in note and "login" in note, note
    monkeypatch.setattr(ErpClient, "cancel_order", real)  # the credentials fixed
    assert cancels_to_erp.replay(message.id) == "done"
    assert world.chain.order(nro)["situacaoPed"] == "C"
    assert world.link(gid).needs_attention is None


def test_a_conflict_whose_order_cannot_be_read_again_is_retried(world, monkeypatch):
    """A 409 of the ERP's own wording is read by the order's status, read again; the ERP down for
    that read is transient (RQ retries), not a failure with no word on the order."""

    def conflict(self, nro, reason=None):
        raise ErpRejected("Pedido bloqueado.", codigo="PEDIDO_BLOQUEADO", status=409)

    def down(self, nro):
        raise ErpTransient("ERP timed out", status=503)

    gid, _ = imported(world)
    monkeypatch.setattr(ErpClient, "cancel_order", conflict)
    monkeypatch.setattr(ErpClient, "get_order", down)
    with pytest.raises(Transient):
        cancels_to_erp.cancel_in_erp(world.shop_id, gid, "customer")
    message = _cancel_message(world, gid)
    assert message.status == MessageStatus.RETRYING.value, (message.status, message.error_text)


def test_a_conflict_whose_order_the_erp_no_longer_has_is_noted_as_not_found(world, monkeypatch):
    def conflict(self, nro, reason=None):
        raise ErpRejected("Pedido bloqueado.", codigo="PEDIDO_BLOQUEADO", status=409)

    def gone(self, nro):
        raise ErpRejected(f"Pedido {nro} não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)

    gid, _ = imported(world)
    monkeypatch.setattr(ErpClient, "cancel_order", conflict)
    monkeypatch.setattr(ErpClient, "get_order", gone)
    assert cancels_to_erp.cancel_in_erp(world.shop_id, gid, "customer") == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert note is not None and note.startswith(cancels_to_erp.NOT_FOUND_NOTE), note


def test_an_edit_of_an_order_in_a_status_the_app_does_not_know_is_sent_for_the_erp_to_decide(
    world, monkeypatch
):
    """SITUACAOPED R is grouped with L (released) by some installations; W and P appear without
    explanation (shared reference). Only S/F/C are known to take no edit: in any other status the
    edit is sent, and the ERP's answer decides, instead of flagging it "is in state R"."""
    real = ErpClient.get_order

    def released_as_r(self, nro):
        order = real(self, nro)
        return dataclasses.replace(order, situacao="R") if order.situacao == "L" else order

    monkeypatch.setattr(ErpClient, "get_order", released_as_r)
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 3
    assert world.link(gid).needs_attention is None


def test_an_edit_the_erp_refuses_in_a_status_the_app_does_not_know_is_flagged_with_its_words(
    world, monkeypatch
):
    """Sent in an unknown status (W), the ERP's refusal decides: a 409 of its own wording, the status
    read again still W, is the ERP refusing the edit for a reason of its own, said in its words."""
    real = ErpClient.get_order

    def waiting(self, nro):
        order = real(self, nro)
        return dataclasses.replace(order, situacao="W") if order.situacao == "L" else order

    def refused(self, *args, **kwargs):
        raise ErpRejected("Pedido aguardando liberação de crédito.", codigo="PEDIDO_BLOQUEADO", status=409)

    monkeypatch.setattr(ErpClient, "get_order", waiting)
    monkeypatch.setattr(ErpClient, "edit_order", refused)
    gid, _ = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "Pedido aguardando liberação de crédito." in note and "is in state W" not in note, note
