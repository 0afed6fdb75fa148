"""A weighed substitute of 1,3 kg goes in as 2 units (1 on a line, 1 on a line of its own with the
kilograms' discount). The ERP then separates the order again (a new 'S' event) with the
substitute cut to zero: every line it was added on goes to zero, not only the variant's first, or
the customer is charged for a unit the ERP neither delivers nor invoices."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from tests.orders_out.conftest import World
from tests.orders_out.test_picking_reported_twice import _substituted, _units


def test_a_weighed_substitute_cut_to_zero_later_leaves_no_unit(world: World) -> None:
    order, weighed = _substituted(world, 1.3)
    world.poll()
    added = [x["currentQuantity"] for x in world.order_doc(order.gid)["_lines"] if x["sku"] == weighed]
    assert added == [1, 1], added  # 1,3 kg: one unit, and one on a line of its own with the discount
    events = t.mad_pedvendaevento
    with world.erp.store.write() as (conn, now):
        row = (
            conn.execute(select(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
            .mappings()
            .first()
        )
        data = json.loads(row["dados"])
        for item in data["itens"]:
            if item["seqItemSubstituido"] is not None:
                item["qtdAtendida"], item["vlrTotalAtendido"] = 0.0, 0.0
        seq = conn.execute(select(func.max(events.c.seqevento))).scalar_one() + 1
        conn.execute(
            events.insert().values(seqevento=seq, tipoevento="S", dtahorevento=now, nropedvenda=order.nro,
                                   nroempresa=row["nroempresa"], dados=json.dumps(data))
        )  # fmt: skip
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert _units(world, order, weighed) == 0, world.order_doc(order.gid)["_lines"]
