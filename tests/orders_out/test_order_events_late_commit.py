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


def test_a_failing_late_sweep_neither_fails_the_poll_nor_holds_its_cursor(world: World, monkeypatch) -> None:
    """The sweep is the poll's biggest read (a day of every store's events), the likeliest to time
    out. Run before the cursor moved, its failure failed the poll whose own read was complete: the
    cursor stayed, the sweep stayed due, and every later poll read a growing window and failed the
    same way, until that window failed too and no invoice reached Shopify. It runs after the cursor
    moved, and a failure is counted and tried again at the next poll."""
    import erp as erp_pkg
    from erp.errors import ErpTransient
    from ledger import watermarks

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.poll()
    with session_scope() as session:
        before = watermarks.read(session, world.shop_id, order_events.FLOW).last_changed_at
    real = erp_pkg.for_shop
    failing = [True]
    sweeps: list[bool] = []

    class SweepTimesOut:
        """The shop's client, its day-long read (the sweep's, a day back) timing out."""

        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            return getattr(self._client, name)

        def order_events(self, since=None, nro_empresa=None, *, skip=()):
            if since is not None and since < before - timedelta(hours=1):
                sweeps.append(failing[0])
                if failing[0]:
                    raise ErpTransient("EventoPedido: read timed out", status=504)
            return self._client.order_events(since, nro_empresa, skip=skip)

    monkeypatch.setattr(erp_pkg, "for_shop", lambda shop_id: SweepTimesOut(real(shop_id)))
    world.erp.invoice(order.nro)
    _sweep_due(world)
    counts = world.poll()
    assert counts["late_failed"] == 1 and counts["enqueued"] == 2  # the poll's own read taken
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    with session_scope() as session:
        after = watermarks.read(session, world.shop_id, order_events.FLOW).last_changed_at
    assert after > before  # the cursor moved past what the poll read

    assert world.poll()["late_failed"] == 1  # not swept: due again, and failing again
    failing[0] = False
    assert "late_failed" not in world.poll()  # swept at last
    world.poll()
    assert sweeps == [True, True, False]  # and not due again
