"""An order the ERP invoiced (or cancelled) after the events poll last read, its event not read yet
when the report began, is on its way, not "missed": counted in flight, judged next time. When the
poll is not keeping up (its cursor far behind), the same order is drift: nothing is on its way."""

from __future__ import annotations

from datetime import timedelta

from jobs import reconcile
from ledger import watermarks
from ledger.db import session_scope
from ledger.models import utcnow


def test_an_invoice_issued_after_the_last_poll_is_in_flight_not_missed(world, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # placed a while ago, on Shopify's side
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro)
    world.poll()
    world.erp.invoice(order.nro)  # invoiced now: the next EventoPedido poll has not run yet
    report = reconcile.run(world.shop_id, stock_sample=10)
    assert report["orders"]["status_differs"] == []
    assert report["orders"]["in_flight_count"] >= 1

    # The poll reads it and applies it: the next report finds nothing either.
    world.poll()
    again = reconcile.run(world.shop_id, stock_sample=10)
    assert again["orders"]["status_differs"] == []


def test_with_the_poll_far_behind_an_invoice_not_applied_is_drift(world, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(1), 1)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro)
    with session_scope() as session:  # the poll stopped an hour ago
        watermarks.reset(session, world.shop_id, "order_events")
        long_ago = utcnow() - timedelta(hours=1)
        watermarks.advance(session, world.shop_id, "order_events", "", long_ago, 0, long_ago)
    report = reconcile.run(world.shop_id, stock_sample=10)
    [row] = [r for r in report["orders"]["status_differs"] if r["nro_pedvenda"] == order.nro]
    assert "the ERP's invoice event was missed or failed" in row["why"]


def test_an_order_cancelled_in_shopify_and_picked_in_the_erp_just_now_is_still_drift() -> None:
    """Only the ERP's change on its way is excused: an order Shopify cancelled whose ERP order is
    live (its cancellation refused: picked) differs though the ERP's status moved a minute ago."""
    from decimal import Decimal
    from types import SimpleNamespace

    from shopify_app.admin_api.order_settlement import OrderTotal

    now = utcnow()
    link = SimpleNamespace(shop_id=1, shopify_order_id="gid://shopify/Order/1", shopify_order_name="#1001",
                           nro_pedvenda=77, nfe_key=None, needs_attention=None)  # fmt: skip
    erp_order = SimpleNamespace(situacao="S", status_changed_at=now, nro_pedvenda=77, invoices=(),
                                total=Decimal("10.00"), total_served=None, lines=())  # fmt: skip
    erp_client = SimpleNamespace(get_order=lambda nro: erp_order)
    shopify = OrderTotal("gid://shopify/Order/1", "#1001", None, now.isoformat(), now.isoformat(), "PAID",
                         Decimal("10.00"))  # fmt: skip
    findings: dict = {"status_differs": [], "totals_differ": [], "missing_in_erp": [], "not_checked": []}
    in_flight = reconcile._compare(link, shopify, None, erp_client, findings, events_read_to=now)
    assert in_flight is False
    [row] = findings["status_differs"]
    assert row["erp"] == "S" and row["shopify_cancelled"] is True
