"""The reconciliation's cancellations, and the work on orders still in flight (jobs.reconcile).

A cancellation in Shopify whose webhooks the app missed (down longer than Shopify's retries) left
what the app holds as it was: an order parked on a mapping (or refused, or waiting for payment)
kept its message open, asking for a mapping of an order that is gone, and its units counting as
sold but not in the ERP yet (jobs.stock_pending: Shopify's levels stay low); an order in the ERP
stayed live there, to be picked and invoiced. The report enqueues the cancellation the webhook
would have run (jobs.cancellations.to_erp.cancel_in_erp: it closes a never-sent order's message,
cancels an ERP order, or fails for a person where it cannot) when Shopify lists the order
cancelled, the app holds it (a link not marked cancelled, or an open orders message) and no
cancellations message of it exists: once its job ran, that message exists, so it is enqueued once.

An order whose cancellation, edit or invoice the app is still processing (its message pending or
retrying: the ERP down a moment, a job queued behind a backlog, a Shopify capture retried) differs
between the sides until it lands: in flight, not drift. An invoice the ERP issued whose invoices
message is still open that way is not "missed or failed" yet; once it fails, it is drift.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobs import order_map
from ledger import queues
from ledger.db import session_scope
from ledger.models import Message, MessageStatus

CANCEL_JOB = "jobs.cancellations.to_erp.cancel_in_erp"
CANCELLATIONS = "cancellations"  # jobs.cancellations.to_erp.FLOW (not imported: it imports jobs.orders)
IN_FLIGHT_FLOWS = (CANCELLATIONS, "order_edits", "invoices")
WORKING = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
IN_CHUNK = 5000  # ids per IN (...) list: PostgreSQL takes at most 65,535 bind parameters a statement


def messages_of(shop_id: int, order_ids: list[str]) -> tuple[set[str], set[str]]:
    """Of the orders `order_ids` (gids): those the Shopify -> ERP cancellation reached (a message of
    any status: done, skipped, or failed for a person, who sees it), and those with a cancellation,
    an edit or an invoice still being processed, either way (a message pending or retrying)."""
    ids = sorted(set(order_ids))
    cancelled, working = set(), set()
    with session_scope() as session:
        for at in range(0, len(ids), IN_CHUNK):
            rows = session.execute(
                select(Message.shopify_id, Message.flow, Message.unit_key, Message.status).where(
                    Message.shop_id == shop_id,
                    Message.flow.in_(IN_FLIGHT_FLOWS),
                    Message.shopify_id.in_(ids[at : at + IN_CHUNK]),
                )
            )
            for order_id, flow, unit_key, status in rows:
                if flow == CANCELLATIONS and unit_key.startswith("cancel:"):
                    cancelled.add(order_id)
                if status in WORKING:
                    working.add(order_id)
    return cancelled, working


def enqueue_cancel(shop_id: int, order: Any) -> bool:
    """The Shopify -> ERP cancellation of one order, as its orders/cancelled would have run it
    (False: its job is still waiting, not enqueued twice). Shopify's listing carries no reason."""
    num = order_map.numeric_id(order.id)
    job = queues.enqueue(CANCEL_JOB, shop_id, order.id, None, queue=queues.ORDERS, replace_ended=True,
                         job_id=queues.job_key("reconcile-cancel", shop_id, num),
                         kwargs={"name": order.name or None})  # fmt: skip
    return job is not None
