"""A weighed line picked lighter by an amount its 3 units do not divide is split (2 units + 1 unit
on a line of its own, each discounted). The ERP then separates the order again (a new 'S' event)
with that line cut to zero: every Shopify line of it goes to zero, the split's unit too, or the
customer is charged for a unit of meat the ERP neither delivers nor invoices."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from tests.orders_out.conftest import World
from tests.orders_out.test_weighed_discount import _uneven_weight


def _emit_again_with(world: World, nro: int, seq_item: int, served: float) -> None:
    """The order's 'S' event emitted again, the line `seq_item` served `served` kg this time."""
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, now):
        row = (
            conn.execute(select(events).where(events.c.nropedvenda == nro, events.c.tipoevento == "S"))
            .mappings()
            .first()
        )
        data = json.loads(row["dados"])
        for item in data["itens"]:
            if item["seqItem"] == seq_item:
                item["qtdAtendida"], item["vlrTotalAtendido"] = served, 0.0
        seq = conn.execute(select(func.max(events.c.seqevento))).scalar_one() + 1
        conn.execute(
            events.insert().values(seqevento=seq, tipoevento="S", dtahorevento=now, nropedvenda=nro,
                                   nroempresa=row["nroempresa"], dados=json.dumps(data))
        )  # fmt: skip
        pvi = t.mad_pedvendaitem
        conn.execute(
            pvi.update().where(pvi.c.nropedvenda == nro, pvi.c.seqitem == seq_item).values(qtdatendida=served)
        )


def test_a_weighed_line_split_then_cut_to_zero_leaves_no_unit(world: World) -> None:
    weighed, plain = world.weighed(), world.plain(2)
    order = world.linked_order([(weighed, 3), (plain, 1)], gateway="cartao", capture="manual")
    kg, _ = _uneven_weight(world.chain.prices[weighed], 3)
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): float(kg)})
    world.poll()
    lines = [(line["sku"], line["currentQuantity"]) for line in world.order_doc(order.gid)["_lines"]]
    assert sorted(q for s, q in lines if s == weighed) == [1, 2], lines  # split made

    _emit_again_with(world, order.nro, order.lines[weighed], 0.0)
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    lines = [(line["sku"], line["currentQuantity"]) for line in world.order_doc(order.gid)["_lines"]]
    assert sum(q for s, q in lines if s == weighed) == 0, (lines, last.response_payload)
    assert sum(q for s, q in lines if s == plain) == 1, lines
