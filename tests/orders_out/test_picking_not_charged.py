"""What the ERP's picking must never put on the customer's bill in Shopify: units served above
what was ordered (as a weighed line picked heavier is not charged), and a product the Shopify order
has no line of (an ERP order typed by hand and linked by a person, its lines not the order's): both
are recorded on the order's lines, named, and Shopify's order left as the customer placed it."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from ledger.models import MessageStatus
from tests.orders_out.conftest import World


def _serve(world: World, nro: int, served: dict[int, float]) -> None:
    """After a picking, ERP lines {seqItem: qty} served as the ERP says (the table and the order's
    last S event alike): more than ordered, which the sandbox's own picking does not offer."""
    from sandbox.consinco import tables as t
    from sandbox.consinco.order_records import order_record

    store = world.erp.store
    with store.write() as (conn, _now):
        items = t.mad_pedvendaitem
        for item, qty in served.items():
            same = (items.c.nropedvenda == nro) & (items.c.seqitem == item)
            conn.execute(items.update().where(same).values(qtdatendida=qty))
        record = order_record(conn, nro, "", store.quantity_unit, store.discount_per)
        events = t.mad_pedvendaevento
        row = conn.execute(
            select(events)
            .where(events.c.nropedvenda == nro, events.c.tipoevento == "S")
            .order_by(events.c.seqevento.desc())
        ).first()
        data = {**json.loads(row.dados), "itens": record["itens"]}
        data["vlrTotalAtendido"] = record["vlrTotalAtendido"]
        same_event = events.c.seqevento == row.seqevento
        conn.execute(events.update().where(same_event).values(dados=json.dumps(data)))


def _quantities(world: World, gid: str) -> dict[str, int]:
    return {line["sku"]: line["currentQuantity"] for line in world.order_doc(gid)["_lines"]}


def test_units_served_above_the_order_are_recorded_not_charged_nor_captured(world: World) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid).current_total
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1})
    _serve(world, order.nro, {order.lines[b]: 2.0})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value
    assert _quantities(world, order.gid) == {a: 1, b: 1}  # the cut applied, B not raised
    after = world.settlement(order.gid).current_total
    assert after == before - 2 * world.chain.prices[a]
    more = next(c for c in world.line_changes(order.gid) if c.sku == b)
    assert (more.kind, more.applied, more.qty_after) == ("qty", False, Decimal(2))
    assert more.reason_words[0]["key"] == "line_more_served_kept"
    world.invoice(order)
    assert world.settlement(order.gid).paid <= after  # the extra B is not captured


def test_a_cut_of_an_erp_line_the_shopify_order_has_no_line_of_adds_nothing(world: World) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2)], erp_lines=[(a, 2), (b, 3)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid).current_total
    world.erp.separate(order.nro, cuts={str(order.lines[b]): 1})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value
    assert _quantities(world, order.gid) == {a: 2}  # B never put on the customer's order
    assert world.settlement(order.gid).current_total == before
    [named] = [c for c in world.line_changes(order.gid) if c.sku == b]
    assert (named.kind, named.applied) == ("cut", False)
    assert named.reason_words[0]["key"] == "line_not_on_order"
    assert named.reason_words[0]["params"]["item"] == order.lines[b]


def test_a_substitute_of_an_erp_line_the_shopify_order_has_no_line_of_adds_nothing(world: World) -> None:
    """The ERP order (typed by hand, linked by a person) holds a line B the Shopify order has not,
    and the picking replaces B with C: B's cut was recorded and named, but C was planned before that
    check and added to the customer's order, charged for a product they never ordered."""
    a, b, c = world.plain(0), world.plain(1), world.plain(2)
    order = world.linked_order([(a, 2)], erp_lines=[(a, 2), (b, 3)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid).current_total
    c_product = next(s.seq_produto for s in world.chain.skus if s.id_sku == c)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[b], "seqProduto": c_product, "qtd": 3}]
    )
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert _quantities(world, order.gid) == {a: 2}
    assert world.settlement(order.gid).current_total == before
