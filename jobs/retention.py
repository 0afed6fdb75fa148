"""What the app keeps only for a while: processed webhook deliveries, the stock flow's batch messages
and the ERP events of orders linked to none of the shop's, deleted once old (INBOX_RETENTION_DAYS and
STOCK_BATCH_RETENTION_DAYS, 30 days by default; UNLINKED_EVENT_RETENTION_DAYS, 90).

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

ERP events of orders linked to no Shopify order of the shop (`forget_unlinked_events`). The poller
traces every EventoPedido it reads, and one of an ERP order no link of the shop names is skipped
"not linked" (jobs.order_events.UNKNOWN_ORDER): another sales channel's order (televendas, B2B, a
representative's), read by every store on that ERP, each pass. Kept so that a person who links an
order typed by hand in the ERP (ledger.order_link_by_hand) gets its earlier events applied: a link
made within days, as its card authorisation lapses in about 7. What goes: such skipped events older
than UNLINKED_EVENT_RETENTION_DAYS (90 by default); a link made later than that finds none of them
and its NF-e is written by hand. Events of a kind the app does not know, and every other event, stay.

When: from the scheduler's tick (jobs.scheduler), once an hour (RAN_KEY in Redis), a chunk of CHUNK
rows per transaction so no delete holds a table long, for at most BUDGET seconds a tick (the tick has
50 s and the schedules to start after it): a backlog (a first run on a years-old ledger) is worked
through in the next minutes' ticks, the hour counted from when it is done.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from sqlalchemy import delete, select

from ledger import queues
from ledger.db import session_scope
from ledger.models import InboxStatus, Message, MessageStatus, Shop, WebhookInbox, utcnow
from ledger.order_link_by_hand import EVENT_FLOWS, UNKNOWN_ORDER_LIKE
from ledger.trace import closed_as_handled
from settings import Settings, get_settings

log = logging.getLogger(__name__)

RAN_KEY = "retention:ran"  # held RUN_EVERY seconds from a run's start (LEFT_FOR_NEXT_TICK if it left rows)
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
            if ids:  # the filter again: a delivery requeued since the read stays
                session.execute(
                    delete(WebhookInbox).where(
                        WebhookInbox.id.in_(ids),
                        WebhookInbox.status == InboxStatus.PROCESSED.value,
                        WebhookInbox.processed_at < cutoff,
                    )
                )
        outcome.gone += len(ids)
        if len(ids) < chunk:
            break
    if outcome.gone:
        log.info("retention: %s processed webhook deliveries older than %s days deleted", outcome.gone, days)
    return outcome


def forget_stock_batches(days: float, now: datetime | None = None, *, chunk: int = CHUNK,
                         until: float | None = None) -> Outcome:  # fmt: skip
    """Delete the finished stock batch messages older than `days` (0: none), until the monotonic
    deadline `until` (None: all)."""
    # the batch keys picked in SQL (an index scan of the flow's done rows): the stock flow's other
    # finished units (per SKU's control, policy...) are kept, and read every run they would eat the
    # budget before a batch is reached (the next run starting over from the first id)
    batch = Message.unit_key.regexp_match(r"^stock:[0-9]+:[0-9a-f]{16}$")
    where = (
        Message.flow == STOCK_FLOW,
        Message.status.in_(FINISHED),
        Message.unit_key.like("stock:%"),
        batch,
    )
    return _forget_messages("finished stock batch messages", days, now, where, STOCK_BATCH.fullmatch,
                            chunk=chunk, until=until)  # fmt: skip


def forget_unlinked_events(days: float, now: datetime | None = None, *, chunk: int = CHUNK,
                           until: float | None = None) -> Outcome:  # fmt: skip
    """Delete the ERP events skipped as of an order linked to no Shopify order of the shop, older
    than `days` (0: none), until the monotonic deadline `until` (None: all)."""
    where = (
        Message.flow.in_(EVENT_FLOWS),
        Message.status == MessageStatus.SKIPPED.value,
        Message.unit_key.like("event:%"),
        Message.error_text.like(UNKNOWN_ORDER_LIKE),
    )
    return _forget_messages("ERP events of orders linked to none of the shop's", days, now, where,
                            lambda key: True, chunk=chunk, until=until)  # fmt: skip


def _forget_messages(
    what: str,
    days: float,
    now: datetime | None,
    where: tuple[Any, ...],
    keep_key: Callable[[str], Any],
    *,
    chunk: int,
    until: float | None,
) -> Outcome:
    """Delete the messages matching `where` whose unit key `keep_key` takes, not closed as handled and
    last changed more than `days` ago, shop by shop (the messages' (shop, flow, status) index), in
    chunks, until the monotonic deadline `until`."""
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
                        *where,
                        Message.updated_at < cutoff,
                        Message.id > after,
                        ~closed_as_handled(),
                    )
                    .order_by(Message.id)
                    .limit(chunk)
                ).all()
                ids = [row.id for row in rows if keep_key(row.unit_key)]
                if ids:  # the filter again: a row begun anew since the read (pending again) stays
                    still = (
                        Message.shop_id == shop_id,
                        *where,
                        Message.updated_at < cutoff,
                        ~closed_as_handled(),
                    )
                    gone = session.execute(delete(Message).where(Message.id.in_(ids), *still)).rowcount
                    outcome.gone += max(gone or 0, 0)
            if len(rows) < chunk:
                break
            after = rows[-1].id
    if outcome.gone:
        log.info("retention: %s %s older than %s days deleted", outcome.gone, what, days)
    return outcome


@dataclass(frozen=True)
class Part:
    """One kind of row the retention deletes: its count's name, what the CLI calls it, its
    retention in days from the settings, and the function that deletes it."""

    name: str
    what: str
    days: Callable[[Settings], float]
    forget: Callable[..., Outcome]


PARTS = (
    Part("webhook_deliveries", "processed webhook deliveries", lambda s: s.inbox_retention_days,
         forget_processed_deliveries),
    Part("stock_batches", "finished stock batch messages", lambda s: s.stock_batch_retention_days,
         forget_stock_batches),
    Part("unlinked_events", "ERP events of unlinked orders", lambda s: s.unlinked_event_retention_days,
         forget_unlinked_events),
)  # fmt: skip


def run_if_due(
    conn: Redis | None = None, now: datetime | None = None, budget: float = BUDGET
) -> dict[str, int] | None:
    """Every part with its configured retention for at most `budget` seconds, unless a run found
    nothing more to delete in the last hour (None then); how many rows each deleted. Stopped at the
    budget with rows left, the next tick (a minute later) goes on. Redis errors propagate (the tick
    logs them)."""
    conn = conn or queues.connection()
    if not conn.set(RAN_KEY, 1, nx=True, ex=RUN_EVERY):  # also keeps two ticks from running it at once
        return None
    settings, until = get_settings(), time.monotonic() + budget
    outcomes = {part.name: part.forget(part.days(settings), now, until=until) for part in PARTS}
    if not all(outcome.done for outcome in outcomes.values()):
        conn.expire(RAN_KEY, LEFT_FOR_NEXT_TICK)  # rows left: the next minute's tick goes on
    return {name: outcome.gone for name, outcome in outcomes.items()}
