"""An ERP invoice (F event) whose invoices message is still pending or retrying (its job queued
behind a backlog, or retrying a Shopify capture that timed out) is work in flight, as a
cancellation or an edit still being processed is: the next report judges it. The report counted it
as drift ("the ERP's invoice event was missed or failed"); once the message fails it is drift."""

from __future__ import annotations

from datetime import timedelta

from jobs import order_events, reconcile
from ledger import drift, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, MessageStatus

from .conftest import World


def test_an_invoice_still_being_applied_is_in_flight_not_drift(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro)
    world.poll()
    world.erp.invoice(order.nro)
    order_events.run(world.shop_id)  # read and enqueued; the worker has not got to it yet
    [message] = world.messages("invoices", order)
    assert message.status in (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)

    report = reconcile.run(world.shop_id, stock_sample=10)
    orders = report["orders"]
    assert orders["status_differs"] == [], orders["status_differs"]
    assert "order_status_differs" not in drift.findings(report), drift.findings(report)
    assert orders["in_flight_count"] == 1

    with session_scope() as session:  # its job failed for a person: the invoice was not applied, drift
        failed = session.get(Message, message.id)
        trace.fail(session, failed, Rejected("Shopify refused the capture", system="shopify"))
    orders = reconcile.run(world.shop_id, stock_sample=10)["orders"]
    [row] = orders["status_differs"]
    assert row["order"] == order.gid and row["invoices_message"]["status"] == MessageStatus.FAILED.value, row
