"""ERP -> Shopify: when an order's capture is final, and who is told when it is not.

- NF-e A's capture failed and a person closed its message with "Mark as handled" (they captured A
  by hand in Shopify, or it was paid outside); no later event of A came. NF-e B, the rest, is then
  charged in full (A's money counted once, by the same rule as a later event of A), and its capture
  is final: the NF-e carry everything the ERP served.
- One NF-e below the ERP's served total (a discount given at invoicing, freight billed apart) that
  carries every served line is the last: it captures less and releases the rest, and names for a
  person what Shopify still shows owed. So is one short by
  just the ERP order's freight (vlrTotFrete) though the freight is above the cheapest unit.
- One NF-e for part of a line (a x4, NF-e 1 for 2 units) is not the last, though its F event lists
  the line served in full: the event's lines are the ERP order's state (the sandbox's
  EventoPedido: qtdAtendida is the line's, not this NF-e's), and its total is a whole unit short.
- A capture left non-final tells a person on the order link what stays authorised and why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobs.order_event_codec import event_from_payload
from ledger import handled, order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.client import AdminClient

from .conftest import World
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp
from .test_invoice_tracking_events import _refuse_captures

WORKING = AdminClient.order_capture  # before any test refuses it


def _captures(world: World, gid: str) -> list[Decimal]:
    found = world.order_doc(gid)["_transactions"]
    return [
        Decimal(x["amountSet"]["shopMoney"]["amount"])
        for x in found
        if x["kind"] == "CAPTURE" and x["status"] == "SUCCESS"
    ]


def _a_failed_and_handled(
    world: World, monkeypatch: pytest.MonkeyPatch, *, by_hand: bool
) -> tuple[Any, Decimal, Decimal, Message]:
    """Partial invoicing: NF-e A's only event fails over its capture; a person settles A (captures
    it by hand in Shopify, not final, or takes a Pix at the counter) and closes it as handled. Then
    NF-e B, the rest, arrives: (order, A's total, B's total, B's message)."""
    order, items, part_a = _first_part_in_the_erp(world)
    asked: list[Any] = []
    _refuse_captures(monkeypatch, asked)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, first.status
    monkeypatch.setattr(AdminClient, "order_capture", WORKING)
    if by_hand:
        auth = world.settlement(order.gid).open_authorization()
        assert auth is not None
        for_shop(world.domain).order_capture(order.gid, auth.id, part_a, currency="BRL", final_capture=False)
    with session_scope() as session:
        note = "A captured by hand in Shopify" if by_hand else "A paid by Pix at the counter"
        handled.mark(session, session.get(Message, first.id), by="staff-1", note=note)
    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    return order, part_a, part_b, last


def test_nfe_b_after_a_captured_by_hand_and_handled_charges_b_in_full(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's money is in Shopify (captured by hand): B is not planned as paid by it."""
    order, part_a, part_b, last = _a_failed_and_handled(world, monkeypatch, by_hand=True)
    assert _captures(world, order.gid) == [part_a, part_b], last.response_payload["capture"]
    state = world.settlement(order.gid)
    assert last.response_payload["final_capture"] is True
    assert state.open_authorization() is None, last.response_payload["capture"]
    assert world.link(order.gid).needs_attention is None


def test_nfe_b_after_a_settled_outside_and_handled_charges_b_alone_and_is_final(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A was paid outside Shopify: B captures B alone, and, the order fully invoiced, finally: what
    stays authorised (A's part) is released, not left to lapse on the customer's card."""
    order, _part_a, part_b, last = _a_failed_and_handled(world, monkeypatch, by_hand=False)
    assert _captures(world, order.gid) == [part_b], last.response_payload["capture"]
    assert last.response_payload["final_capture"] is True, last.response_payload["capture"]
    assert world.settlement(order.gid).open_authorization() is None, last.response_payload["capture"]


def _single_lower_nfe(world: World, less: Decimal | None) -> tuple[Any, Decimal]:
    """One NF-e for the whole order (every served line), `less` below the ERP's served total (None:
    the ERP order's freight, vlrTotFrete: the freight billed apart)."""
    order = world.linked_order([(world.plain(0), 2), (world.plain(1), 1)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    if less is None:
        less = Decimal(str(erp_order["vlrTotFrete"]))
        cheapest = min(
            Decimal(str(i["vlrTotalAtendido"])) / Decimal(str(i["qtdAtendida"])) for i in erp_order["itens"]
        )
        assert less > cheapest, "the case: freight above the cheapest unit served"
    lower = Decimal(str(document["vlrTotal"])) - less
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(lower)))
    world.rewrite_event(order.nro, "F", lambda d: d["documentoFiscal"].update(vlrTotal=float(lower)))
    return order, lower


def test_a_single_nfe_below_the_served_total_carrying_every_line_captures_less_and_releases_the_rest(
    world: World,
) -> None:
    order, lower = _single_lower_nfe(world, Decimal("5.00"))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["final_capture"] is True, message.response_payload["capture"]
    state = world.settlement(order.gid)
    assert state.paid == lower
    assert state.open_authorization() is None, message.response_payload["capture"]
    assert "5.00 released" in message.response_payload["capture"]
    # Shopify still asks the order's total: the 5.00 the NF-e did not charge is named for a person
    said = f"is 5.00 above what the NF-e invoiced ({lower}): Shopify shows the customer owing 5.00"
    assert said in (world.link(order.gid).needs_attention or "")


def test_a_single_nfe_carrying_every_unit_with_the_freight_billed_apart_is_the_last(world: World) -> None:
    """The freight (vlrTotFrete, above the cheapest unit served) is on no NF-e: the NF-e falls short
    of the served total (freight included) by just the freight, and carries every unit. Its capture
    is final, the rest released, not left waiting for a further NF-e that never comes."""
    order, lower = _single_lower_nfe(world, None)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["final_capture"] is True, message.response_payload["capture"]
    state = world.settlement(order.gid)
    assert state.paid == lower
    assert state.open_authorization() is None, message.response_payload["capture"]
    gap = (state.current_total or lower) - lower  # the freight, billed apart: collected another way
    said = f"is {gap} above what the NF-e invoiced ({lower}): Shopify shows the customer owing {gap}"
    assert said in (world.link(order.gid).needs_attention or "")


def test_a_capture_left_non_final_names_what_stays_authorised_on_the_order_link(world: World) -> None:
    """Partial invoicing: the first NF-e (item a) captures its part and is not final. The order link
    says how much stays authorised and that it waits for a further NF-e; the last NF-e's final
    capture clears that note."""
    order, items, part_a = _first_part_in_the_erp(world)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    state = world.settlement(order.gid)
    left = state.open_authorization()
    assert state.paid == part_a and left is not None and left.unsettled > 0
    note = order_notes.note_of(world.link(order.gid), "invoices") or ""
    assert f"{left.unsettled} is left authorised" in note and "further NF-e" in note, note
    assert first.response_payload["needs_attention"].endswith(note.removeprefix("invoices: ")), note

    b = world.plain(1)
    _another_nfe(world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]])
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert world.settlement(order.gid).open_authorization() is None
    assert world.link(order.gid).needs_attention is None


def test_an_nfe_carrying_half_of_a_line_is_not_final_though_its_event_lists_the_line_served(
    world: World,
) -> None:
    """a x4; the ERP issues NF-e 1 for 2 units (with the freight). Its F event lists line a as the
    sandbox's EventoPedido does, the order's state: qtdAtendida 4. NF-e 1 captures its total and
    keeps the rest authorised for NF-e 2 (not released: the customer would be under-charged), and
    NF-e 2, the other 2 units, captures the rest."""
    a = world.plain(0)
    order = world.linked_order([(a, 4)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    [item] = erp_order["itens"]
    full = Decimal(str(document["vlrTotal"]))
    half = (Decimal(str(item["vlrTotalAtendido"])) / 2).quantize(Decimal("0.01"))
    part1 = full - half
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part1)))
    world.rewrite_event(order.nro, "F", lambda d: d["documentoFiscal"].update(vlrTotal=float(part1)))
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    [listed] = event_from_payload(first.request_payload).lines
    assert listed.qty_served == 4, "the event lists the line served in full (the order's state)"
    state = world.settlement(order.gid)
    assert state.paid == part1
    assert first.response_payload["final_capture"] is False, first.response_payload["capture"]
    left = state.open_authorization()
    assert left is not None and left.unsettled >= half, "NF-e 2's money was released at NF-e 1"

    _another_nfe(world, order.nro, half, items=[item["seqItem"]])
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert world.settlement(order.gid).paid == full, last.response_payload.get("capture")
    assert last.response_payload["final_capture"] is True
    assert world.settlement(order.gid).open_authorization() is None
