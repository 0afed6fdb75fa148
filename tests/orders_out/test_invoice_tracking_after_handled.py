"""ERP -> Shopify: a later F event of an NF-e (its carrier's tracking) once the NF-e's failed first
event was closed with "Mark as handled" (a person settled its money outside the app), or while that
first event was left pending with its job lost.

The hold EARLIER_EVENT_NOT_APPLIED exists so nothing charges what nobody decided. Closing the
earlier event as handled IS the decision: the money was settled outside the app. So the held
event's Retry writes the NF-e, fulfils and sends its tracking, and never captures — and the next
NF-e of the order does not charge the settled one either."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs import invoices, orders
from jobs.worker import run_worker
from ledger import flows, handled, order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, utcnow
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.transport import AdminTransport, RawResponse

from .conftest import LinkedOrder, World
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp
from .test_invoice_tracking import _tracking
from .test_invoice_tracking_events import _refuse_captures

PIX = "customer paid by Pix at the counter; capture not needed"
WORKING = AdminClient.order_capture  # before any test refuses it


def _count_captures(monkeypatch: pytest.MonkeyPatch, asked: list[Any]) -> None:
    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return WORKING(self, *args, **kwargs)

    monkeypatch.setattr(AdminClient, "order_capture", counted)


def _held_tracking_event(world: World, order: LinkedOrder, asked: list[Any], monkeypatch: pytest.MonkeyPatch
                         ) -> tuple[Message, Message]:  # fmt: skip
    """The order's first F event failed (Shopify refused the capture); its carrier's code then came
    on a later F event of the same NF-e, held behind it: (first, later)."""
    _refuse_captures(monkeypatch, asked)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value and len(asked) == 1
    _count_captures(monkeypatch, asked)
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert (later.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED"
    assert "Mark as handled" in (later.error_text or "")
    return first, later


def _mark_handled(message_id: int) -> None:
    with session_scope() as session:
        handled.mark(session, session.get(Message, message_id), by="staff-1", note=PIX)


def test_the_held_tracking_event_after_the_failed_capture_is_marked_handled_fulfils_but_never_captures(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person settles the money outside the app (Pix at the counter), closes the failed event
    with "Mark as handled", then Retries the held event as its explanation says: the NF-e is on the
    order, its goods fulfilled with the carrier's code, and no capture is asked — the authorisation
    stays open for the person, and the message and the order say why."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    asked: list[Any] = []
    first, later = _held_tracking_event(world, order, asked, monkeypatch)
    key = later.error_detail["nfe_key"]
    seq = first.request_payload["seq_evento"]

    _mark_handled(first.id)
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    state = world.settlement(order.gid)
    assert len(asked) == 1, f"the held event captured the NF-e a person settled by hand (paid {state.paid})"
    assert state.paid == 0 and state.open_authorization() is not None
    assert state.nfe["chave"] == key
    [fulfillment] = [f.id for f in state.active_fulfillments]
    assert _tracking(world, order.gid)[fulfillment][1] == "BR000000030BR"
    [_, done] = world.messages("invoices", order)
    said = f"capture of NF-e {key} not asked: event #{seq} was handled outside the app by staff-1: {PIX}"
    assert done.response_payload["capture"] == said
    assert done.response_payload["settled_outside"]["seq"] == seq
    assert said in (order_notes.note_of(world.link(order.gid), "invoices") or "")
    # A replay of the held event changes nothing: still no capture, nothing fulfilled twice.
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    assert len(asked) == 1 and len(world.settlement(order.gid).active_fulfillments) == 1


def test_the_next_nfe_does_not_charge_the_nfe_a_person_settled(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partial invoicing: NF-e A's capture is refused, settled by hand and closed as handled; A's
    tracking event is then applied (done: A is on the order). NF-e B, for the rest, captures B's own
    total — not A's again, which the customer already paid outside the app."""
    order, items, _part_a = _first_part_in_the_erp(world)
    asked: list[Any] = []
    first, later = _held_tracking_event(world, order, asked, monkeypatch)
    _mark_handled(first.id)
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    assert len(asked) == 1

    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    last = world.messages("invoices", order)[-1]
    assert last.status == MessageStatus.DONE.value, last.error_text
    assert world.settlement(order.gid).paid == part_b, "NF-e B charged the NF-e settled outside the app"


def test_a_tracking_event_behind_an_earlier_event_of_its_nfe_left_pending_waits_and_the_catch_up_applies_both(
    world: World, monkeypatch: pytest.MonkeyPatch, redis_conn: Any
) -> None:
    """The NF-e's first event was begun again (a Retry) and its worker killed: left pending, its job
    lost (trace.is_stale). The orders catch-up replays such a message by itself, so the carrier's
    later event keeps waiting for it (Transient, never failed: a failed one names no message to
    resume it by, and "Mark as handled" is refused on a pending message) — and once the catch-up ran,
    the first one captured the NF-e and the later one only sent its tracking."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    asked: list[Any] = []
    _refuse_captures(monkeypatch, asked)
    world.poll()
    [first] = world.messages("invoices", order)
    with session_scope() as session:  # Retry begun, then the worker died: pending, untouched since
        message = session.get(Message, first.id)
        message.status = MessageStatus.PENDING.value
        message.updated_at = utcnow() - timedelta(hours=1)
    _count_captures(monkeypatch, asked)
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status in (MessageStatus.PENDING.value, MessageStatus.RETRYING.value), (
        later.status, later.error_text)  # fmt: skip
    assert (later.error_detail or {}).get("code") != "EARLIER_EVENT_NOT_APPLIED"
    assert len(asked) == 1 and world.settlement(order.gid).paid == 0

    # No person: the scheduled orders catch-up redoes the first, then RQ's retry of the later comes round.
    orders.run(world.shop_id, stale_after_seconds=0)
    run_worker(burst=True, simple=True, with_scheduler=False)
    queue = Queue(flows.get("invoices").queue, connection=redis_conn)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():  # each retry RQ scheduled, put on the queue at once
        scheduled.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))
    run_worker(burst=True, simple=True, with_scheduler=False)
    first_now, later_now = world.messages("invoices", order)
    assert first_now.status == MessageStatus.DONE.value, first_now.error_text
    assert later_now.status == MessageStatus.DONE.value, (later_now.status, later_now.error_text)
    assert len(asked) == 2 and world.settlement(order.gid).paid > 0


def test_an_earlier_event_closed_as_handled_for_a_reason_not_about_money_does_not_stop_the_capture(
    world: World,
) -> None:
    """The NF-e's first event parked on a substitute SKU Shopify did not have; the carrier's code
    then came on a later event, held behind it (its text does not offer "Mark as handled" as a way
    to leave the money to a person: that failure is not about the money). A person swaps the item
    by hand in Shopify and closes the parked event as handled: nothing about the money was settled,
    so the held event's Retry captures the NF-e (else its authorisation lapses uncaptured)."""
    from sqlalchemy import delete

    from sandbox.consinco import tables as t

    original = world.plain(0)
    order = world.linked_order([(original, 1)], gateway="cartao", capture="manual")
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": unbound.ean, "qtd": 1}]
    )
    world.erp.invoice(order.nro, tracking=False)
    with world.erp.store.write() as (conn, _now):  # this ERP reports only the invoice
        events = t.mad_pedvendaevento
        conn.execute(delete(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.PARKED.value, (first.status, first.error_text)
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert (later.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED", later.error_text
    assert "still captures the NF-e" in later.error_text and "captures nothing" not in later.error_text
    assert world.settlement(order.gid).paid == 0

    with session_scope() as session:  # the item swapped by hand in Shopify: nothing about money
        handled.mark(
            session, session.get(Message, first.id), by="staff-1", note="substituted the item by hand"
        )
    world.publish(unbound)
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    _, later = world.messages("invoices", order)
    assert "not asked" not in (later.response_payload or {}).get("capture", "")
    assert world.settlement(order.gid).paid > 0, (later.response_payload or {}).get("capture")


REAL_SEND = AdminTransport.send


def _answer_capture(monkeypatch: pytest.MonkeyPatch, answer: RawResponse) -> None:
    """orderCapture answered `answer` by Shopify, through the real client (the executor names the
    operation OrderCapture, and a 4xx carries no operation at all)."""

    def send(self: Any, op: Any, variables: Any, token: Any) -> Any:
        return answer if op.name == "OrderCapture" else REAL_SEND(self, op, variables, token)

    monkeypatch.setattr(AdminTransport, "send", send)


REFUSED = RawResponse(
    200,
    {"orderCapture": {"transaction": None, "userErrors": [{"field": ["input", "amount"], "message": "refused",
                                                           "code": "INVALID"}]}},
    None, None, "rid", None,
)  # fmt: skip
FORBIDDEN = RawResponse(403, None, None, None, "rid", None, text="Forbidden")


@pytest.mark.parametrize("answer", [REFUSED, FORBIDDEN], ids=["user_error", "http_403"])
def test_a_capture_shopify_refused_through_the_real_client_then_handled_is_never_charged_again(
    world: World, monkeypatch: pytest.MonkeyPatch, answer: RawResponse
) -> None:
    """However Shopify refused the capture (a userError the executor names OrderCapture, or an HTTP
    4xx naming no operation), the message was about the NF-e's money: closed as handled (paid by Pix
    at the counter), the carrier's later event of the NF-e captures nothing."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    _answer_capture(monkeypatch, answer)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, first.error_text
    monkeypatch.setattr(AdminTransport, "send", REAL_SEND)
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    with session_scope() as session:
        handled.mark(session, session.get(Message, first.id), by="staff-1", note="paid by Pix at the counter")
    invoices.replay(later.id)
    assert world.settlement(order.gid).paid == 0
