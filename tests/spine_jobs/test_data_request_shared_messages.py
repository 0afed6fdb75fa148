"""A customers/data_request export holds what the ledger holds on the customer, and nobody else's.

A message about many customers, the day's reconciliation report (one message a day, listing every
held order with its message's text: another buyer's mistyped CPF, a staff note quoting an e-mail),
names her order among the others: the export holds only the report's entries about her, and the
audit record keeps where they are (no data); a report run again after the export (other orders at
those places) gives none of it out. What customers/redact scrubs as hers (a schedule's last error
quoting her e-mail, an inbox row's failure text) is in her export too."""

from __future__ import annotations

import json

from sqlalchemy import select

from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import AuditEvent, Message, Schedule, Shop
from ledger.privacy import export_recorded

from .conftest import SHOP

ANA = {"id": 7001, "email": "ana.souza@example.com", "phone": "+5511987654321"}
OTHER_CPF = "52998224726"  # another buyer's, as his order's failure quotes it
OTHER_EMAIL = "bruno.lima@example.com"


def _work(rconn) -> None:
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)


def _event() -> AuditEvent:
    with session_scope() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.data_exported"))
        session.expunge(event)
        return event


def _export(event: AuditEvent) -> dict:
    with session_scope() as session:
        shop = session.scalar(select(Shop))
        exported, customer = event.after["exported"], event.after["customer_id"]
        return export_recorded(session, shop, exported, customer, event.created_at)


def _report(shop_id: int) -> int:
    held = [
        {
            "order": "gid://shopify/Order/9001",
            "name": "#1001",
            "status": "pending",
            "why": "waiting for payment",
        },
        {
            "order": "gid://shopify/Order/9002",
            "name": "#1002",
            "status": "failed",
            "why": f"CPF/CNPJ '{OTHER_CPF}' is invalid: CPF check digits (modulo 11) do not match",
        },
        {
            "order": "gid://shopify/Order/9003",
            "name": "#1003",
            "status": "skipped",
            "why_words": [{"key": "recon_handled", "params": {"note": f"recibo enviado para {OTHER_EMAIL}"}}],
        },
    ]
    with session_scope() as session:
        report = Message(
            shop_id=shop_id,
            flow="reconcile",
            direction="both",
            unit_key="report:2026-11-28",
            status="done",
            request_payload={"since": "2026-11-26T00:00:00+00:00"},
            response_payload={"orders": {"checked": 3, "held_in_app": held}, "summary": {"orders_held": 3}},
        )
        session.add(report)
        session.flush()
        return report.id


def test_of_a_report_about_many_orders_only_her_orders_entry_is_exported(shop_id, deliver, rconn):
    report_id = _report(shop_id)
    deliver(
        "customers/data_request",
        {"shop_domain": SHOP, "customer": ANA, "orders_requested": [9001], "data_request": {"id": 1}},
    )
    _work(rconn)
    event = _event()
    assert event.after["exported"]["message_parts"] == {
        str(report_id): [["response_payload", "orders", "held_in_app", 0]]
    }
    export = _export(event)
    [message] = export["messages"]
    assert message["id"] == report_id and message["request_payload"] is None
    assert message["response_payload"] == {
        "orders": {
            "held_in_app": [
                {
                    "order": "gid://shopify/Order/9001",
                    "name": "#1001",
                    "status": "pending",
                    "why": "waiting for payment",
                }
            ]
        }
    }
    text = json.dumps(export)
    assert OTHER_CPF not in text and OTHER_EMAIL not in text and "#1002" not in text

    with session_scope() as session:  # the day's report run again: other orders at those places
        report = session.get(Message, report_id)
        held = report.response_payload["orders"]["held_in_app"]
        report.response_payload = {"orders": {"held_in_app": held[1:]}, "summary": {"orders_held": 2}}
    later = _export(event)
    assert later["messages"][0]["response_payload"] is None and OTHER_CPF not in json.dumps(later)


def test_what_the_redact_scrubs_as_hers_is_in_her_export(shop_id, deliver, rconn):
    with session_scope() as session:
        session.add(
            Schedule(
                shop_id=shop_id,
                flow="orders_catch_up",
                cron="*/10 * * * *",
                last_error=f"ValueError: order #1001 of {ANA['email']} has no shipping line",
            )
        )
    deliver(
        "customers/data_request",
        {"shop_domain": SHOP, "customer": ANA, "orders_requested": [9001], "data_request": {"id": 2}},
    )
    _work(rconn)
    event = _event()
    assert event.after["counts"]["schedules"] == 1 and ANA["email"] not in json.dumps(event.after)
    [schedule] = _export(event)["schedules"]
    assert schedule["flow"] == "orders_catch_up" and "has no shipping line" in schedule["last_error"]
