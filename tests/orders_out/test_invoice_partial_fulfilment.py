"""ERP -> Shopify: what each NF-e of a partial invoicing fulfils when its F event lists the ERP
order's lines as they stand (EventoPedido is the order's state, not the NF-e's share of it: the
layout jobs.invoice_lines.issued_for_every_unit reads). Nothing tells which lines an NF-e carries,
so an NF-e that is not the order's last fulfils only what its own total can pay for, and the rest
waits for the last NF-e, fulfilled then with that NF-e's tracking (a code given later for the
first NF-e is named for a person: which parcel it is for cannot be told)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ledger.models import MessageStatus
from sandbox.consinco import tables as t

from .conftest import LinkedOrder, World
from .test_invoice_documents import _another_nfe

WAITS = "fulfilment waits for the last NF-e of this order: its lines are not known per NF-e"


def _fulfilled(world: World, gid: str) -> dict[str, int]:
    return {line["sku"]: line["_fulfilled"] for line in world.order_doc(gid)["_lines"]}


def test_an_nfe_whose_event_lists_the_whole_order_fulfils_nothing_until_the_last(world: World) -> None:
    """An order of (a x2, b x1) invoiced in two NF-e: item a with the freight, then item b. Both F
    events list every item as the ERP order stands. The first NF-e's total pays for item a, not for
    a and b: it fulfils nothing (no customer e-mailed for goods not invoiced yet), says why, and
    captures its own part; the second, the last, fulfils all of it with its own tracking. A code the
    carrier gives later for the first NF-e is not put on that fulfillment, but named for a person."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual")
    full, part_b = first_of_two_nfe(world, order, b)
    part_a = full - part_b
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert world.settlement(order.gid).paid == part_a and first.response_payload["final_capture"] is False
    assert _fulfilled(world, order.gid) == {a: 0, b: 0}
    assert first.response_payload["fulfillments"] == [] and first.response_payload["fulfilment"] == WAITS
    assert world.settlement(order.gid).fulfillments == []
    assert (
        first.response_payload["tracking"] == f"tracking SB{order.nro:09d}BR (SANDBOX LOG) not sent: {WAITS}"
    )
    waiting = world.link(order.gid).needs_attention or ""  # a person sees why nothing shipped yet
    assert f"invoices: {WAITS}" in waiting and "tracking" not in waiting, waiting

    second_key = _another_nfe(world, order.nro, part_b)  # its event lists every item, as the first's
    _retrack(world, order.nro, second_key, "SECOND-NFE")
    world.poll()
    _, second = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    state = world.settlement(order.gid)
    assert state.paid == full and state.open_authorization() is None
    assert _fulfilled(world, order.gid) == {a: 2, b: 1}
    [fulfillment] = second.response_payload["fulfillments"]
    assert {f.id: f.tracking_number for f in state.fulfillments} == {fulfillment: "SECOND-NFE"}
    assert "fulfilment" not in second.response_payload
    # the first NF-e's own code, given while its fulfilment waited, is named for a person now that
    # its goods left under the last NF-e's code (kept on its message alone, it was said nowhere)
    first_code = f"tracking SB{order.nro:09d}BR (SANDBOX LOG) not sent: NF-e {first.response_payload['key']}"
    assert first_code in (world.link(order.gid).needs_attention or ""), world.link(order.gid).needs_attention

    # The carrier's code for the first NF-e comes later: its goods left under the last NF-e's
    # fulfillment, which keeps its own code; which parcel this one is for is a person's to tell.
    world.erp.track(order.nro, "FIRST-NFE", carrier="Loggi", key=first.response_payload["key"])
    world.poll()
    *_, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert "not sent" in later.response_payload["tracking"] and WAITS in later.response_payload["tracking"]
    assert {f.id: f.tracking_number for f in world.settlement(order.gid).fulfillments} == {
        fulfillment: "SECOND-NFE"
    }
    assert "tracking FIRST-NFE (Loggi) not sent" in (world.link(order.gid).needs_attention or "")


@pytest.mark.parametrize("second_code", ["SECOND-NFE", "FIRST-NFE"])
def test_a_code_given_for_the_first_nfe_before_the_last_one_is_named_once_the_last_fulfils(
    world, second_code: str
) -> None:
    """The carrier's code for NF-e 1's parcel came before NF-e 2: kept on its message as "not sent:
    fulfilment waits", it was on no fulfillment and named nowhere once NF-e 2 fulfilled everything
    under its own code (the same code coming after NF-e 2 is named for a person). The same code
    for both (one parcel) is on the fulfillment: nothing to name."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual")
    _full, part_b = first_of_two_nfe(world, order, b, tracking=False)
    [first] = world.messages("invoices", order)
    assert first.response_payload["fulfillments"] == [] and "tracking" not in first.response_payload
    world.erp.track(order.nro, "FIRST-NFE", carrier="Loggi", key=first.response_payload["key"])
    world.poll()
    assert WAITS in world.messages("invoices", order)[-1].response_payload["tracking"]

    second_key = _another_nfe(world, order.nro, part_b)
    _retrack(world, order.nro, second_key, second_code)
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert {f.tracking_number for f in world.settlement(order.gid).fulfillments} == {second_code}
    note = world.link(order.gid).needs_attention or ""
    named = "tracking FIRST-NFE (Loggi) not sent: NF-e" in note and "add it in Shopify" in note
    assert named == (second_code != "FIRST-NFE"), note


def first_of_two_nfe(
    world: World, order: LinkedOrder, b: str, *, tracking: bool = True
) -> tuple[Decimal, Decimal]:
    """The order invoiced, its NF-e made the first of two: it carries all but item `b` (and the
    freight), its F event listing every item as the ERP order stands; polled. (The NF-e's whole total,
    item b's part: the second NF-e's, `_another_nfe`.)"""
    erp_order = world.erp.invoice(order.nro, tracking=tracking)
    [document] = erp_order["documentosFiscais"]
    full = Decimal(str(document["vlrTotal"]))
    part_b = Decimal(str({i["idSku"]: i for i in erp_order["itens"]}[b]["vlrTotalAtendido"]))
    part_a = full - part_b
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part_a)))
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(vlrTotal=float(part_a)))
    world.poll()
    return full, part_b


def _retrack(world: World, nro: int, key: str, code: str) -> None:
    """Give the F event of NF-e `key` the carrier's code `code`."""
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, _now):
        rows = conn.execute(select(events).where(events.c.nropedvenda == nro, events.c.tipoevento == "F"))
        for row in rows.all():
            data: dict[str, Any] = json.loads(row.dados)
            if data["documentoFiscal"]["chaveAcesso"] == key:
                data["rastreio"] = {**(data.get("rastreio") or {}), "codigoRastreio": code}
                same = events.c.seqevento == row.seqevento
                conn.execute(events.update().where(same).values(dados=json.dumps(data)))


def test_an_only_nfe_with_a_discount_above_a_unit_waits_and_tells_a_person_what_to_do(world) -> None:
    """One NF-e for the whole order, with a discount given at invoicing worth more than the cheapest
    unit: by its money it cannot be told from the first NF-e of a partial invoicing (the event lists
    the ERP order's lines either way), so nothing ships on a guess. The order says why, with the
    NF-e's total, and what to do when no further NF-e is coming."""

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    cheapest = min(
        Decimal(str(i["vlrTotalAtendido"])) / Decimal(str(i["qtdAtendida"])) for i in erp_order["itens"]
    )
    lower = Decimal(str(document["vlrTotal"])) - (cheapest + Decimal("0.50")).quantize(Decimal("0.01"))
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(lower)))
    world.rewrite_event(order.nro, "F", lambda d: d["documentoFiscal"].update(vlrTotal=float(lower)))
    world.poll()

    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert {line["_fulfilled"] for line in world.order_doc(order.gid)["_lines"]} == {0}
    note = world.link(order.gid).needs_attention or ""
    assert f"NF-e total {lower}" in note and "if none is coming" in note, note
    assert "fulfil the goods in Shopify" in note, note
