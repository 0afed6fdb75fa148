"""A failed ERP event's note about something Shopify refused (a userError: a capture, a fulfillment)
reads in the merchant's language on the Orders page: Shopify's own message stays as it came, the
sentence around it is said in pt-BR (shopify_refused); in en it is the refusal as written. So does
a later event of the NF-e held behind it (invoice_held_behind names the earlier failure as its note
says it)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.admin_api.client import AdminClient
from shopify_app.note_words import say_note

from .conftest import LinkedOrder, World, attention_notes

CAPTURE = AdminClient.order_capture
FULFIL = AdminClient.fulfillment_create


def _captured_by_hand_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person captures the whole authorisation in the Shopify admin while the job runs: the app's
    own orderCapture then reaches the sandbox, which refuses it (nothing left to capture)."""

    def racing(self: Any, order_id: str, parent: str, amount: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(AdminClient, "order_capture", CAPTURE)
        [authorization] = [a for a in _authorizations(self, order_id) if a.id == parent]
        CAPTURE(self, order_id, parent, authorization.unsettled, final_capture=True)
        return CAPTURE(self, order_id, parent, amount, **kwargs)

    monkeypatch.setattr(AdminClient, "order_capture", racing)


def _authorizations(client: Any, order_id: str) -> list[Any]:
    from shopify_app.admin_api.order_settlement import settlement

    state = settlement(client, order_id)
    assert state is not None
    return list(state.authorizations)


def _fulfilled_by_hand_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person fulfils the order in the Shopify admin while the job runs: the app's own
    fulfillmentCreate then reaches the sandbox, which refuses it (the fulfillment order is closed)."""

    def racing(self: Any, lines: dict[str, Any], **kwargs: Any) -> Any:
        monkeypatch.setattr(AdminClient, "fulfillment_create", FULFIL)
        FULFIL(self, dict.fromkeys(lines))
        return FULFIL(self, lines, **kwargs)

    monkeypatch.setattr(AdminClient, "fulfillment_create", racing)


def _refused_note(world: World, orders_api: Any, order: LinkedOrder, operation: str) -> dict[str, Any]:
    """The failed invoices event's note, checked as stored and in en; its pt-BR form."""
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert (message.error_text or "").startswith(f"{operation} rejected: "), message.error_text
    link = world.link(order.gid)
    [note] = [n for n in order_notes.notes(link) if n.event is not None]
    assert note.text.endswith(message.error_text or "?")
    assert say_note(order_notes.words_of(link)[note.label], "en") == message.error_text
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == message.error_text
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["note"] == note.text, pt  # the stored English line, as kept
    shopify_said = (message.error_text or "").removeprefix(f"{operation} rejected: ")
    assert pt["text"].endswith(f": {shopify_said}"), pt  # Shopify's own words, as they came
    assert "rejected" not in pt["text"], pt
    return pt


def test_a_capture_shopify_refused_fails_its_event_with_a_note_in_portuguese(
    world: World, orders_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    _captured_by_hand_first(monkeypatch)
    world.poll()
    pt = _refused_note(world, orders_api, order, "OrderCapture")
    assert pt["text"].startswith("A Shopify recusou a captura: "), pt


def test_a_fulfillment_shopify_refused_fails_its_event_with_a_note_in_portuguese(
    world: World, orders_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.invoice(order.nro, tracking=False)
    _fulfilled_by_hand_first(monkeypatch)
    world.poll()
    pt = _refused_note(world, orders_api, order, "FulfillmentCreate")
    assert pt["text"].startswith("A Shopify recusou o processamento: "), pt
    assert "unfulfillable status" in pt["text"], pt


def test_a_later_event_held_behind_a_refused_capture_has_a_note_in_portuguese(
    world: World, orders_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The carrier's tracking comes on a later event of the NF-e whose capture Shopify refused: the
    held event's note names that refusal as the earlier event's own note says it, in pt-BR."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    _captured_by_hand_first(monkeypatch)
    world.poll()
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    first, later = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, first.error_text
    assert (later.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED", later.error_text

    link = world.link(order.gid)
    [note] = [n for n in order_notes.notes(link) if n.text.endswith(later.error_text or "?")]
    assert say_note(order_notes.words_of(link)[note.label], "en") == later.error_text
    [pt] = [n for n in attention_notes(orders_api, link.id, "pt-BR") if n["event"] == note.event]
    assert pt["text"].startswith(f"retido: o evento nº {first.unit_key.split(':')[1]} da NF-e "), pt
    assert "A Shopify recusou a captura: " in pt["text"], pt
    assert "rejected" not in pt["text"] and "held" not in pt["text"], pt
    [en] = [n for n in attention_notes(orders_api, link.id, "en") if n["event"] == note.event]
    assert en["text"] == later.error_text


def test_a_capture_shopify_answered_with_a_4xx_fails_its_event_with_a_note_in_portuguese(
    world: World, orders_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request refused as a whole (HTTP 403: access removed) names no operation: the note says
    Shopify's answer as it came, the sentence around it in pt-BR."""
    from shopify_app.admin_api.transport import AdminTransport, RawResponse

    real = AdminTransport.send
    forbidden = RawResponse(403, None, None, None, "rid", None, text="Forbidden")

    def send(self: Any, op: Any, variables: Any, token: Any) -> Any:
        return forbidden if op.name == "OrderCapture" else real(self, op, variables, token)

    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    monkeypatch.setattr(AdminTransport, "send", send)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.error_text == "Shopify answered HTTP 403: Forbidden", message.error_text
    link = world.link(order.gid)
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == message.error_text
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["text"] == "A Shopify respondeu HTTP 403: Forbidden", pt
