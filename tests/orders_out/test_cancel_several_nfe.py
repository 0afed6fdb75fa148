"""Cancellations of an order invoiced in two NF-e (partial invoicing): each NF-e is its own document
at SEFAZ, so whatever a person reads of the cancellation names every key of the order, not only
the latest one (the link's nfe_key, the C event's document) — the ERP cancelling the order after
invoicing (ERP -> Shopify) and Shopify cancelling it (Shopify -> ERP: each NF-e to cancel by hand)."""

from __future__ import annotations

from typing import Any

from jobs.cancellations import to_erp
from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.note_words import say_note

from .conftest import World
from .test_cancel_invoiced_link import _messages
from .test_invoice_documents import _another_nfe, _first_part_invoiced, _kept_keys, _nfe_of_item


def _invoiced_twice(world: World) -> tuple[Any, list[str]]:
    """An order of (a x2, b x1) invoiced in two NF-e, both applied: (order, their keys in order)."""
    order, items, _part_a, first = _first_part_invoiced(world)
    second, _part_b = _nfe_of_item(world, order, items, world.plain(1))
    keys = [first.response_payload["key"], second.response_payload["key"]]
    assert keys[0] != keys[1] and _kept_keys(world, order.gid) == keys
    assert world.link(order.gid).nfe_key == keys[1]
    return order, keys


def test_an_erp_cancellation_of_an_order_of_two_nfe_names_both_keys(world: World) -> None:
    order, keys = _invoiced_twice(world)
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    # The order's NF-e are cancelled with it: the one status the order shows says so, and the
    # list of its keys stays as it was (which documents they were).
    assert state.cancelled_at and state.nfe["status"] == "cancelada" and "NF-e cancelada" in state.tags
    assert _kept_keys(world, order.gid) == keys
    link = world.link(order.gid)
    note = order_notes.note_of(link, "cancellations") or ""
    assert all(key in note for key in keys), note
    assert "cancelled in the ERP after invoicing" in note, note
    [said_pt] = [say_note(p, "pt-BR") for p in order_notes.words_of(link).values()]
    [said_en] = [say_note(p, "en") for p in order_notes.words_of(link).values()]
    assert said_pt and all(key in said_pt for key in keys) and "canceladas no ERP" in said_pt, said_pt
    assert said_en and all(key in said_en for key in keys), said_en
    assert said_en == note.removeprefix("cancellations: "), (said_en, note)


def test_a_shopify_cancellation_of_an_order_of_two_nfe_names_both_keys_to_cancel(world: World) -> None:
    order, keys = _invoiced_twice(world)
    link = world.link(order.gid)
    assert to_erp.cancel_in_erp(world.shop_id, order.gid, "customer", name=link.shopify_order_name) == (
        MessageStatus.FAILED.value
    )
    [message] = _messages(world, order.gid.rsplit("/", 1)[-1])
    assert message.error_detail["code"] == "PEDIDO_FATURADO"
    assert all(key in message.error_text for key in keys), message.error_text
    note = order_notes.note_of(world.link(order.gid), "cancellations") or ""
    assert all(key in note for key in keys), note
    [said_pt] = [say_note(p, "pt-BR") for p in order_notes.words_of(world.link(order.gid)).values()]
    [said_en] = [say_note(p, "en") for p in order_notes.words_of(world.link(order.gid)).values()]
    assert said_pt and all(key in said_pt for key in keys) and "cancelar cada NF-e" in said_pt, said_pt
    assert said_en == note.removeprefix("cancellations: "), (said_en, note)


def test_a_shopify_cancellation_after_a_reissue_names_only_the_valid_nfe(world: World) -> None:
    """NF-e A cancelled by the ERP and re-issued as A': A is cancelled at SEFAZ already, so the note
    names A' alone, in the one-NF-e words as before."""
    order, items, part_a, first = _first_part_invoiced(world)
    reissued = _another_nfe(
        world, order.nro, part_a, items=[items[world.plain(0)]["seqItem"]], cancel_first=True
    )
    world.poll()
    assert _kept_keys(world, order.gid) == [reissued]
    link = world.link(order.gid)
    to_erp.cancel_in_erp(world.shop_id, order.gid, "customer", name=link.shopify_order_name)
    [message] = _messages(world, order.gid.rsplit("/", 1)[-1])
    assert reissued in message.error_text and first.response_payload["key"] not in message.error_text
    assert message.error_detail["fail"]["key"] == "cancel_after_invoicing_money"
    assert "must cancel the NF-e in the ERP" in message.error_text, message.error_text


def test_the_erp_cancellation_names_the_events_nfe_beside_the_ones_the_order_keeps() -> None:
    """Pure: the keys the order keeps (nfe.chaves; an order invoiced before the list was kept: its one
    nfe.chave) and the C event's own when it is not among them, compared as keys (a mask, a case)."""
    from types import SimpleNamespace

    from jobs.cancellations.to_shopify import nfe_keys

    a, b = "3" * 44, "4" * 44
    kept = SimpleNamespace(nfe={"chaves": f'["{a}", "{b}"]', "chave": b})
    assert nfe_keys(kept, b) == [a, b] and nfe_keys(kept, None) == [a, b]
    assert nfe_keys(kept, f"{b[:22]} {b[22:]}") == [a, b]  # the same NF-e, masked
    assert nfe_keys(SimpleNamespace(nfe={"chave": a}), b) == [a, b]
    assert nfe_keys(SimpleNamespace(nfe={}), b) == [b] and nfe_keys(SimpleNamespace(nfe={}), None) == []
