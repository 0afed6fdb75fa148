"""The "ERP number unknown" note (jobs.cancellations.to_erp._unsure) says why posting the order again
failed in the merchant's language: the ERP's own text when the ERP refused it, a catalogue fragment
otherwise, never the app's English."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from jobs.cancellations import to_erp
from ledger import order_notes
from ledger.models import Message, MessageStatus, OrderLink
from shopify_app.note_words import say_note


def unsure(monkeypatch: pytest.MonkeyPatch, orders_message: Message | None) -> tuple[OrderLink, Any]:
    """The note left on a link whose order's orders message is `orders_message`, and the failure the
    cancellation's message records."""
    failed: list[Any] = []
    monkeypatch.setattr(to_erp, "_orders_message", lambda *a, **k: orders_message)
    monkeypatch.setattr(to_erp.trace, "fail", lambda s, m, exc: failed.append(exc) or MessageStatus.FAILED)
    link = OrderLink(shop_id=1, shopify_order_id="gid://shopify/Order/77", shopify_order_name="#1077")
    to_erp._unsure(None, 1, "77", link, SimpleNamespace())
    return link, failed[0]


def said(link: OrderLink, locale: str) -> str:
    parts = order_notes.words_of_note(link, to_erp.FLOW)
    text = say_note([order_notes._stored(p) for p in parts or []], locale)
    assert text is not None, parts
    return text


def orders_message(text: str | None, detail: dict[str, Any] | None, status=MessageStatus.FAILED) -> Message:
    return Message(shop_id=1, flow="orders", unit_key="order:77", status=status.value, error_text=text,
                   error_detail=detail)  # fmt: skip


def test_no_reason_recorded_is_said_in_portuguese(monkeypatch):
    link, _ = unsure(monkeypatch, None)
    assert "nenhum motivo registrado" in said(link, "pt-BR")
    assert "no reason recorded" not in said(link, "pt-BR")
    assert "(no reason recorded)" in said(link, "en")


def test_the_erps_refusal_is_said_in_its_own_words(monkeypatch):
    refused = {"system": "consinco", "code": "CLIENTE_BLOQUEADO", "status": 422, "endpoint": "/PedidoVenda"}
    link, failure = unsure(monkeypatch, orders_message("cliente bloqueado", refused))
    assert "falhou (cliente bloqueado)" in said(link, "pt-BR")
    assert "failed (cliente bloqueado)" in said(link, "en")
    assert "cliente bloqueado" in failure.message


def test_the_apps_english_reason_stays_out_of_the_portuguese_note(monkeypatch):
    """An app failure with no words (an invalid CPF, a missing mapping, a bug): the note points at the
    order's message, which keeps the reason; the cancellation's message still says it in English."""
    reason = "CPF/CNPJ '(empty)' is invalid: missing"
    link, failure = unsure(monkeypatch, orders_message(reason, {"system": "app", "code": "INVALID_TAX_ID"}))
    assert reason not in said(link, "pt-BR")
    assert "mensagem do pedido" in said(link, "pt-BR")
    assert reason not in (order_notes.note_of(link, to_erp.FLOW) or "")
    assert reason in failure.message


def test_a_cancellation_of_an_order_handled_by_hand_fails_in_portuguese(monkeypatch):
    """Its import closed as handled outside the app, no ERP order linked: the failure asks a person
    in the merchant's language, the person's note as they wrote it."""
    failed: list[Any] = []
    monkeypatch.setattr(to_erp.trace, "fail", lambda s, m, exc: failed.append(exc) or MessageStatus.FAILED)
    link = OrderLink(shop_id=1, shopify_order_id="gid://shopify/Order/77", shopify_order_name="#1077")
    to_erp._handled_by_hand(None, link, SimpleNamespace(), link.shopify_order_id, {"note": "lançado à mão"})
    [failure] = failed
    assert failure.code == "CANCEL_HANDLED_BY_HAND" and failure.words is not None
    key, params = failure.words
    pt = say_note([{"key": key, "params": params}], "pt-BR")
    assert pt and "#1077" in pt and '"lançado à mão"' in pt and "cancele-o lá" in pt, pt
    assert say_note([{"key": key, "params": params}], "en") == failure.message


def test_the_unsure_failure_says_it_in_the_notes_words(monkeypatch):
    refused = {"system": "consinco", "code": "CLIENTE_BLOQUEADO", "status": 422, "endpoint": "/PedidoVenda"}
    _, failure = unsure(monkeypatch, orders_message("cliente bloqueado", refused))
    assert failure.words is not None and failure.words[0] == "cancel_erp_number_unknown"
    pt = say_note([order_notes._stored(failure.words)], "pt-BR")
    assert pt and "falhou (cliente bloqueado)" in pt, pt
