"""An invoice's note built from several parts (jobs.invoice_capture: a one-capture authorisation
closed with more NF-e to come and money left authorised, an NF-e above what was authorised and
above Shopify's total, a refused capture with another authorisation left open, a refund owed with
tips and gift cards) keeps words that say, part for part, what its English text says: each part
said in English is the next piece of the stored line, and said in pt-BR it names the same amounts
and ids, in Portuguese. Before, a second part of the money's note lost the "invoices: " its text
repeats, so the words said in English told less than the line."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from jobs.invoice_capture import Capture, capture
from ledger import order_notes
from ledger.models import MessageStatus, OrderLink
from shopify_app.admin_api.order_settlement import Authorization, Settlement
from shopify_app.admin_api.results import Money
from shopify_app.note_words import say_note
from shopify_app.words import money

from .conftest import World, attention_notes
from .test_invoice_documents import _first_part_in_the_erp
from .test_picking_and_invoice import _fulfillment_orders_status

D = Decimal
ORDER = "gid://shopify/Order/1"


def _state(*authorizations: Authorization, paid: str = "0", **more: Any) -> Settlement:
    return Settlement(
        id=ORDER, name="#1001", cancelled_at=None, financial_status=None, fulfillment_status=None,
        tags=[], current_total=None, currency="BRL",
        total_capturable=sum((a.unsettled for a in authorizations), D(0)),
        authorizations=list(authorizations), paid=D(paid), nfe={}, **more,
    )  # fmt: skip


def _auth(name: str, amount: str, *, one_capture: bool = False) -> Authorization:
    return Authorization(name, D(amount), D(amount), True, D(0), multi_capturable=not one_capture)


def _answering(*statuses: str) -> SimpleNamespace:
    """A client whose orderCaptures answer `statuses` in turn (a refusal as PROCESSING_ERROR)."""
    answers = iter(statuses)

    def order_capture(order_id: str, authorization_id: str, amount: Decimal, **options: object) -> object:
        status = next(answers)
        return SimpleNamespace(id=f"c-{authorization_id}", status=status, kind="CAPTURE",
                               amount=Money(amount, "BRL"), parent_id=authorization_id,
                               error_code=None if status == "SUCCESS" else "PROCESSING_ERROR",
                               order_financial_status=None)  # fmt: skip

    return SimpleNamespace(order_capture=order_capture, transaction_void=lambda _id: "SUCCESS")


def _amounts(value: Any) -> list[str]:
    """The money params of a stored part, nested parts' too."""
    if isinstance(value, dict) and "money" in value:
        return [str(value["money"])]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _amounts(v)]
    if isinstance(value, list):
        return [a for v in value for a in _amounts(v)]
    return []


def _told(told: Capture) -> OrderLink:
    """The note `told` leaves on an order link, with its words, as jobs.invoices puts it."""
    assert told.attention is not None and told.words, told
    link = OrderLink(needs_attention=None, attention_words=None)
    order_notes.put(link, "invoices", told.attention, words=list(told.words))
    return link


def _said_part_for_part(link: OrderLink, count: int) -> list[str]:
    """The note's `count` parts said in English are its stored line, piece by piece; said in pt-BR
    each is Portuguese naming the same amounts (as pt-BR writes money). The pt-BR parts."""
    [note] = order_notes.notes(link)
    parts = order_notes.words_of(link)[note.label]
    assert len(parts) == count, parts
    line = note.text.removeprefix("invoices: ")
    portuguese = []
    for at, part in enumerate(parts):
        en, pt = say_note([part], "en"), say_note([part], "pt-BR")
        assert en is not None and pt is not None, part
        assert line.startswith(en), (at, en, line)
        line = line[len(en) :]
        if at < count - 1:
            assert line.startswith("; "), (at, line)
            line = line[2:]
        assert pt != en and "{" not in pt, pt
        for amount in _amounts(part):
            assert amount in en and money(amount, "pt-BR") in pt, (amount, pt)
        portuguese.append(pt)
    assert line == "", line
    assert say_note(parts, "en") == note.text.removeprefix("invoices: ")
    return portuguese


def test_a_one_capture_authorisation_closed_with_money_left_on_another_card_says_both_parts() -> None:
    """The first of two NF-e: its capture closes a one-capture authorisation (the rest released, for
    a person) and another card's authorisation stays open for the next NF-e (named too)."""
    state = _state(_auth("a0", "100.00", one_capture=True), _auth("a1", "50.00"))
    told = capture(_answering("SUCCESS"), ORDER, D("60.00"), state, final=False)  # type: ignore[arg-type]
    link = _told(told)
    note = order_notes.note_of(link, "invoices") or ""
    assert note.count("invoices: ") == 2, note
    closed, waiting = _said_part_for_part(link, 2)
    assert "uma só captura" in closed and "R$ 40,00" in closed, closed
    assert waiting.startswith("R$ 50,00 segue autorizado"), waiting
    assert "invoices" not in closed + waiting


def test_an_nfe_above_the_authorisation_and_above_shopifys_total_says_both_parts() -> None:
    """What no authorisation held is not charged, and what one held above Shopify's order total is
    not captured: two parts, each naming its amount."""
    state = dataclasses.replace(_state(_auth("a0", "100.00")), current_total=D("90.00"))
    told = capture(_answering("SUCCESS"), ORDER, D("120.00"), state)  # type: ignore[arg-type]
    link = _told(told)
    above_authorised, above_total = _said_part_for_part(link, 2)
    assert "R$ 20,00 não foi cobrado" in above_authorised, above_authorised
    assert "R$ 10,00 do total do pedido na Shopify, R$ 90,00" in above_total, above_total


def test_a_refused_capture_with_another_authorisation_left_open_says_both_parts() -> None:
    state = _state(_auth("a0", "60.00"), _auth("a1", "50.00"))
    told = capture(_answering("FAILURE"), ORDER, D("60.00"), state)  # type: ignore[arg-type]
    link = _told(told)
    refused, left_open = _said_part_for_part(link, 2)
    assert "o gateway recusou a captura de R$ 60,00" in refused, refused
    assert left_open.startswith("a autorização a1 ainda tem R$ 50,00, em aberto"), left_open


def test_two_refusals_then_the_part_above_shopifys_total_say_every_part() -> None:
    """Several refusals inside one part (joined), then the part above Shopify's total."""
    refused = dataclasses.replace(_auth("a0", "40.00"), refused=((D("40.00"), "CARD_DECLINED"),),
                                  capturable=False)  # fmt: skip
    state = dataclasses.replace(_state(refused, _auth("a1", "100.00")), current_total=D("70.00"))
    told = capture(_answering("FAILURE"), ORDER, D("100.00"), state)  # type: ignore[arg-type]
    link = _told(told)
    both, above_total = _said_part_for_part(link, 2)
    assert both.count("o gateway recusou") == 2 and "CARD_DECLINED" in both, both
    assert "passa R$ 30,00 do total do pedido" in above_total, above_total


def test_a_refund_owed_with_tips_and_gift_cards_says_its_part() -> None:
    state = _state(paid="130.00", tips=D("5.00"), gift_cards=D("10.00"))
    told = capture(_answering(), ORDER, D("100.00"), state, count=2)  # type: ignore[arg-type]
    link = _told(told)
    [owed] = _said_part_for_part(link, 1)
    assert owed == (
        "R$ 130,00 foi recebido por 2 NF-e de R$ 100,00 e R$ 5,00 de gorjeta e R$ 10,00 em vales-presente "
        "vendidos: reembolse R$ 15,00 ao cliente"
    )


@pytest.mark.parametrize("final", [True, False])
def test_a_capture_that_leaves_no_note_keeps_no_words(final: bool) -> None:
    told = capture(_answering("SUCCESS"), ORDER, D("50.00"), _state(_auth("a0", "50.00")), final=final)  # type: ignore[arg-type]
    assert told.attention is None and told.words == ()


def test_the_first_of_two_nfe_on_a_one_capture_gateway_with_its_goods_on_hold_reads_part_for_part(
    world: World, orders_api: Any
) -> None:
    """End to end: the first NF-e of an order invoiced in two closes its one-capture authorisation
    (the rest released, named), its fulfillment order is on hold (named), and so nothing carries
    the ERP's tracking (TRACKING_NO_FULFILLMENT, named): the note's three parts read in pt-BR and en
    as the stored line says them."""
    order, _items, _part_a = _first_part_in_the_erp(world, "mercadopago")
    _fulfillment_orders_status(world, order.gid, "ON_HOLD")
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text

    link = world.link(order.gid)
    note = order_notes.note_of(link, "invoices") or ""
    assert "allows one capture only" in note and "are on hold in Shopify" in note, note
    assert "fulfillment order on hold, or every fulfillment cancelled" in note, note
    closed, held, tracking = _said_part_for_part(link, 3)
    assert "uma só captura" in closed and "retidos na Shopify" in held, (closed, held)
    assert "um pedido de processamento retido" in tracking and "não enviado" in tracking, tracking
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["note"] == note and pt["text"] == f"{closed}; {held}; {tracking}", pt
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == note.removeprefix("invoices: ")
