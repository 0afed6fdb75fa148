"""An order the ERP invoices or cancels days after the sale, its event missed: Shopify changes
nothing of it, so a report whose window lists only the orders Shopify changed never looked at it
again, though reports ran every day. Orders still open in the ERP as the app knows them are read
one by one and compared every report (OPEN_SAMPLE of them a report, in a daily turn)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jobs import reconcile, reconcile_cli
from ledger.db import session_scope
from ledger.models import Message, utcnow

from .conftest import World

REAL = utcnow


def _report(world: World, monkeypatch, day: int) -> dict:
    """The scheduled report `day` days from now, its message dated then as it would be."""
    at = REAL() + timedelta(days=day)
    monkeypatch.setattr(reconcile, "utcnow", lambda: REAL() + timedelta(days=day))
    report = reconcile.run(world.shop_id, stock_sample=1)
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.flow == "reconcile", Message.unit_key == reconcile.report_key(at))
        ).one()
        message.created_at = at
    return report["orders"]


def test_an_order_invoiced_in_the_erp_days_after_the_sale_its_event_missed_is_reported(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    for day in (0, 1, 2):
        assert _report(world, monkeypatch, day)["status_differs"] == []
    world.erp.separate(order.nro)
    world.erp.invoice(order.nro)  # a delivery slot three days on: invoiced then, its F event missed

    orders = _report(world, monkeypatch, 3)

    (row,) = [r for r in orders["status_differs"] if r["order"] == order.gid]
    assert row["erp"] == "F" and "invoice not applied in Shopify" in row["why"]
    assert (orders["open_in_erp_read"], orders["open_in_erp_count"]) == (1, 1)


def test_an_order_cancelled_in_the_erp_after_the_window_its_event_missed_is_reported(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    for day in (0, 1, 2):
        _report(world, monkeypatch, day)
    world.erp.cancel(order.nro)  # its C event missed: Shopify still sells it as live

    orders = _report(world, monkeypatch, 3)

    (row,) = [r for r in orders["status_differs"] if r["order"] == order.gid]
    assert (row["erp"], row["shopify_cancelled"]) == ("C", False)


def test_open_orders_beyond_the_sample_are_read_in_a_daily_turn_and_closed_ones_not_at_all(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(reconcile, "OPEN_SAMPLE", 1)
    first = world.linked_order([(world.plain(0), 1)], gateway="pix")
    second = world.linked_order([(world.plain(1), 1)], gateway="pix")
    invoiced = world.linked_order([(world.plain(2), 1)], gateway="pix")
    world.erp.separate(invoiced.nro)
    world.invoice(invoiced)  # its invoice applied: the NF-e key on its link, nothing open there
    for day in (0, 1, 2):
        _report(world, monkeypatch, day)
    world.erp.cancel(first.nro)
    world.erp.cancel(second.nro)  # both events missed

    found = []
    for day in (3, 4):
        orders = _report(world, monkeypatch, day)
        assert (orders["open_in_erp_read"], orders["open_in_erp_count"]) == (1, 2)
        found += [r["order"] for r in orders["status_differs"]]
        text = reconcile_cli.render({"shop": world.domain, "generated_at": "", "since": "", "orders": orders})
        assert "orders open in the ERP, older than the window, compared: 1 of 2" in text
    assert sorted(found) == sorted([first.gid, second.gid])  # one a day, each in its turn
