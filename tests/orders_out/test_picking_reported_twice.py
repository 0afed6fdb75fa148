"""One picking reported by two ERP events: the separation ('S') event emitted again under a new
seqEvento, or an ERP that reports only the invoice ("faturado com alteração") sending the
carrier's tracking as a later copy of that 'F' event. What the first event applied to the Shopify
order is not applied again: a weighed substitute (of whole kilograms it carries no discount that
would say it is in) is not added a second time, and cuts and weight adjustments cost nothing."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from erp.records import OrderEvent
from jobs.order_edits import repeats, to_shopify
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import ErpConnection, Message, MessageStatus, OrderLineChange
from sandbox.consinco import tables as t
from sandbox.consinco.fiscal import nfe_key
from sandbox.consinco.order_records import company_cnpj, format_time

from .conftest import LinkedOrder, World
from .test_pure_rules import event, line, shopify_line
from .test_weighed_discount import _uneven_weight


def _calculated_orders(world: World) -> int:
    """Order edits begun on the shop (every orderEditBegin stores one CalculatedOrder)."""
    return len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder"))


def _units(world: World, order: LinkedOrder, sku: str) -> int:
    return sum(line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == sku)


def _emit_again(world: World, order: LinkedOrder, kind: str) -> None:
    """The ERP emits the order's event of `kind` once more: the same data, a new seqEvento."""
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, now):
        row = conn.execute(
            select(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == kind)
        ).mappings().first()  # fmt: skip
        seq = conn.execute(select(func.max(events.c.seqevento))).scalar_one() + 1
        same = {"nropedvenda": order.nro, "nroempresa": row["nroempresa"], "dados": row["dados"]}
        conn.execute(events.insert().values(seqevento=seq, tipoevento=kind, dtahorevento=now, **same))


def _substituted(world: World, kg: float) -> tuple[LinkedOrder, str]:
    original, weighed = world.plain(0), world.weighed()
    # the substitute costs less than the line it replaces: the capture takes all of the NF-e
    units = int(2 * world.chain.prices[weighed] / world.chain.prices[original]) + 1
    order = world.linked_order([(original, units), (world.plain(1), 1)], gateway="cartao", capture="manual")
    ean = next(s.ean for s in world.chain.skus if s.id_sku == weighed)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": ean, "qtd": kg}], weights={}
    )
    return order, weighed


@pytest.mark.parametrize("kg", [1.0, 0.3])
def test_a_second_separation_event_does_not_add_the_weighed_substitute_again(world: World, kg: float) -> None:
    order, weighed = _substituted(world, kg)
    world.poll()
    [first] = world.messages("order_edits", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert _units(world, order, weighed) == 1
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)

    _emit_again(world, order, "S")
    assert world.poll()["enqueued"] == 1
    [_, again] = world.messages("order_edits", order)
    assert again.status == MessageStatus.DONE.value, again.error_text
    assert _units(world, order, weighed) == 1, "the weighed substitute was added a second time"
    assert world.order_doc(order.gid) == snapshot and _calculated_orders(world) == begun

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.current_total == nfe_total == after.paid and after.financial_status == "PAID"


@pytest.mark.parametrize("kg_units", [1, 3], ids=["one-unit", "split"])
def test_a_second_separation_event_with_a_cut_and_a_lighter_weight_changes_nothing(
    world: World, kg_units: int
) -> None:
    """Cuts are absolute quantities and a weight adjustment (its split's unit on a line of its own
    too) is known by its description: proven here, not assumed — the second event begins no order
    edit at all."""
    plain, weighed = world.plain(0), world.weighed()
    lines = [(plain, 3), (weighed, kg_units), (world.plain(1), 1)]
    order = world.linked_order(lines, gateway="cartao", capture="manual")
    kg = _uneven_weight(world.chain.prices[weighed], 3)[0] if kg_units == 3 else Decimal("0.985")
    picked = {"cuts": {str(order.lines[plain]): 1}, "weights": {str(order.lines[weighed]): float(kg)}}
    world.erp.separate(order.nro, **picked)
    world.poll()
    [first] = world.messages("order_edits", order)
    assert first.status == MessageStatus.DONE.value and first.response_payload["edited"], first.error_text
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)

    _emit_again(world, order, "S")
    world.poll()
    [_, again] = world.messages("order_edits", order)
    assert again.status == MessageStatus.DONE.value, again.error_text
    assert world.order_doc(order.gid) == snapshot and _calculated_orders(world) == begun
    if kg_units == 3:
        assert sorted(x["currentQuantity"] for x in snapshot["_lines"] if x["sku"] == weighed) == [1, 2]

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.current_total == nfe_total == after.paid and after.financial_status == "PAID"


@pytest.mark.parametrize("on_message", [True, False], ids=["invoice-message", "ledger-rows-only"])
def test_the_tracking_event_after_an_altered_invoice_does_not_edit_the_order_again(
    world: World, on_message: bool
) -> None:
    """An ERP that reports only the invoice: its 'F' event "faturado com alteração" applies the
    picking, and the carrier's tracking comes later as a copy of it (alterado true). The copy sends
    its tracking and edits nothing: the invoice message that holds the picking says it is in, and
    so do the ledger's rows of that event when the message does not (`on_message` False)."""
    order, weighed = _substituted(world, 1.0)
    world.erp.invoice(order.nro, tracking=False)
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, _now):  # this ERP reports only the invoice
        conn.execute(events.delete().where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
    world.poll()
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert isinstance(invoice.response_payload.get("picking"), dict)
    before = world.settlement(order.gid)
    assert before.financial_status == "PAID" and _units(world, order, weighed) == 1
    if not on_message:  # an invoice applied before its message kept the picking
        with session_scope() as session:
            payload = {k: v for k, v in invoice.response_payload.items() if k != "picking"}
            session.execute(update(Message).where(Message.id == invoice.id).values(response_payload=payload))
    begun = _calculated_orders(world)

    world.erp.track(order.nro, "QB123456789BR")
    world.poll()
    [_, tracking] = world.messages("invoices", order)
    assert tracking.status == MessageStatus.DONE.value, tracking.error_text
    assert _units(world, order, weighed) == 1, "the weighed substitute was added a second time"
    assert _calculated_orders(world) == begun
    after = world.settlement(order.gid)
    assert (after.current_total, after.paid, after.financial_status) == (
        before.current_total,
        before.paid,
        "PAID",
    )
    lines = world.order_doc(order.gid)["_lines"]
    assert all(line["_fulfilled"] == line["currentQuantity"] for line in lines), "a line left unfulfilled"


def _second_altered_nfe(world: World, order: LinkedOrder, full: dict, total: Decimal, skus: set[str]) -> None:
    """The ERP issues a second NF-e for the order, its own altered 'F' event listing `skus` only."""
    events, doc = t.mad_pedvendaevento, t.mfl_doctofiscal
    with world.erp.store.write() as (conn, now):
        first = (
            conn.execute(select(doc).where(doc.c.seqnf == full["documentoFiscal"]["seqNf"])).mappings().one()
        )
        number = first["numerodf"] + 1000
        cnpj = company_cnpj(conn, first["nroempresa"])
        key = nfe_key(
            uf="SP",
            issued=now,
            cnpj_issuer=cnpj,
            model="55",
            series=first["seriedf"],
            number=number,
            code=12345678,
        )
        seqnf = conn.execute(select(func.max(doc.c.seqnf))).scalar_one() + 1
        conn.execute(
            doc.insert().values(
                **{
                    **dict(first),
                    "seqnf": seqnf,
                    "numerodf": number,
                    "nfechaveacesso": key,
                    "vlrtotal": float(total),
                    "dtahoremissao": now,
                    "dtaalteracao": now,
                }
            )
        )
        fiscal = {
            **full["documentoFiscal"],
            "seqNf": seqnf,
            "chaveAcesso": key,
            "numeroDf": number,
            "vlrTotal": float(total),
            "dtaHorEmissao": format_time(now),
        }
        data = {**full, "documentoFiscal": fiscal, "itens": [i for i in full["itens"] if i["idSku"] in skus]}
        seq = conn.execute(select(func.max(events.c.seqevento))).scalar_one() + 1
        conn.execute(
            events.insert().values(
                seqevento=seq,
                nropedvenda=order.nro,
                nroempresa=first["nroempresa"],
                tipoevento="F",
                dtahorevento=now,
                dados=json.dumps(data),
            )
        )


def test_each_nfe_of_an_altered_partial_invoicing_applies_its_own_picking(world: World) -> None:
    """An ERP that reports only the invoice, in two NF-e, each "faturado com alteração" listing its
    own lines: the first NF-e's picking (a cut of a) on its message does not stand for the second's
    (a cut of b), which is applied too. Only another message of the SAME NF-e (the tracking copy)
    says the picking is in."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 3)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2, str(order.lines[b]): 1}, weights={})
    erp_order = world.erp.invoice(order.nro, tracking=False)
    [document] = erp_order["documentosFiscais"]
    part_b = Decimal(str(next(i for i in erp_order["itens"] if i["idSku"] == b)["vlrTotalAtendido"]))
    part_a = Decimal(str(document["vlrTotal"])) - part_b
    events, doc = t.mad_pedvendaevento, t.mfl_doctofiscal
    with world.erp.store.write() as (conn, _now):  # the first NF-e: item a only, no 'S' event
        conn.execute(events.delete().where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part_a)))
        row = (
            conn.execute(select(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "F"))
            .mappings()
            .one()
        )
        full = json.loads(row["dados"])
        assert full["alterado"] is True
        first = {
            **full,
            "documentoFiscal": {**full["documentoFiscal"], "vlrTotal": float(part_a)},
            "itens": [i for i in full["itens"] if i["idSku"] == a],
        }
        conn.execute(
            events.update().where(events.c.seqevento == row["seqevento"]).values(dados=json.dumps(first))
        )
    world.poll()
    [one] = world.messages("invoices", order)
    assert one.status == MessageStatus.DONE.value and isinstance(one.response_payload.get("picking"), dict)
    assert (_units(world, order, a), _units(world, order, b)) == (2, 3)

    _second_altered_nfe(world, order, full, part_b, {b})
    world.poll()
    [_, two] = world.messages("invoices", order)
    assert two.status == MessageStatus.DONE.value, two.error_text
    assert isinstance(two.response_payload.get("picking"), dict), two.response_payload.get("picking")
    assert (_units(world, order, a), _units(world, order, b)) == (2, 1), "the second NF-e's cut was dropped"
    after = world.settlement(order.gid)
    assert after.current_total == part_a + part_b == after.paid and after.financial_status == "PAID"


def test_a_retry_after_another_events_commit_answer_was_lost_finds_the_substitute_in_shopify(
    world: World, monkeypatch
) -> None:
    """The first 'S' event's edit committed but its answer was lost, and its retries ran out (failed):
    its rows are not applied. The second event of the same picking reads Shopify's order as a retry
    of the first would, and finds the substitute's units there."""
    from shopify_app.admin_api.errors import ShopifyNetworkError
    from shopify_app.admin_api.transport import AdminTransport

    order, weighed = _substituted(world, 1.0)
    real_send = AdminTransport.send

    def lost(self, op, variables, token):  # Shopify takes the OrderEditCommit, its answer is lost
        answer = real_send(self, op, variables, token)
        if op.name == "OrderEditCommit":
            raise ShopifyNetworkError("read timed out")
        return answer

    monkeypatch.setattr(AdminTransport, "send", lost)
    world.poll()
    monkeypatch.setattr(AdminTransport, "send", real_send)
    [first] = world.messages("order_edits", order)
    with session_scope() as session:
        failed = update(Message).where(Message.id == first.id).values(status=MessageStatus.FAILED.value)
        session.execute(failed)
    assert _units(world, order, weighed) == 1
    assert not any(c.applied for c in world.line_changes(order.gid) if c.sku == weighed)

    _emit_again(world, order, "S")
    world.poll()
    [_, again] = world.messages("order_edits", order)
    assert again.status == MessageStatus.DONE.value, again.error_text
    assert _units(world, order, weighed) == 1, "the weighed substitute was added a second time"


@pytest.mark.parametrize("again", ["replay", "emitted-again"])
def test_rows_a_later_erps_event_recorded_before_the_keys_named_it_still_count(
    world: World, again: str
) -> None:
    """Before the change keys named the ERP generation, an event of the ERP the connection moved to
    recorded its rows as "event:<seq>:item:<i>". Its Replay, or the same 'S' event emitted again,
    after the deploy still finds them (the order has no first-ERP message of that event): the
    weighed substitute of whole kilograms is not added a second time."""
    with session_scope() as session:
        session.execute(update(ErpConnection).values(generation=1))
    order, weighed = _substituted(world, 1.0)
    world.poll()
    [first] = world.messages("order_edits", order)
    assert first.status == MessageStatus.DONE.value and first.unit_key.endswith(":erp1"), first.error_text
    assert _units(world, order, weighed) == 1
    with session_scope() as session:  # the rows as the code of before wrote them
        for row in session.scalars(select(OrderLineChange)).all():
            row.change_key = row.change_key.replace(":erp1:", ":")
    if again == "replay":
        to_shopify.replay(first.id)
    else:
        _emit_again(world, order, "S")
        world.poll()
        [_, second] = world.messages("order_edits", order)
        assert second.status == MessageStatus.DONE.value, second.error_text
    assert _units(world, order, weighed) == 1, "the weighed substitute was added a second time"
    keys = [c.change_key for c in world.line_changes(order.gid)]
    assert len(keys) == len(set(keys)) and (again != "replay" or all(":erp1:" in k for k in keys)), keys


# -- pure -------------------------------------------------------------------------------------


def _event(kg: str, sku: str = "K") -> OrderEvent:
    """Event 9: ERP line 1 (A) replaced by line 3, `kg` of the weighed `sku`."""
    return event(line(1, "A", "1", "0"), line(3, sku, "0", kg, weighed=True, replaces=1))


def _row(seq: int, kg: str, *, applied: bool, sku: str = "K") -> repeats.Recorded:
    return repeats.Recorded(seq, 3, "substitution", sku, Decimal(kg), applied)


def test_keys_name_the_erp_generation() -> None:
    assert repeats.change_key(9, 3) == "event:9:item:3"
    assert repeats.change_key(9, 3, 2) == "event:9:erp2:item:3"
    assert repeats.item_of("event:9:erp2:item:3") == 3 and repeats.item_of("edit:1:A") is None


def test_another_events_weighed_substitute_is_known_by_its_line_sku_and_weight() -> None:
    seen = repeats.weighed_substitutes(_event("1.000"), [_row(5, "1", applied=True)])
    assert seen.applied == {3: 5} and not seen.tried
    seen = repeats.weighed_substitutes(_event("1"), [_row(5, "1.000", applied=False)])
    assert seen.applied == {} and seen.tried == {3}
    assert repeats.tried_keys(_event("1"), seen, 1) == {"event:9:erp1:item:3"}


@pytest.mark.parametrize(("kg", "sku"), [("0.800", "K"), ("1.000", "L")])
def test_another_weighed_substitute_of_a_line_another_event_added_is_refused(kg: str, sku: str) -> None:
    with pytest.raises(Rejected) as refused:
        repeats.weighed_substitutes(_event(kg, sku), [_row(5, "1.000", applied=True)])
    assert refused.value.code == "SUBSTITUTE_ALREADY_ADDED"


def _cut(seq: int, item: int, before: str, after: str) -> to_shopify.LineChange:
    return to_shopify.LineChange(
        repeats.change_key(seq, item), "cut", "A", Decimal(before), Decimal(after), "cut at picking"
    )


def test_a_change_the_last_applied_event_of_its_line_made_alike_is_known() -> None:
    """The same cut (kind, SKU, quantities) as the last applied change of the ERP line: in Shopify
    already. Another cut, another ordered quantity, a row not applied, or a later event of the line
    that changed it otherwise: another change."""
    row = repeats.Recorded(5, 1, "cut", "A", Decimal("2.000"), True, Decimal("3"))
    assert repeats.applied_alike([_cut(9, 1, "3", "2")], [row], []) == {"event:9:item:1": 5}
    assert repeats.applied_alike([_cut(9, 1, "3", "1")], [row], []) == {}
    assert repeats.applied_alike([_cut(9, 1, "4", "2")], [row], []) == {}
    assert repeats.applied_alike([_cut(9, 2, "3", "2")], [row], []) == {}
    assert repeats.applied_alike([_cut(9, 1, "3", "2")], [dataclasses.replace(row, applied=False)], []) == {}
    later = repeats.Recorded(7, 1, "cut", "A", Decimal("1"), True, Decimal("3"))
    assert repeats.applied_alike([_cut(9, 1, "3", "2")], [row, later], []) == {}
    assert repeats.applied_alike([_cut(9, 1, "3", "1")], [later, row], []) == {"event:9:item:1": 7}


def test_a_change_applied_alike_that_shopify_no_longer_shows_is_applied_again() -> None:
    """The same cut as the last applied one, but its Shopify line holds MORE than the target (a
    person put units back): the ERP served and invoices the target, so it is set again. At the
    target, or below it (a person refunded a unit since): in Shopify already, not raised back. A
    substitute's variant at 0 (refunded) is not added back; one not on the order at all is added."""
    row = repeats.Recorded(5, 1, "cut", "A", Decimal("2.000"), True, Decimal("3"))
    cut = dataclasses.replace(
        _cut(9, 1, "3", "2"), line_item_id="gid://shopify/LineItem/A", shopify_quantity=2
    )
    for units, alike in ((3, False), (2, True), (1, True), (0, True)):
        found = repeats.applied_alike([cut], [row], [shopify_line("A", units)])
        assert found == ({"event:9:item:1": 5} if alike else {}), units
    added = to_shopify.LineChange(
        repeats.change_key(9, 3), "substitution", "S", Decimal("0"), Decimal("2"), "substitute",
        variant_id="gid://shopify/ProductVariant/S", shopify_quantity=2, substitute_sku="S",
    )  # fmt: skip
    sub_row = repeats.Recorded(5, 3, "substitution", "S", Decimal("2"), True, Decimal("0"))
    for lines, alike in (([shopify_line("S", 0)], True), ([shopify_line("S", 3)], False), ([], False)):
        found = repeats.applied_alike([added], [sub_row], [shopify_line("A", 0), *lines])
        assert found == ({"event:9:item:3": 5} if alike else {}), lines
