"""Shopify -> ERP edits and delivery addresses at the edges of what the ERP answers. An edit the ERP
did not refuse for a reason of its own (it refused the integration's login, it has no such order,
or the order could not be read again after a conflict) is noted as what happened, not as "the ERP
refused the edit". A delivery address of an order in a status the app does not know (R, W, P) is
sent, and the ERP's answer decides, as an edit's is (jobs.order_edits.to_erp.NOT_EDITABLE)."""

from __future__ import annotations

import dataclasses

import pytest

from erp.client import ErpClient
from erp.errors import AUTH, ErpAuthError, ErpRejected, ErpTransient
from jobs.order_edits import address
from jobs.order_edits import to_erp as edits_to_erp
from ledger import order_notes
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus
from ledger.trace import failed_flagged
from sandbox.shopify.checkout import pay_balance
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, edit_message, imported

# ---------------------------------------------------------------- edits: the ERP's answer


def _qty(world, nro: int) -> int:
    return {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)]


def test_an_edit_whose_erp_login_is_refused_says_so_and_waits_for_the_credentials(world, monkeypatch):
    def login_refused(self, *args, **kwargs):
        raise ErpAuthError("Usuário ou senha inválidos.", codigo="LOGIN_INVALIDO", status=401)

    real = ErpClient.edit_order
    monkeypatch.setattr(ErpClient, "edit_order", login_refused)
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail.get(AUTH) is True  # retried once the ERP connection is saved again
    with session_scope() as session:
        assert message.id in {m.id for m in failed_flagged(session, world.shop_id, AUTH)}
    note = world.link(gid).needs_attention
    assert note is not None and note.startswith(edits_to_erp.NOTE), note
    assert "refused the edit" not in note and "refused the app's login" in note, note
    assert "Setup" in note and "Usuário ou senha inválidos." in note, note
    monkeypatch.setattr(ErpClient, "edit_order", real)  # the credentials fixed
    assert edits_to_erp.replay(message.id) == "done"
    assert _qty(world, nro) == 3
    assert world.link(gid).needs_attention is None


def test_an_edit_of_an_erp_order_the_erp_does_not_have_says_so(world, monkeypatch):
    def not_found(self, nro, *args, **kwargs):
        raise ErpRejected(f"Pedido {nro} não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)

    monkeypatch.setattr(ErpClient, "edit_order", not_found)
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    assert edit_message(world, gid).status == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert note is not None and note.startswith(edits_to_erp.NOTE), note
    assert "refused the edit" not in note and f"has no order {nro}" in note, note
    assert "ERP connection" in note, note


def _conflict_then(monkeypatch, reread_error: Exception) -> None:
    """The PUT answers a 409 of the ERP's own wording; the order's status, read again after it,
    fails with `reread_error` (the first read, before the PUT, is the ERP's)."""
    real = ErpClient.get_order
    refused: list[int] = []

    def conflict(self, nro, *args, **kwargs):
        refused.append(nro)
        raise ErpRejected("Pedido bloqueado.", codigo="PEDIDO_BLOQUEADO", status=409)

    def reread(self, nro):
        if refused:
            raise reread_error
        return real(self, nro)

    monkeypatch.setattr(ErpClient, "edit_order", conflict)
    monkeypatch.setattr(ErpClient, "get_order", reread)


def test_a_conflict_whose_order_the_erp_no_longer_has_is_noted_as_not_found(world, monkeypatch):
    gid, nro = imported(world)
    gone = ErpRejected(f"Pedido {nro} não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)
    _conflict_then(monkeypatch, gone)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert note is not None and f"has no order {nro}" in note and "refused the edit" not in note, note


def test_a_conflict_whose_reread_login_is_refused_waits_for_the_credentials(world, monkeypatch):
    gid, _ = imported(world)
    _conflict_then(monkeypatch, ErpAuthError("Usuário ou senha inválidos.", codigo="LOGIN", status=401))
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail.get(AUTH) is True
    note = world.link(gid).needs_attention
    assert note is not None and "refused the app's login" in note and "refused the edit" not in note, note


def test_a_conflict_whose_order_cannot_be_read_again_is_retried(world, monkeypatch):
    """The ERP down for the status read again is transient (RQ retries), not a refusal noted."""
    gid, _ = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    _conflict_then(monkeypatch, ErpTransient("ERP timed out", status=503))
    with pytest.raises(Transient):
        edits_to_erp.apply_edit(world.shop_id, gid, "reread-down")
    message = edit_message(world, gid)
    assert message.status == MessageStatus.RETRYING.value, (message.status, message.error_text)
    assert world.link(gid).needs_attention is None


# ---------------------------------------------------------------- delivery address: the ERP decides


def _seen_as(monkeypatch, situacao: str) -> None:
    """The ERP reports the (released, L) order in a status some installations use."""
    real = ErpClient.get_order

    def read(self, nro):
        order = real(self, nro)
        return dataclasses.replace(order, situacao=situacao) if order.situacao == "L" else order

    monkeypatch.setattr(ErpClient, "get_order", read)


@pytest.mark.parametrize("situacao", ["R", "W", "P"])
def test_an_address_of_an_order_in_a_status_the_app_does_not_know_is_sent_for_the_erp_to_decide(
    world, monkeypatch, situacao
):
    gid, nro = imported(world)
    _seen_as(monkeypatch, situacao)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None


def test_an_address_the_erp_refuses_in_a_status_the_app_does_not_know_fails_with_its_words(
    world, monkeypatch
):
    """A 409 of the ERP's own wording, the status read again still W: the ERP refused it for a
    reason of its own, said in its words; not flagged "is in state W" with picking advice."""

    def refused(self, *args, **kwargs):
        raise ErpRejected("Pedido aguardando liberação de crédito.", codigo="PEDIDO_BLOQUEADO", status=409)

    gid, _ = imported(world)
    _seen_as(monkeypatch, "W")
    monkeypatch.setattr(ErpClient, "edit_order", refused)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert "Pedido aguardando liberação de crédito." in message.error_text, message.error_text
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None


def _address_note_in(world, gid: str, locale: str) -> str | None:
    from shopify_app.note_words import say_note

    link = world.link(gid)
    label = next(iter(k for k in order_notes.words_of(link) if "delivery address" in k), None)
    return say_note(order_notes.words_of(link)[label], locale) if label else None


def test_an_address_whose_erp_login_is_refused_is_noted_and_waits_for_the_credentials(world, monkeypatch):
    """As an edit's and a cancellation's: the ERP refused the app's login, so the order is noted
    (in the merchant's words), and the note goes once the credentials are fixed and it is sent."""

    def login_refused(self, *args, **kwargs):
        raise ErpAuthError("Usuário ou senha inválidos.", codigo="LOGIN_INVALIDO", status=401)

    gid, nro = imported(world)
    real = ErpClient.get_order
    monkeypatch.setattr(ErpClient, "get_order", login_refused)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and message.error_detail.get(AUTH) is True
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert note is not None and "refused the app's login" in note and f"ERP order {nro}" in note, note
    assert "Usuário ou senha inválidos." in note and "Setup" in note, note
    pt = _address_note_in(world, gid, "pt-BR")
    assert pt is not None and pt.startswith("O ERP recusou o login do app, então o endereço ou horário"), pt
    monkeypatch.setattr(ErpClient, "get_order", real)  # the credentials fixed
    assert address.replay(message.id) == "done"
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None


def test_an_address_of_an_erp_order_the_erp_does_not_have_is_noted(world, monkeypatch):
    def not_found(self, nro, *args, **kwargs):
        raise ErpRejected(f"Pedido {nro} não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)

    gid, nro = imported(world)
    monkeypatch.setattr(ErpClient, "get_order", not_found)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert note is not None and f"has no order {nro}" in note and "ERP connection" in note, note
    pt = _address_note_in(world, gid, "pt-BR")
    assert pt is not None and pt.startswith(
        f"O ERP respondeu que não tem o pedido {nro}, então o endereço"
    ), pt
