"""Mark as handled while a job of the message is still queued: an invoice failed, a person clicked
Retry (its replay queued behind others), then settled it by hand in Shopify and marked it handled.
The queued job must not run it anyway (trace.begin would clear the handled record, and the NF-e,
capture and fulfilment be applied on top of the person's)."""

from __future__ import annotations

from sqlalchemy import select

from jobs import order_events
from jobs.worker import run_worker
from ledger import handled, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, MessageStatus
from shopify_app.enqueue import enqueue_replay

from .conftest import World
from .test_hand_linked_order import orders_api  # noqa: F401


def _failed_invoice_with_a_retry_queued(world: World) -> int:
    order = world.linked_order([(world.plain(0), 1)])
    world.erp.invoice(order.nro)
    order_events.run(world.shop_id)  # the poller enqueues its job; nothing run yet
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.flow == "invoices", Message.erp_id == str(order.nro))
        ).one()
        trace.fail(session, message, Rejected("capture refused", system="shopify", code="CAPTURE_REFUSED"))
        session.flush()
        enqueue_replay(message)  # the person's Retry, queued
        return message.id


def _after_the_worker(message_id: int) -> tuple[str, dict]:
    run_worker(burst=True, simple=True, with_scheduler=False)
    with session_scope() as session:
        message = session.get(Message, message_id)
        return message.status, dict(message.error_detail or {})


def test_marking_handled_is_refused_while_its_job_is_queued(world: World, orders_api) -> None:  # noqa: F811
    message_id = _failed_invoice_with_a_retry_queued(world)
    client, auth = orders_api
    answer = client.post(
        f"/api/messages/{message_id}/handled", json={"note": "NF-e and capture done by hand"}, headers=auth
    )
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"]["code"] == "job_queued"
    status, detail = _after_the_worker(message_id)
    assert status == MessageStatus.DONE.value and handled.KEY not in detail  # the Retry applied it
    again = client.post(f"/api/messages/{message_id}/handled", json={"note": "late"}, headers=auth)
    assert again.get_json()["error"]["code"] == "not_closable"  # done: nothing left to close


def test_a_queued_job_stops_on_a_message_closed_as_handled(world: World) -> None:
    """Closed anyway (before this check, or by another path): the event's job leaves it closed."""
    message_id = _failed_invoice_with_a_retry_queued(world)
    with session_scope() as session:
        handled.mark(session, session.get(Message, message_id), by="31", note="done by hand in Shopify")
    status, detail = _after_the_worker(message_id)
    assert status == MessageStatus.SKIPPED.value, detail
    assert detail[handled.KEY]["note"] == "done by hand in Shopify"
