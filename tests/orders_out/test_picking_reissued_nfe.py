"""An NF-e cancelled and re-issued (a new key) for an order whose picking an altered 'F' event
("faturado com alteração", no 'S' event) applied to Shopify: the picking is applied once, whatever
the number of keys. The re-issue's copy of it does not edit the order again (nor undo what a person
changed in Shopify since); a picking that changed before the new key still is applied."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledger.models import MessageStatus
from sandbox.consinco import tables as t

from .conftest import LinkedOrder, World
from .test_invoice_documents import _another_nfe
from .test_picking_reported_twice import _calculated_orders, _emit_again, _substituted, _units
from .test_weighed_discount import _uneven_weight


def _only_the_invoice(world: World, order: LinkedOrder) -> None:
    """This ERP reports only the invoice: the 'S' event is not there."""
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, _now):
        conn.execute(events.delete().where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))


def _altered_invoice(world: World, order: LinkedOrder) -> None:
    """The ERP invoices the picked order, reporting the picking on the 'F' event only; applied."""
    world.erp.invoice(order.nro, tracking=False)
    _only_the_invoice(world, order)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert isinstance(first.response_payload.get("picking"), dict), first.response_payload.get("picking")


def _refund_units(world: World, order: LinkedOrder, sku: str, units: int) -> None:
    """A person takes `units` of `sku` back in Shopify (a refund with restock: the line's
    currentQuantity goes down, the totals follow)."""
    from sandbox.shopify import order_store, order_totals
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        line = next(li for li in doc["_lines"] if li.get("sku") == sku and li["currentQuantity"] >= units)
        line["currentQuantity"] -= units
        order_totals.recompute(doc)
        order_store.save(ctx, doc, touch=True)


@pytest.mark.parametrize("kg", [1.0, 0.3])
def test_a_reissued_nfe_does_not_add_the_weighed_substitute_again(world: World, kg: float) -> None:
    order, weighed = _substituted(world, kg)
    _altered_invoice(world, order)
    before = world.settlement(order.gid)
    assert before.financial_status == "PAID" and _units(world, order, weighed) == 1
    begun = _calculated_orders(world)

    key = _another_nfe(world, order.nro, before.paid, cancel_first=True)
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert second.response_payload["key"] == key
    assert _units(world, order, weighed) == 1, "the weighed substitute was added a second time"
    assert _calculated_orders(world) == begun, second.response_payload.get("picking")
    after = world.settlement(order.gid)
    assert (after.current_total, after.paid, after.financial_status) == (
        before.current_total,
        before.paid,
        "PAID",
    )


def test_a_reissued_nfe_does_not_cut_or_weigh_again(world: World) -> None:
    plain, weighed = world.plain(0), world.weighed()
    order = world.linked_order(
        [(plain, 3), (weighed, 3), (world.plain(1), 1)], gateway="cartao", capture="manual"
    )
    kg = _uneven_weight(world.chain.prices[weighed], 3)[0]
    world.erp.separate(
        order.nro, cuts={str(order.lines[plain]): 1}, weights={str(order.lines[weighed]): float(kg)}
    )
    _altered_invoice(world, order)
    before = world.settlement(order.gid)
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)

    _another_nfe(world, order.nro, before.paid, cancel_first=True)
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert _calculated_orders(world) == begun, second.response_payload.get("picking")
    assert world.order_doc(order.gid)["_lines"] == snapshot["_lines"]


@pytest.mark.parametrize("shipping", [None, "RETIRADA"], ids=["delivery", "pickup"])
def test_a_reissued_nfe_does_not_put_back_what_a_person_took_off_since(
    world: World, shipping: str | None
) -> None:
    """The cut (a: 3 -> 2) was applied with NF-e 1; a person then refunds one more unit of a in
    Shopify (a damaged one, a: 1); the ERP cancels NF-e 1 and re-issues NF-e 2 for the same picking.
    NF-e 2's event carries the same cut: it is in Shopify already, so the order is not edited back
    to 2 units of a (the refunded unit is not put back on the order) — nor, a delivery's units being
    fulfilled, does NF-e 2 fail on Shopify's refusal to edit a fulfilled line."""
    a, b = world.plain(0), world.plain(1)
    where = {"shipping": shipping} if shipping else {}
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual", **where)
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    _altered_invoice(world, order)
    assert _units(world, order, a) == 2
    paid = world.settlement(order.gid).paid
    _refund_units(world, order, a, 1)
    begun = _calculated_orders(world)

    _another_nfe(world, order.nro, paid, cancel_first=True)
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert _units(world, order, a) == 1, "the re-issue applied the cut again: the refunded unit is back"
    assert _calculated_orders(world) == begun, second.response_payload.get("picking")
    assert "already" in str(second.response_payload.get("picking")), second.response_payload.get("picking")


def test_a_picking_changed_before_the_reissue_is_applied(world: World) -> None:
    """The cut (a: 3 -> 2) was applied with NF-e 1; the ERP cancels NF-e 1, cuts one more unit of
    a and issues NF-e 2 (a: 1 of 3): that new change is applied to Shopify (a: 1), the one before
    it is not applied twice. A local pickup: its goods are not fulfilled at the invoice, so Shopify
    takes an edit of them."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual", shipping="RETIRADA")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    _altered_invoice(world, order)
    assert _units(world, order, a) == 2
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, _now):
        row = conn.execute(
            select(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "F")
        )
        data = json.loads(row.mappings().one()["dados"])
    item_a = next(i for i in data["itens"] if i["idSku"] == a)
    unit_price = Decimal(str(item_a["vlrTotalAtendido"])) / 2
    total = Decimal(str(data["documentoFiscal"]["vlrTotal"])) - unit_price
    _another_nfe(world, order.nro, total, cancel_first=True)

    def one_more_cut(changed: dict) -> None:
        for item in changed["itens"]:
            if item["idSku"] == a:
                item["qtdAtendida"] = 1
                item["vlrTotalAtendido"] = float(unit_price)

    with world.erp.store.write() as (conn, _now):
        last = conn.execute(
            select(events).where(events.c.nropedvenda == order.nro).order_by(events.c.seqevento.desc())
        ).mappings().first()  # fmt: skip
        data = json.loads(last["dados"])
        one_more_cut(data)
        conn.execute(
            events.update().where(events.c.seqevento == last["seqevento"]).values(dados=json.dumps(data))
        )
    world.poll()
    [_, second] = world.messages("invoices", order)
    assert isinstance(second.response_payload.get("picking"), dict), (
        second.error_text,
        second.response_payload,
    )
    assert second.response_payload["picking"]["edited"] is True
    assert _units(world, order, a) == 1, "the new cut was not applied"


def _put_back_units(world: World, order: LinkedOrder, sku: str, units: int) -> None:
    """A person puts `units` of `sku` back on the order in Shopify (its first line's
    currentQuantity goes up, the totals follow)."""
    from sandbox.shopify import order_store, order_totals
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        line = next(li for li in doc["_lines"] if li.get("sku") == sku)
        line["currentQuantity"] += units
        order_totals.recompute(doc)
        order_store.save(ctx, doc, touch=True)


def test_a_new_separation_cuts_again_what_a_person_put_back(world: World) -> None:
    """The cut (a: 3 -> 2) was applied; a person then puts the unit back in Shopify (a: 3); the ERP
    reports its picking again in a new 'S' event (2 of 3 served). The same change as the one
    applied, but Shopify holds more than the ERP served (and will invoice): the target is set
    again (a: 2), the order does not keep a unit the ERP never served."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual", shipping="RETIRADA")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    world.poll()
    assert _units(world, order, a) == 2
    _put_back_units(world, order, a, 1)
    assert _units(world, order, a) == 3

    _emit_again(world, order, "S")
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)
    assert _units(world, order, a) == 2, last.response_payload
    assert last.response_payload["edited"] is True


def test_a_new_separation_of_a_substitution_holds_what_the_erp_served_and_a_refund(world: World) -> None:
    """x (2 units) replaced at picking by 2 of s, applied (x: 0, s: 2). A person then puts a unit
    of x back and refunds one unit of s in Shopify; the ERP reports the same picking again in a new
    'S' event. x holds more than the ERP served: set to 0 again; s holds fewer (the refund): it is
    not raised back to 2, nor added a second time."""
    x, s = world.plain(0), world.plain(2)
    order = world.linked_order([(x, 2), (world.plain(1), 1)], gateway="cartao", capture="manual",
                               shipping="RETIRADA")  # fmt: skip
    ean = next(sku.ean for sku in world.chain.skus if sku.id_sku == s)
    world.erp.separate(order.nro, substitutions=[{"seqItem": order.lines[x], "codAcesso": ean, "qtd": 2}])
    world.poll()
    assert (_units(world, order, x), _units(world, order, s)) == (0, 2)
    _put_back_units(world, order, x, 1)
    _refund_units(world, order, s, 1)

    _emit_again(world, order, "S")
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)
    assert (_units(world, order, x), _units(world, order, s)) == (0, 1), last.response_payload
    lines = [li for li in world.order_doc(order.gid)["_lines"] if li["sku"] == s]
    assert len(lines) == 1, lines


def test_an_invoice_event_without_alterado_still_applies_its_cut(world: World) -> None:
    """An ERP that leaves `alterado` out of its events (the lines' own summary): the 'F' event,
    the only report of the picking (no 'S' event), cuts a: 3 -> 2; its lines say so, and the cut
    reaches Shopify (not read as an unaltered invoice: Shopify keeping 3 units, charging for 2)."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual", shipping="RETIRADA")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    world.erp.invoice(order.nro, tracking=False)
    _only_the_invoice(world, order)
    world.rewrite_event(order.nro, "F", lambda data: data.pop("alterado"))
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert isinstance(first.response_payload.get("picking"), dict), first.response_payload.get("picking")
    assert _units(world, order, a) == 2
