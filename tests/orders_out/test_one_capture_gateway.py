"""ERP -> Shopify: invoicing on a card gateway whose authorisation allows one capture.

Brazil has no Shopify Payments: its card gateways are payments apps (Mercado Pago, Pagar.me, Cielo,
PagBank...), most of them one capture per authorisation (OrderTransaction.multiCapturable false;
multi-capture is Shopify Payments' on Plus only). That one capture closes the authorisation: the
rest is released by the gateway, whatever finalCapture says, and a second capture is refused. The
sandbox plays it for its "mercadopago" checkout gateway (Mercado Pago); "cartao" keeps several
captures, to show the difference.

- One NF-e for the whole order captures it, nothing is left to charge, no note; a second capture
  (a person's, in Shopify) is refused, and a replay of the NF-e asks nothing.
- A picking cut lowers the order, the one NF-e is below the authorisation: it captures the NF-e,
  no error, and the message says the rest was released.
- An order invoiced in two NF-e: the first captures its part and closes the authorisation (the rest
  released, named for a person); the second has nothing to capture from. Its message ends done
  (no retry loop) and the order's note says, in pt-BR and en, that its amount was not charged
  because the authorisation allowed one capture, taken by the first NF-e, and must be charged to
  the customer another way (Shopify shows it outstanding) or absorbed. With several captures the
  second NF-e captures the rest and nobody is told anything.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import invoices
from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.note_words import say_note

from .conftest import World
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp

ONE_CAPTURE, SEVERAL = "mercadopago", "cartao"


def _captures(world: World, gid: str) -> list[tuple[str, Decimal]]:
    return [
        (x["status"], Decimal(x["amountSet"]["shopMoney"]["amount"]))
        for x in world.order_doc(gid)["_transactions"]
        if x["kind"] == "CAPTURE"
    ]


def test_one_nfe_for_the_whole_order_captures_it_and_a_second_capture_is_refused(world: World) -> None:
    order = world.linked_order(
        [(world.plain(0), 2), (world.plain(1), 1)], gateway=ONE_CAPTURE, capture="manual"
    )
    [auth] = world.settlement(order.gid).authorizations
    assert auth.multi_capturable is False, "the gateway allows one capture"
    total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["final_capture"] is True
    assert _captures(world, order.gid) == [("SUCCESS", total)]
    state = world.settlement(order.gid)
    assert state.paid == total and state.open_authorization() is None and state.total_capturable == 0
    assert state.financial_status == "PAID"
    assert world.link(order.gid).needs_attention is None

    with pytest.raises(ShopifyUserErrors, match="one capture"):  # a person trying again in Shopify
        for_shop(world.domain).order_capture(order.gid, auth.id, Decimal("1.00"), currency="BRL")
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    assert _captures(world, order.gid) == [("SUCCESS", total)], "the replay asked nothing"


def test_an_nfe_below_the_authorisation_after_a_picking_cut_captures_it_and_says_the_rest_was_released(
    world: World,
) -> None:
    cut, kept = world.plain(0), world.plain(1)
    order = world.linked_order([(cut, 3), (kept, 1)], gateway=ONE_CAPTURE, capture="manual")
    authorised = world.settlement(order.gid).authorizations[0].amount
    world.erp.separate(order.nro, cuts={str(order.lines[cut]): 1})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    invoiced, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    rest = authorised - invoiced
    assert rest > 0, "the cut left part of the authorisation unneeded"
    assert _captures(world, order.gid) == [("SUCCESS", invoiced)]
    assert (
        f"captured {invoiced} of {authorised} authorised; {rest} released"
        in message.response_payload["capture"]
    )
    state = world.settlement(order.gid)
    assert state.paid == invoiced and state.total_capturable == 0 and state.financial_status == "PAID"
    assert world.link(order.gid).needs_attention is None, "a released rest is nobody's work"


def _two_nfe(world: World, gateway: str) -> tuple[object, Decimal, Decimal]:
    """An order of (a x2, b x1) on `gateway`, invoiced in two NF-e: a with the freight, then b. Both
    applied; (order, part a, part b)."""
    order, items, part_a = _first_part_in_the_erp(world, gateway)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert first.response_payload["final_capture"] is False, first.response_payload["capture"]
    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    return order, part_a, part_b


def test_two_nfe_on_a_one_capture_gateway_the_second_is_told_to_be_charged_another_way(world: World) -> None:
    order, part_a, part_b = _two_nfe(world, ONE_CAPTURE)
    [auth] = world.settlement(order.gid).authorizations
    # The first NF-e: its part captured, the authorisation closed and the rest released, named.
    assert _captures(world, order.gid) == [("SUCCESS", part_a)]
    assert auth.capturable is False and auth.unsettled == 0
    first_note = order_notes.note_of(world.link(order.gid), "invoices") or ""
    assert "allows one capture only" in first_note and f"the other {part_b} released" in first_note, (
        first_note
    )

    world.poll()
    first, second = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert _captures(world, order.gid) == [("SUCCESS", part_a)], "nothing asked of a closed authorisation"
    state = world.settlement(order.gid)
    assert state.paid == part_a and state.financial_status == "PARTIALLY_PAID"
    assert state.current_total is not None and state.current_total - state.paid == part_b, (
        "Shopify shows it owed"
    )

    link = world.link(order.gid)
    note = order_notes.note_of(link, "invoices") or ""
    assert f"{part_b} was not charged" in note, note
    assert f"authorisation {auth.id} allowed one capture only" in note, note
    assert "charge the customer" in note and "another way" in note, note
    assert "above what the customer paid or authorised" not in note, "the customer did authorise it"
    [words] = [order_notes.words_of(link)["invoices"]]
    portuguese = say_note(words, "pt-BR") or ""
    assert "uma só captura" in portuguese and "de outro jeito" in portuguese, portuguese
    assert "R$" in portuguese, portuguese

    # No retry loop: polling again runs nothing more, the message stays done after one attempt.
    world.poll()
    assert [m.id for m in world.messages("invoices", order)] == [first.id, second.id]
    assert world.messages("invoices", order)[-1].attempts == 1
    assert _captures(world, order.gid) == [("SUCCESS", part_a)]


def test_two_nfe_on_a_gateway_with_several_captures_charge_both_and_tell_nobody(world: World) -> None:
    order, part_a, part_b = _two_nfe(world, SEVERAL)
    left = world.settlement(order.gid).open_authorization()
    assert left is not None and left.unsettled >= part_b, "the rest stays authorised for the next NF-e"
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert _captures(world, order.gid) == [("SUCCESS", part_a), ("SUCCESS", part_b)]
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.financial_status == "PAID"
    assert world.link(order.gid).needs_attention is None
