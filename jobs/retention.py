"""What the app keeps only for a while: processed webhook deliveries, and the stock flow's batch
messages, deleted once old (INBOX_RETENTION_DAYS, STOCK_BATCH_RETENTION_DAYS; 30 by default).

Webhook deliveries (`forget_processed_deliveries`). The inbox keeps every delivery whole, its raw
body too, and an order's body carries its customer (name, e-mail, phone, addresses, CPF/CNPJ).
Once processed, a delivery has done its work: what it caused is in the messages (the trace, with
ids, totals and reasons), the order links and the audit; a replay re-reads the order from Shopify,
never the delivery. Kept for ever, the table grows by each order's three or four deliveries and
holds personal data the app no longer needs (LGPD: kept only as long as needed; customers/redact
scrubs it on request meanwhile). What goes: rows `processed` whose processing ended more than the
retention ago. What stays: `failed` (the Failed jobs page: a person's), `rejected` (a malformed
delivery, kept with its reason), `received` and `enqueued` (the sweeper's, not done yet).
Duplicates: Shopify redelivers a webhook for up to 4 hours, so a retention of at least a day
(settings refuses less) keeps every row a redelivery could meet in the receiver's UNIQUE indexes.

Stock batch messages (`forget_stock_batches`). Each stock pass writes one message per batch of up
to 250 levels of one company ("stock:<company>:<digest of its SKUs>", jobs.stock_writer), with the
levels as its request (~6 KB): every pass that finds levels changed adds new ones, so a chain
selling all day adds thousands a day, and nothing reads a finished one again (the levels' truth is
in Shopify and the "stock" bindings; a later pass re-derives every level). What goes: such batch
messages done or skipped (superseded) whose last change is older than the retention. What stays:
failed, retrying, parked and pending ones (a person's or the flow's still), one closed as handled
(a person's record), and every other stock unit (a company's refusal, stock control, policies,
unanswered writes: their keys are not a batch's).

When: from the scheduler's tick (jobs.scheduler), once an hour (RAN_KEY in Redis), a chunk of CHUNK
rows per transaction so no delete holds a table long, for at most BUDGET seconds a tick (the tick has
50 s and the schedules to start after it): a backlog (a first run on a years-old ledger) is worked
through in the next minutes' ticks, the hour counted from when it is done.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import delete, select

from ledger import queues
from ledger.db import session_scope
from ledger.models import InboxStatus, Message, MessageStatus, Shop, WebhookInbox, utcnow
from ledger.trace import closed_as_handled
from settings import get_settings

log = logging.getLogger(__name__)

RAN_KEY = "retention:ran"  # set for RUN_EVERY seconds once a run found nothing more to delete
RUN_EVERY = 3600
BUDGET = 10.0  # seconds of deleting a tick gives it at most
LEFT_FOR_NEXT_TICK = 30  # seconds RAN_KEY is kept when rows are left: gone before the next tick
CHUNK = 2000
STOCK_FLOW = "stock"  # jobs.stock.FLOW
STOCK_BATCH = re.compile(r"stock:\d+:[0-9a-f]{16}")  # jobs.stock_writer: company + digest(skus)[:16]
FINISHED = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)


@dataclass
class Outcome:
    gone: int = 0  # rows deleted
    done: bool = True  # False: stopped at the deadline with rows left


def forget_processed_deliveries(days: float, now: datetime | None = None, *, chunk: int = CHUNK,
                                until: float | None = None) -> Outcome:  # fmt: skip
    """Delete the processed deliveries older than `days` (0: none), until the monotonic deadline
    `until` (None: all)."""
    outcome = Outcome()
    if days <= 0:
        return outcome
    cutoff = (now or utcnow()) - timedelta(days=days)
    while True:
        if until is not None and time.monotonic() >= until:
            outcome.done = False
            break
        with session_scope() as session:
            ids = session.scalars(
                select(WebhookInbox.id)
                .where(
                    WebhookInbox.status == InboxStatus.PROCESSED.value,
                    WebhookInbox.received_at < cutoff,  # processed after it was received
                    WebhookInbox.processed_at < cutoff,
                )
                .order_by(WebhookInbox.id)
                .limit(chunk)
            ).all()
            if ids:
                session.execute(delete(WebhookInbox).where(WebhookInbox.id.in_(ids)))
        outcome.gone += len(ids)
        if len(ids) < chunk:
            break
    if outcome.gone:
        log.info("retention: %s processed webhook deliveries older than %s days deleted", outcome.gone, days)
    return outcome


def forget_stock_batches(days: float, now: datetime | None = None, *, chunk: int = CHUNK,
                         until: float | None = None) -> Outcome:  # fmt: skip
    """Delete the finished stock batch messages older than `days` (0: none), shop by shop (the
    messages' (shop, flow, status) index), until the monotonic deadline `until` (None: all)."""
    outcome = Outcome()
    if days <= 0:
        return outcome
    cutoff = (now or utcnow()) - timedelta(days=days)
    with session_scope() as session:
        shops = list(session.scalars(select(Shop.id).order_by(Shop.id)))
    for shop_id in shops:
        after = 0
        while outcome.done:
            if until is not None and time.monotonic() >= until:
                outcome.done = False
                break
            with session_scope() as session:
                rows = session.execute(
                    select(Message.id, Message.unit_key)
                    .where(
                        Message.shop_id == shop_id,
                        Message.flow == STOCK_FLOW,
                        Message.status.in_(FINISHED),
                        Message.updated_at < cutoff,
                        Message.unit_key.like("stock:%"),
                        Message.id > after,
                        ~closed_as_handled(),
                    )
                    .order_by(Message.id)
                    .limit(chunk)
                ).all()
                ids = [row.id for row in rows if STOCK_BATCH.fullmatch(row.unit_key)]
                if ids:
                    session.execute(delete(Message).where(Message.id.in_(ids)))
            outcome.gone += len(ids)
            if len(rows) < chunk:
                break
            after = rows[-1].id
    if outcome.gone:
        log.info("retention: %s finished stock batch messages older than %s days deleted", outcome.gone, days)
    return outcome


def run_if_due(
    conn: Redis | None = None, now: datetime | None = None, budget: float = BUDGET
) -> dict[str, int] | None:
    """Both parts with the configured retentions for at most `budget` seconds, unless a run found
    nothing more to delete in the last hour (None then); how many rows each deleted. Stopped at the
    budget with rows left, the next tick (a minute later) goes on. Redis errors propagate (the tick
    logs them)."""
    conn = conn or queues.connection()
    if not conn.set(RAN_KEY, 1, nx=True, ex=RUN_EVERY):  # also keeps two ticks from running it at once
        return None
    settings, until = get_settings(), time.monotonic() + budget
    deliveries = forget_processed_deliveries(settings.inbox_retention_days, now, until=until)
    batches = forget_stock_batches(settings.stock_batch_retention_days, now, until=until)
    if not (deliveries.done and batches.done):
        conn.expire(RAN_KEY, LEFT_FOR_NEXT_TICK)  # rows left: the next minute's tick goes on
    return {"webhook_deliveries": deliveries.gone, "stock_batches": batches.gone}
