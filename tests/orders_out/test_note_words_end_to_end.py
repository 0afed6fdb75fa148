"""A note a real job run leaves on an order reads in the merchant's language on the Orders page
(GET /api/orders/<id>?locale=pt-BR), and as the stored English text in English; the words the job
kept say in English exactly what it wrote (shopify_app.note_words mirrors the flows)."""

from __future__ import annotations

from typing import Any

from ledger import order_notes
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from shopify_app.note_words import say_note

from .conftest import World, attention_notes


def _words_say_the_text(world: World, gid: str, flow: str) -> str:
    """The note's words said in English are the note as written (its label aside)."""
    link = world.link(gid)
    [note] = [n for n in order_notes.notes(link) if n.flow == flow]
    parts = order_notes.words_of(link)[note.label]
    assert say_note(parts, "en") == note.text[len(note.label) + 1 :].lstrip()
    return note.text


def test_an_nfe_cancelled_in_the_erp_after_invoicing_reads_in_portuguese(
    world: World, orders_api: Any
) -> None:
    sku = world.plain(1)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        assert shop is not None
        shop.settings = {**(shop.settings or {}), "cancel_refund": False}
    order = world.linked_order([(sku, 2)], gateway="pix")
    erp_order = world.erp.invoice(order.nro)
    key = erp_order["documentosFiscais"][0]["chaveAcesso"]
    world.poll()
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text

    stored = _words_say_the_text(world, order.gid, "cancellations")
    link = world.link(order.gid)
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["flow"] == "cancellations" and pt["note"] == stored  # the stored English line, as kept
    assert pt["text"].startswith(f"a NF-e {key} foi cancelada no ERP depois do faturamento (evento nº ")
    assert "O pagamento foi mantido, como pede a configuração cancel_refund (desligada" in pt["text"]
    assert "was cancelled" not in pt["text"]
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == stored.removeprefix("cancellations: ")


def test_an_nfe_above_the_authorisation_reads_in_portuguese_with_its_money(
    world: World, orders_api: Any
) -> None:
    weighed = world.weighed()
    order = world.linked_order([(weighed, 1)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): 3.0})
    _total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    stored = _words_say_the_text(world, order.gid, "invoices")
    link = world.link(order.gid)
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["note"] == stored and pt["text"].startswith("a NF-e (total R$ ")
    assert (
        "do que o cliente pagou ou autorizou" in pt["text"] and "cobre a diferença ou absorva-a" in pt["text"]
    )

    with session_scope() as session:  # a row written before words were kept reads as its text
        row = session.get(type(link), link.id)
        assert row is not None
        row.attention_words = None
    [old] = attention_notes(orders_api, link.id, "pt-BR")
    assert old["text"] == stored.removeprefix("invoices: ")
