"""A failed ERP event's note (jobs.order_events puts it from the refusal that failed the event)
reads in the merchant's language on the Orders page: the refusals the event flows raise carry their
words (shopify_app.note_words), which said in English are the refusal as written."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.nfe import InvalidNfeKey, check_digit, validate_key
from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.note_words import say_note

from .conftest import World, attention_notes

NFE_SP = "35240612345678000195550010000012341000012343"


def _said(words: Any, locale: str) -> str | None:
    key, params = words
    return say_note([{"key": key, "params": {k: _part(v) for k, v in params.items()}}], locale)


def _part(value: Any) -> Any:
    return {"key": value[0], "params": value[1]} if isinstance(value, tuple) else value


@pytest.mark.parametrize(
    ("key", "latest"),
    [
        (NFE_SP[:-1], None),
        ("A" + NFE_SP[1:], None),
        ("99" + NFE_SP[2:], None),
        (NFE_SP[:4] + "13" + NFE_SP[6:], None),
        (NFE_SP[:2] + "2803" + NFE_SP[6:], "2611"),
        (NFE_SP[:20] + "57" + NFE_SP[22:], None),
        (NFE_SP[:43] + str((check_digit(NFE_SP[:43]) + 1) % 10), None),
    ],
)
def test_every_key_rule_is_said_in_both_languages_as_the_rule_reads(key: str, latest: str | None) -> None:
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(key, latest_month=latest)
    words = raised.value.words
    assert words is not None
    assert _said(words, "en") == raised.value.rule
    pt = _said(words, "pt-BR")
    assert pt is not None and pt != raised.value.rule and "{" not in pt


def test_an_nfe_key_refused_fails_its_event_with_a_note_in_portuguese(world: World, orders_api: Any) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    body = document["chaveAcesso"][:2] + "2803" + document["chaveAcesso"][6:43]  # AAMM March 2028
    future = body + str(check_digit(body))
    world.erp_key(order.nro, future, event=False)
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(chaveAcesso=future))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status

    link = world.link(order.gid)
    [note] = order_notes.notes(link)
    assert note.event is not None and note.text.endswith(message.error_text or "?")
    assert say_note(order_notes.words_of(link)[note.label], "en") == message.error_text
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["event"] == note.event and pt["note"] == note.text  # the stored English line, as kept
    assert pt["text"] == (
        f"Chave da NF-e recusada: '{future}' viola a regra: AAMM 2803 é posterior ao mês atual "
        f"({pt['text'].rsplit('(', 1)[1]}"
    )
    assert "refused" not in pt["text"]
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == message.error_text


def test_a_key_of_another_document_fails_its_event_with_a_note_in_portuguese(
    world: World, orders_api: Any
) -> None:
    """NFE_KEY_MISMATCH (the key's series is not the document's): the failed event's note names
    the part and both values in pt-BR, and in en reads as the refusal as written."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    key = document["chaveAcesso"]
    series = int(key[22:25])
    body = key[:22] + f"{series + 7:03d}" + key[25:43]
    forged = body + str(check_digit(body))
    world.erp_key(order.nro, forged)
    world.poll()
    [message] = world.messages("invoices", order)
    assert (message.error_detail or {}).get("code") == "NFE_KEY_MISMATCH", message.error_detail

    link = world.link(order.gid)
    [note] = order_notes.notes(link)
    assert say_note(order_notes.words_of(link)[note.label], "en") == message.error_text
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["note"] == note.text, pt
    assert pt["text"].startswith(f"A chave da NF-e {forged} não é a chave do documento que o ERP descreve"), (
        pt
    )
    assert f"a série da chave ({series + 7}) difere do que o documento traz: {series}." in pt["text"], pt
    assert "disagrees" not in pt["text"]
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == message.error_text


def test_a_later_event_of_an_nfe_held_behind_its_parked_first_event_has_a_note_in_portuguese(
    world: World, orders_api: Any
) -> None:
    """EARLIER_EVENT_NOT_APPLIED (jobs.invoices: a tracking event of an NF-e whose first event is
    parked on a substitute Shopify lacks): the held event's note names the earlier event, its status,
    its failure (as that event's own note says it) and the way out, in pt-BR; in en, as written."""
    from sqlalchemy import delete

    from sandbox.consinco import tables as t

    original = world.plain(0)
    order = world.linked_order([(original, 1)], gateway="cartao", capture="manual")
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": unbound.ean, "qtd": 1}]
    )
    world.erp.invoice(order.nro, tracking=False)
    with world.erp.store.write() as (conn, _now):  # this ERP reports only the invoice
        events = t.mad_pedvendaevento
        conn.execute(delete(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
    world.poll()
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    first, later = world.messages("invoices", order)
    assert first.status == MessageStatus.PARKED.value, (first.status, first.error_text)
    assert (later.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED", later.error_text

    link = world.link(order.gid)
    [note] = [n for n in order_notes.notes(link) if n.text.endswith(later.error_text or "?")]
    assert say_note(order_notes.words_of(link)[note.label], "en") == later.error_text
    [pt] = [n for n in attention_notes(orders_api, link.id, "pt-BR") if n["event"] == note.event]
    assert pt["text"].startswith(f"retido: o evento nº {first.unit_key.split(':')[1]} da NF-e "), pt
    assert "aguardando um vínculo" in pt["text"] and "não está na Shopify" in pt["text"], pt
    assert "ainda captura a NF-e" in pt["text"] and "held" not in pt["text"], pt
    [en] = [n for n in attention_notes(orders_api, link.id, "en") if n["event"] == note.event]
    assert en["text"] == later.error_text


@pytest.mark.parametrize(
    ("words", "english"),
    [
        (
            ("event_order_gone", {"order": "gid://shopify/Order/9"}),
            "Shopify order gid://shopify/Order/9 does not exist",
        ),
        (
            (
                "picking_change_refused",
                {"sku": "789", "item": 3, "kind": ("kind_cut", {}), "message": "Invalid"},
            ),
            "SKU 789 (ERP line 3), cut: Invalid; nothing of this picking was applied in Shopify",
        ),
        (
            (
                "cancel_fulfillment_refused",
                {
                    "name": "#1001",
                    "by": ("fulfilled_at_invoicing", {}),
                    "fulfillment": "gid://shopify/Fulfillment/4",
                    "message": "No",
                },
            ),
            "Shopify cannot cancel order #1001: it was fulfilled at invoicing and cancelling fulfillment "
            "gid://shopify/Fulfillment/4 was refused (No). Cancel the fulfillment in the Shopify admin, then "
            "replay this message.",
        ),
        (
            (
                "event_held_behind",
                {
                    "seq": 7,
                    "flow": "order_edits",
                    "nro": 55,
                    "status": ("status_parked", {}),
                    "why": ("picking_substitute_unbound", {"sku": "789", "nro": 55}),
                },
            ),
            "held: event #7 (order_edits) of ERP order 55 is parked (substitute 789 of ERP order 55 is not "
            "in Shopify (no variant binding): publish the SKU, then the edit resumes); fix and replay it, "
            "then replay this event",
        ),
    ],
)
def test_refusals_nest_their_fragments_in_the_pages_language(words: Any, english: str) -> None:
    assert _said(words, "en") == english
    pt = _said(words, "pt-BR")
    assert pt is not None and pt != english and "{" not in pt
