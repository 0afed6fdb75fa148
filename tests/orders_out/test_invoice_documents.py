"""ERP -> Shopify: which fiscal document an invoice event may write, and what an order with more
than one NF-e is charged — a cancelled document, a key that is another document's, an order
invoiced in two NF-e (partial invoicing), an NF-e cancelled and re-issued."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from erp.records import Invoice
from jobs import invoices
from jobs.nfe import check_digit, validate_key
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.consinco.fiscal import nfe_key
from sandbox.consinco.order_records import company_cnpj, format_time
from shopify_app.admin_api import for_shop
from shopify_app.api_explain import explain

from .conftest import World, refund


def _another_nfe(
    world: World, nro: int, total: Decimal, *, items: list[int] | None = None, cancel_first: bool = False
) -> str:
    """The ERP issues another NF-e (next number) of `total` for order `nro`, with an F event for it
    that lists only the ERP items `items` (None: all); `cancel_first`: the first NF-e is cancelled
    (a re-issue). Returns the new key."""
    events, doc = t.mad_pedvendaevento, t.mfl_doctofiscal
    with world.erp.store.write() as (conn, now):
        first_doc = conn.execute(select(doc).where(doc.c.nropedidovenda == nro).order_by(doc.c.seqnf))
        first_doc = first_doc.mappings().first()
        f_events = select(events).where(events.c.nropedvenda == nro, events.c.tipoevento == "F")
        first_event = conn.execute(f_events.order_by(events.c.seqevento)).mappings().first()
        assert first_doc is not None and first_event is not None
        number = first_doc["numerodf"]
        cnpj = company_cnpj(conn, first_doc["nroempresa"])
        key = None
        while key is None or conn.execute(select(doc.c.seqnf).where(doc.c.nfechaveacesso == key)).first():
            number += 1000  # the next NF-e issued after this helper's earlier one takes the number after it
            key = nfe_key(uf="SP", issued=now, cnpj_issuer=cnpj, model="55", series=first_doc["seriedf"],
                          number=number, code=12345678)  # fmt: skip
        seqnf = conn.execute(select(func.max(doc.c.seqnf))).scalar_one() + 1
        row = {**dict(first_doc), "seqnf": seqnf, "numerodf": number, "nfechaveacesso": key, "statusdf": "V",
               "vlrtotal": float(total), "dtahoremissao": now, "dtaalteracao": now}  # fmt: skip
        conn.execute(doc.insert().values(**row))
        if cancel_first:
            conn.execute(doc.update().where(doc.c.seqnf == first_doc["seqnf"]).values(statusdf="C"))
        data = json.loads(first_event["dados"])
        fiscal = {"seqNf": seqnf, "chaveAcesso": key, "numeroDf": number, "statusDf": "V",
                  "vlrTotal": float(total), "dtaHorEmissao": format_time(now)}  # fmt: skip
        data["documentoFiscal"].update(fiscal)
        if items is not None:
            data["itens"] = [i for i in data["itens"] if i["seqItem"] in items]
        seq = conn.execute(select(func.max(events.c.seqevento))).scalar_one() + 1
        event = {"seqevento": seq, "nropedvenda": nro, "nroempresa": first_event["nroempresa"],
                 "tipoevento": "F", "dtahorevento": now, "dados": json.dumps(data)}  # fmt: skip
        conn.execute(events.insert().values(**event))
    return key


def _kept_keys(world: World, gid: str) -> list[str]:
    return json.loads(world.settlement(gid).nfe.get("chaves") or "[]")


def _first_part_invoiced(world: World) -> tuple[Any, dict[str, Any], Decimal, Any]:
    """An order of (a x2, b x1), manual capture, whose first NF-e (item a with the freight) is
    applied: (order, ERP items by SKU, that NF-e's total, its done message). Item b's NF-e is to come."""
    order, items, part_a = _first_part_in_the_erp(world)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert world.settlement(order.gid).paid == part_a
    return order, items, part_a, first


def _nfe_of_item(
    world: World, order: Any, items: dict, sku: str, less: Decimal = Decimal(0)
) -> tuple[Any, Decimal]:
    """The ERP issues another NF-e for item `sku` alone (`less` below its served total) and the
    poll applies it: (its invoices message, done, and the NF-e's total)."""
    part = Decimal(str(items[sku]["vlrTotalAtendido"])) - less
    _another_nfe(world, order.nro, part, items=[items[sku]["seqItem"]])
    world.poll()
    message = world.messages("invoices", order)[-1]
    assert message.status == MessageStatus.DONE.value, message.error_text
    return message, part


def _first_part_in_the_erp(world: World, gateway: str = "cartao") -> tuple[Any, dict[str, Any], Decimal]:
    """An order of (a x2, b x1), manual capture (on the checkout's `gateway`), whose first NF-e (item
    a with the freight) the ERP issued, its F event not read yet: (order, ERP items by SKU, that
    NF-e's total)."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway=gateway, capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    items = {i["idSku"]: i for i in erp_order["itens"]}
    part_a = Decimal(str(document["vlrTotal"])) - Decimal(str(items[b]["vlrTotalAtendido"]))
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part_a)))

    def first_part_only(data: dict[str, Any]) -> None:
        data["documentoFiscal"]["vlrTotal"] = float(part_a)
        data["itens"] = [i for i in data["itens"] if i["idSku"] == a]

    world.rewrite_event(order.nro, "F", first_part_only)
    return order, items, part_a


# -- a cancelled document ----------------------------------------------------------------------


def test_an_invoice_event_whose_nfe_is_cancelled_is_skipped_and_nothing_is_written(world: World) -> None:
    """The event's own document has statusDf 'C' (cancelled) and the Shopify order is not
    cancelled: nothing of a cancelled NF-e is written, charged, fulfilled nor tagged (the rule of an
    event with no document, which takes only a valid one); the message says why."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    world.rewrite_event(order.nro, "F", lambda data: data["documentoFiscal"].update(statusDf="C"))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.error_text)
    assert document["chaveAcesso"] in (message.error_text or "") and "cancelled" in (message.error_text or "")
    state = world.settlement(order.gid)
    assert state.paid == 0 and state.open_authorization() is not None
    assert state.nfe == {} and not state.active_fulfillments and "NF-e emitida" not in state.tags
    assert world.link(order.gid).nfe_key is None


# -- a key that is another document's ---------------------------------------------------------


def _with(key: str, start: int, end: int, value: str) -> str:
    body = key[:start] + value + key[end:43]
    assert len(body) == 43
    return body + str(check_digit(body))


FORGED = {  # part of the key -> (the key with that part changed, what the message names)
    "model": (lambda k: _with(k, 20, 22, "65"), "model 65"),  # an NFC-e key on an NF-e (55)
    "series": (lambda k: _with(k, 22, 25, f"{int(k[22:25]) + 7:03d}"), "series"),
    "number": (lambda k: _with(k, 25, 34, f"{int(k[25:34]) + 1000:09d}"), "number"),
    "issuer": (lambda k: _with(k, 6, 20, "11222333000181"), "issuer CNPJ 11222333000181"),  # another company
    "month": (lambda k: _with(k, 2, 6, "1901"), "year-month 1901"),  # years from dtaHorEmissao
}


@pytest.mark.parametrize("part", sorted(FORGED))
def test_a_key_whose_fields_disagree_with_its_document_is_refused_and_nothing_is_written(
    world: World, part: str
) -> None:
    """The key carries the document's model, series, number, issuer CNPJ and year-month: a key
    that disagrees with the document the event describes is another document's (or a typing
    error), so it is refused naming the part and both values, before anything is written."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    forge, named = FORGED[part]
    forged = forge(document["chaveAcesso"])
    world.erp_key(order.nro, forged)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected", message.status
    detail = message.error_detail or {}
    assert detail["code"] == "NFE_KEY_MISMATCH" and detail["part"] == part, detail
    assert forged in (message.error_text or "") and named in (message.error_text or ""), message.error_text
    state = world.settlement(order.gid)
    assert state.nfe == {} and state.paid == 0 and not state.active_fulfillments
    assert "NF-e emitida" not in state.tags
    explained = explain(message, "en")
    assert explained is not None and "another fiscal document" in explained["what_happened"]


# -- more than one NF-e ------------------------------------------------------------------------


def test_partial_invoicing_charges_every_nfe_and_only_the_last_closes_the_authorisation(world: World) -> None:
    """The ERP invoices an order in two NF-e (item A with the freight, then item B). The amount
    due is the sum of the order's valid NF-e: the first captures its part and leaves the rest
    authorised (not a final capture: its total is below the ERP's served total), the second
    captures its own part and closes the authorisation; both keys stay on the order."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    full = Decimal(str(document["vlrTotal"]))
    items = {i["idSku"]: i for i in erp_order["itens"]}
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    part_a = full - part_b
    with world.erp.store.write() as (conn, _now):  # NF-e 1 is the ERP's document of item A only
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part_a)))

    def first_part_only(data: dict[str, Any]) -> None:
        data["documentoFiscal"]["vlrTotal"] = float(part_a)
        data["itens"] = [i for i in data["itens"] if i["idSku"] == a]

    world.rewrite_event(order.nro, "F", first_part_only)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    state = world.settlement(order.gid)
    assert state.paid == part_a
    left = state.open_authorization()
    assert left is not None and left.unsettled > 0, "the first NF-e's capture released what the second needs"
    waiting = world.link(order.gid).needs_attention or ""  # a person sees what waits for the next NF-e
    assert waiting.startswith(f"invoices: {left.unsettled} is left authorised"), waiting
    assert {line["sku"]: line["_fulfilled"] for line in world.order_doc(order.gid)["_lines"]} == {a: 2, b: 0}

    second_key = _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    messages = world.messages("invoices", order)
    assert [m.status for m in messages] == [MessageStatus.DONE.value] * 2, messages[1].error_text
    state = world.settlement(order.gid)
    link = world.link(order.gid)
    assert state.paid == full, (state.paid, messages[1].response_payload.get("capture"), link.needs_attention)
    assert state.open_authorization() is None  # the last NF-e: a final capture released the rest
    assert link.needs_attention is None and link.captured_amount == full
    assert state.nfe["chave"] == second_key == link.nfe_key
    assert _kept_keys(world, order.gid) == [document["chaveAcesso"], second_key]
    assert {line["sku"]: line["_fulfilled"] for line in world.order_doc(order.gid)["_lines"]} == {a: 2, b: 1}

    invoices.replay(first.id)  # the first NF-e again: the order already holds both, nothing changes
    assert world.settlement(order.gid).paid == full and world.settlement(order.gid).nfe["chave"] == second_key
    assert _kept_keys(world, order.gid) == [document["chaveAcesso"], second_key]


def test_events_without_a_document_each_take_their_own_nfe_of_a_partial_invoicing(world: World) -> None:
    """The event layout without documentoFiscal: the event takes a valid NF-e from the ERP order.
    The ERP invoices in two NF-e (item a, then item b) and both F events are read in one poll: each
    takes the earliest valid NF-e no done invoices message has applied yet, so the first applies
    NF-e A and the second NF-e B — both are charged, the last capture is final, both keys kept."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    full = Decimal(str(document["vlrTotal"]))
    items = {i["idSku"]: i for i in erp_order["itens"]}
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(
            doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(full - part_b))
        )
    second_key = _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, _now):
        f_events = select(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "F")
        for row in conn.execute(f_events).all():
            data = json.loads(row.dados)
            data["documentoFiscal"] = None
            if len(data["itens"]) > 1:  # the first NF-e's event lists item a only
                data["itens"] = [i for i in data["itens"] if i["idSku"] == a]
            conn.execute(
                events.update().where(events.c.seqevento == row.seqevento).values(dados=json.dumps(data))
            )
    world.poll()
    messages = world.messages("invoices", order)
    assert [m.status for m in messages] == [MessageStatus.DONE.value] * 2, [m.error_text for m in messages]
    assert [m.response_payload["key"] for m in messages] == [document["chaveAcesso"], second_key]
    state = world.settlement(order.gid)
    assert state.paid == full and state.open_authorization() is None
    assert _kept_keys(world, order.gid) == [document["chaveAcesso"], second_key]

    invoices.replay(messages[0].id)  # a replay takes the NF-e it applied before, and changes nothing
    [replayed, _] = world.messages("invoices", order)
    assert replayed.response_payload["key"] == document["chaveAcesso"]
    assert world.settlement(order.gid).paid == full


def test_a_reissued_nfe_replaces_the_cancelled_one_and_is_not_charged_twice(world: World) -> None:
    """NF-e 1 is cancelled and NF-e 2 re-issued for the same goods: only valid NF-e count, so the
    money taken for NF-e 1 pays NF-e 2 (nothing more to charge, no refund to name) and the order
    keeps NF-e 2's key alone."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value
    second_key = _another_nfe(world, order.nro, total, cancel_first=True)
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    state = world.settlement(order.gid)
    link = world.link(order.gid)
    assert state.paid == total and link.needs_attention is None, link.needs_attention
    assert state.nfe["chave"] == second_key == link.nfe_key
    assert _kept_keys(world, order.gid) == [second_key]
    assert second_key in state.nfe["danfe_url"]


def _captured(world: World, gid: str) -> list[str]:
    """The amounts of the order's successful captures, in order."""
    found = world.order_doc(gid)["_transactions"]
    return [
        x["amountSet"]["shopMoney"]["amount"]
        for x in found
        if x["kind"] == "CAPTURE" and x["status"] == "SUCCESS"
    ]


def test_a_reissued_nfe_does_not_take_back_a_refund_made_after_the_first_was_charged(world: World) -> None:
    """NF-e A (item a with the freight) is charged, not final: the rest stays authorised for item b's
    NF-e. The merchant refunds R$5.00 (a damaged item of the first delivery); then the ERP cancels A
    and re-issues it as A' for the very same goods and total. The money taken for A was taken then,
    cancelled since or not: the refund is the merchant's decision, and A' captures nothing more (it
    does not take the R$5.00 back from the authorisation kept for item b)."""
    order, items, part_a, _first = _first_part_invoiced(world)
    refund(world, order, Decimal("5.00"))
    reissued = _another_nfe(
        world, order.nro, part_a, items=[items[world.plain(0)]["seqItem"]], cancel_first=True
    )
    world.poll()
    messages = world.messages("invoices", order)
    assert [m.status for m in messages] == [MessageStatus.DONE.value] * 2, messages[-1].error_text
    assert _captured(world, order.gid) == [str(part_a)], messages[-1].response_payload.get("capture")
    state = world.settlement(order.gid)
    assert state.paid == part_a and state.refunded == Decimal("5.00")
    assert state.open_authorization() is not None  # still kept for item b's NF-e
    assert _kept_keys(world, order.gid) == [reissued]
    assert "above what the customer" not in (world.link(order.gid).needs_attention or "")


def test_a_reissued_nfe_after_a_refund_on_a_closed_authorisation_names_nothing_as_not_charged(
    world: World,
) -> None:
    """The order's only NF-e is charged (a final capture: nothing stays authorised); the merchant
    refunds R$5.00, then the ERP cancels the NF-e and re-issues it for the same goods and total. The
    re-issue owes nothing: the order link does not say it is R$5.00 above what the customer paid
    (the refund is the merchant's decision, not money the customer still owes)."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    total, first = world.invoice(order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert world.settlement(order.gid).open_authorization() is None
    refund(world, order, Decimal("5.00"))
    _another_nfe(world, order.nro, total, cancel_first=True)
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    link = world.link(order.gid)
    assert link.needs_attention is None, link.needs_attention
    assert _captured(world, order.gid) == [str(total)]
    assert world.settlement(order.gid).refunded == Decimal("5.00")


def test_an_nfe_a_cent_below_the_served_total_is_the_last_and_closes_the_authorisation(world: World) -> None:
    """The NF-e apportions the discount per item and rounds each share, the ERP order's served total
    rounds once: the order's only NF-e may total R$0.01 below vlrTotalAtendido. Within a cent per
    NF-e of the served total the NF-e are complete: the capture is final and releases the cent
    rather than keeping it authorised for an NF-e that never comes."""
    order = world.linked_order([(world.plain(0), 3)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    nfe_total = Decimal(str(erp_order["vlrTotalAtendido"])) - Decimal("0.01")
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(nfe_total)))
    world.rewrite_event(order.nro, "F", lambda d: d["documentoFiscal"].update(vlrTotal=float(nfe_total)))
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    assert state.paid == nfe_total and message.response_payload["final_capture"] is True
    assert state.open_authorization() is None, message.response_payload["capture"]


def test_a_replay_of_a_cancelled_nfes_event_is_skipped_and_charges_nothing(world: World) -> None:
    """NF-e A (item a) is applied, then cancelled in the ERP and re-issued as A' (same goods, same
    total): A's money pays A'. A replay of A's event (Messages page, Replay) reads the ERP order:
    the ERP lists A cancelled now, so the event is skipped with the reason before anything is
    written — A is not summed with A', no more money is captured, nfe.chaves keeps A' alone."""
    order, items, part_a, first = _first_part_invoiced(world)
    item_a = items[world.plain(0)]["seqItem"]
    reissued = _another_nfe(world, order.nro, part_a, items=[item_a], cancel_first=True)
    world.poll()
    assert [m.status for m in world.messages("invoices", order)] == [MessageStatus.DONE.value] * 2
    assert world.settlement(order.gid).paid == part_a and _kept_keys(world, order.gid) == [reissued]

    assert invoices.replay(first.id) == MessageStatus.SKIPPED.value
    [replayed, _] = world.messages("invoices", order)
    assert "the ERP lists cancelled" in (replayed.error_text or ""), replayed.error_text
    assert world.settlement(order.gid).paid == part_a
    assert _kept_keys(world, order.gid) == [reissued]


def test_a_replay_of_an_applied_nfe_captures_nothing_more_even_after_a_refund(world: World) -> None:
    """NF-e A is applied (not final: item b's NF-e is to come, the rest stays authorised); the
    merchant then refunds R$5.00 in Shopify (a damaged item of the first delivery). A replay of A's
    message — the same invoice twice changes nothing — captures nothing more for A: its money was
    taken when it was applied, and the refund is the merchant's, not money still due."""
    order, _items, part_a, first = _first_part_invoiced(world)
    refund(world, order, Decimal("5.00"))
    assert world.settlement(order.gid).refunded == Decimal("5.00")

    assert invoices.replay(first.id) == MessageStatus.DONE.value
    [replayed] = world.messages("invoices", order)
    after = world.settlement(order.gid)
    assert after.paid == part_a, replayed.response_payload["capture"]
    assert "applied already" in replayed.response_payload["capture"]
    assert after.open_authorization() is not None  # still kept for item b's NF-e


def test_a_reissued_nfe_does_not_keep_the_cancelled_ones_links(world: World) -> None:
    """NF-e 1 (with DANFE and XML links) is replaced by NF-e 2, for which the ERP gives no link yet:
    the links NF-e 2 does not supply are deleted in the same pass, so the order never shows NF-e 2's
    key beside NF-e 1's DANFE and XML."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value
    state = world.settlement(order.gid)
    assert state.nfe["danfe_url"] and state.nfe["xml_url"]
    first = world.erp.order(order.nro)["documentosFiscais"][0]
    body = first["chaveAcesso"][:25] + f"{first['numeroDf'] + 1:09d}" + first["chaveAcesso"][34:43]
    reissued = Invoice(seq_nf=None, key=body + str(check_digit(body)), number=first["numeroDf"] + 1,
                       series=str(first["serieDf"]), model="55", status="V", issued_at=datetime.now(UTC),
                       total=Decimal(str(first["vlrTotal"])), issuer_cnpj=None,
                       danfe_url=None, xml_url=None)  # fmt: skip
    validate_key(reissued.key)
    client = for_shop(world.domain)
    outcome = invoices._write_metafields(client, order.gid, reissued, [reissued.key], state)
    assert outcome == f"written; danfe_url, xml_url of NF-e {first['chaveAcesso']} deleted"
    after = world.settlement(order.gid).nfe
    assert after["chave"] == reissued.key and after["numero"] == str(reissued.number)
    assert "danfe_url" not in after and "xml_url" not in after, after
    assert json.loads(after["chaves"]) == [reissued.key]
    now = world.settlement(order.gid)
    again = invoices._write_metafields(client, order.gid, reissued, [reissued.key], now)
    assert again == "already there"  # the same NF-e again writes and deletes nothing


def test_an_nfce_is_tagged_as_an_nfce(world: World) -> None:
    """The tag names the document's model: "NFC-e emitida" for a model 65."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.invoice(order.nro, model="65")
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    tags = world.settlement(order.gid).tags
    assert "NFC-e emitida" in tags and "NF-e emitida" not in tags


def test_a_refund_made_between_two_nfe_is_not_taken_back_by_the_second(world: World) -> None:
    """NF-e A is charged (item b's NF-e still to come, the rest authorised); the merchant then
    refunds R$5.00 (a damaged item of the first delivery). NF-e B captures its own total, not B plus
    the R$5.00: a refund made after the order's first NF-e was charged is the merchant's decision,
    not money still due, so the second capture does not undo it."""
    order, items, part_a, _first = _first_part_invoiced(world)
    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    refund(world, order, Decimal("5.00"))
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    messages = world.messages("invoices", order)
    assert [m.status for m in messages] == [MessageStatus.DONE.value] * 2, messages[-1].error_text
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b, messages[-1].response_payload["capture"]
    assert state.refunded == Decimal("5.00") and state.open_authorization() is None
    assert world.link(order.gid).needs_attention is None


def test_a_first_nfe_whose_capture_is_pending_is_not_charged_again_by_the_next(world: World) -> None:
    """Partial invoicing on a gateway that answers the first capture PENDING: the first NF-e's
    message is checked again until the gateway answers, the second NF-e waits behind it, and once
    the capture is taken each NF-e is charged its own part once (the pending capture is money in
    flight: never asked again, by the first's retry nor by the second)."""
    from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures

    order, items, part_a = _first_part_in_the_erp(world)
    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.RETRYING.value, first.error_text
    assert "pending at the gateway" in (first.error_text or "")
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    first, second = world.messages("invoices", order)
    assert (first.status, second.status) == (MessageStatus.RETRYING.value,) * 2, second.error_text

    def captures() -> list[tuple[str, str]]:
        found = world.order_doc(order.gid)["_transactions"]
        return [(x["status"], x["amountSet"]["shopMoney"]["amount"]) for x in found if x["kind"] == "CAPTURE"]

    assert captures() == [("PENDING", str(part_a))]

    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    assert invoices.replay(first.id) == MessageStatus.DONE.value
    assert invoices.replay(second.id) == MessageStatus.DONE.value, world.messages("invoices", order)[1]
    assert captures() == [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    assert world.link(order.gid).needs_attention is None


def _charged_a_minute_ago(message_id: int, *, recorded_before: bool) -> None:
    """The done message of NF-e A finished (and charged it) a minute ago; `recorded_before`: its
    response as kept before the charge's time was (a capture taken SUCCESS kept no capture record,
    no run_ended, no charged_at)."""
    from ledger.db import session_scope
    from ledger.models import Message

    minute_ago = datetime.now(UTC) - timedelta(seconds=60)
    with session_scope() as session:
        message = session.get(Message, message_id)
        response = dict(message.response_payload)
        if recorded_before:
            for name in ("capture_asked", "run_ended", "charged_at", "capture_begun", "capture_begun_at"):
                response.pop(name, None)
        else:
            assert response["charged_at"], response
            response["charged_at"] = minute_ago.isoformat()
            if isinstance(response.get("capture_asked"), dict):
                response["capture_asked"] = {**response["capture_asked"], "at": minute_ago.isoformat()}
        message.response_payload = response
        message.finished_at = minute_ago


@pytest.mark.parametrize("replayed", [False, True], ids=["", "replayed"])
@pytest.mark.parametrize("case", ["card", "card_recorded_before", "card_recorded_before_lower_b", "pix"])
def test_a_replay_of_the_first_nfe_keeps_when_it_was_charged(world: World, case: str, replayed: bool) -> None:
    """NF-e A is charged (card: its capture; Pix: paid at checkout, no capture) a minute ago, the
    merchant refunds R$5.00 half a minute ago, and (`replayed`) a person replays A's done message.
    NF-e B then captures its own total only and names nothing to collect: the refund was made after
    A was charged. The replay resets the row's finished_at; when A was charged is kept on its
    response (charged_at), carried by the replay — for a message recorded before that was kept,
    from its finished_at, written before the replay resets it."""
    gateway = "pix" if case == "pix" else "cartao"
    order, items, _part_a = _first_part_in_the_erp(world, gateway=gateway)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    _charged_a_minute_ago(first.id, recorded_before="recorded_before" in case)
    refund(world, order, Decimal("5.00"), datetime.now(UTC) - timedelta(seconds=30))
    if replayed:
        assert invoices.replay(first.id) == MessageStatus.DONE.value
        [first] = world.messages("invoices", order)
        charged = datetime.fromisoformat(first.response_payload["charged_at"])
        assert charged < datetime.now(UTC) - timedelta(seconds=45), first.response_payload
    before = _captured(world, order.gid)
    # NF-e B issued R$5.00 below item b's price in the "lower_b" case (a discount at invoicing)
    less = Decimal("5.00") if case.endswith("lower_b") else Decimal(0)
    second, part_b = _nfe_of_item(world, order, items, world.plain(1), less)
    taken = _captured(world, order.gid)[len(before) :]
    assert taken == ([] if gateway == "pix" else [str(part_b)]), second.response_payload["capture"]
    note = world.link(order.gid).needs_attention or ""  # B below item b's price leaves the rest authorised
    assert "above what the customer paid" not in note and "not charged" not in note, note


@pytest.mark.parametrize("case", ["card", "card_recorded_before", "pix"])
def test_a_replay_skipped_because_its_nfe_was_cancelled_keeps_when_it_was_charged(
    world: World, case: str
) -> None:
    """NF-e A is charged (card: its capture; Pix: paid at checkout) a minute ago and the merchant
    refunds R$5.00 half a minute ago; the ERP then cancels A and re-issues it as A' (same goods and
    total), and a person replays A's done message, which is skipped (A is cancelled) and so is no
    longer done. A' and then item b's NF-e B capture their own money only and name nothing to
    collect: A's message still says when A was charged (charged_at; for a message recorded before
    that was kept, written before the replay), whatever its status now, so the refund stays the
    merchant's rather than being taken back once A's message is skipped."""
    gateway = "pix" if case == "pix" else "cartao"
    order, items, part_a = _first_part_in_the_erp(world, gateway=gateway)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    _charged_a_minute_ago(first.id, recorded_before=case == "card_recorded_before")
    refund(world, order, Decimal("5.00"), datetime.now(UTC) - timedelta(seconds=30))
    before = _captured(world, order.gid)
    _another_nfe(world, order.nro, part_a, items=[items[world.plain(0)]["seqItem"]], cancel_first=True)
    assert invoices.replay(first.id) == MessageStatus.SKIPPED.value  # a person's Replay of A, cancelled since
    [first] = world.messages("invoices", order)
    charged = datetime.fromisoformat(first.response_payload["charged_at"])
    assert charged < datetime.now(UTC) - timedelta(seconds=45), first.response_payload
    world.poll()
    reissued = world.messages("invoices", order)[-1]
    assert reissued.status == MessageStatus.DONE.value, reissued.error_text
    assert _captured(world, order.gid) == before, reissued.response_payload["capture"]
    second, part_b = _nfe_of_item(world, order, items, world.plain(1))
    taken = _captured(world, order.gid)[len(before) :]
    assert taken == ([] if gateway == "pix" else [str(part_b)]), second.response_payload["capture"]
    note = world.link(order.gid).needs_attention or ""
    assert "above what the customer paid" not in note and "not charged" not in note, note
