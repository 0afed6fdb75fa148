"""An EventoPedido row the ERP commits more than ERP_READ_OVERLAP after its DtaHorEvento (a long
invoicing transaction stamped when it began; an ERP application server's clock behind) is behind the
cursor once visible: no poll read it, its NF-e was never written, its payment never captured. The
hourly late sweep reads the last day whole again and takes it."""

from __future__ import annotations

from datetime import timedelta

from jobs import order_events
from ledger.db import session_scope
from ledger.models import MessageStatus, Watermark
from tests.orders_out.conftest import World


def test_an_invoice_committed_minutes_after_its_stamp_is_applied_by_the_late_sweep(world: World) -> None:
    from sandbox.consinco import tables as t

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.poll()  # the cursor at the ERP's present
    world.erp.invoice(order.nro)  # its S and F rows visible now...
    with world.erp.store.write() as (conn, now):  # ...stamped when the transaction began, 5 min ago
        events = t.mad_pedvendaevento
        late = now - timedelta(minutes=5)
        conn.execute(events.update().where(events.c.nropedvenda == order.nro).values(dtahorevento=late))
    counts = world.poll()
    assert "late" not in counts and world.messages("invoices", order) == []  # behind the cursor

    with session_scope() as session:  # an hour since the last sweep
        row = (
            session.query(Watermark)
            .filter_by(shop_id=world.shop_id, flow=order_events.FLOW, scope=order_events.LATE_SCOPE)
            .one()
        )
        row.last_changed_at = row.last_changed_at - order_events.LATE_SWEEP_EVERY
    counts = world.poll()
    assert counts["late"] == 2  # its S and its F
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    again = world.poll()  # swept just now: not due again
    assert "late" not in again


def _sweep_due(world: World) -> None:
    """An hour since the shop's last late sweep."""
    with session_scope() as session:
        row = (
            session.query(Watermark)
            .filter_by(shop_id=world.shop_id, flow=order_events.FLOW, scope=order_events.LATE_SCOPE)
            .one()
        )
        row.last_changed_at = row.last_changed_at - order_events.LATE_SWEEP_EVERY


def test_the_late_sweep_takes_again_only_events_not_yet_final(world: World, monkeypatch) -> None:
    """A sweep reads a day of every store's events, all but the late few seen already: those are
    told apart 500 to a query, not taken one by one (a message lookup each, 24 times a day)."""
    orders = [world.linked_order([(world.plain(0), 1)], gateway="pix") for _ in range(3)]
    for order in orders:
        world.erp.invoice(order.nro)
    world.poll()
    _sweep_due(world)
    world.poll()  # the ERP's earlier events of other tests' stores, stamped back: traced now
    taken: list[int] = []
    real = order_events._take
    monkeypatch.setattr(
        order_events, "_take", lambda shop_id, event: taken.append(event.seq_evento) or real(shop_id, event)
    )
    _sweep_due(world)
    counts = world.poll()
    assert "late" not in counts and taken == []  # every event's message final: none taken again
