"""Webhook deliveries the app is done with, deleted once INBOX_RETENTION_DAYS (30 by default) old.

Why: the inbox keeps every delivery whole, its raw body too, and an order's body carries its
customer (name, e-mail, phone, addresses, CPF/CNPJ). Once processed, the delivery has done its
work: what it caused is in the messages (the trace, which keeps ids, totals and the reasons), the
order links and the audit; a replay re-reads the order from Shopify, never the delivery. Kept for
ever, the table grows by every order's three or four deliveries and holds personal data the app no
longer needs (LGPD: kept only as long as needed; customers/redact scrubs it on request meanwhile).

What goes: rows `processed` whose processing ended (`processed_at`) more than the retention ago.
What stays: `failed` (the Failed jobs page: a person's), `rejected` (a malformed delivery, kept with
its reason), `received` and `enqueued` (the sweeper's, not done yet). Duplicates: Shopify redelivers
a webhook for up to 4 hours, so a retention of at least a day (settings refuses less) keeps every
row a redelivery could meet in the receiver's UNIQUE indexes.

When: from the scheduler's tick (jobs.scheduler), at most once an hour (RAN_KEY in Redis), a chunk
of CHUNK rows per transaction so no delete holds the table long, at most MAX_CHUNKS per run (a
first run on a years-old inbox continues in the next hours).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import delete, select

from ledger import queues
from ledger.db import session_scope
from ledger.models import InboxStatus, WebhookInbox, utcnow
from settings import get_settings

log = logging.getLogger(__name__)

RAN_KEY = "inbox:retention:ran"  # set for RUN_EVERY seconds by the run that took its turn
RUN_EVERY = 3600
CHUNK = 2000
MAX_CHUNKS = 50  # 100,000 rows an hour at most


def forget_processed(days: float, now: datetime | None = None, *, chunk: int = CHUNK,
                     max_chunks: int = MAX_CHUNKS) -> int:  # fmt: skip
    """Delete the processed deliveries older than `days` (0: none); how many went."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    gone = 0
    for _ in range(max_chunks):
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
        gone += len(ids)
        if len(ids) < chunk:
            break
    if gone:
        log.info("inbox retention: %s processed deliveries older than %s days deleted", gone, days)
    return gone


def run_if_due(conn: Redis | None = None, now: datetime | None = None) -> int | None:
    """`forget_processed` with the configured retention, when no run took its turn in the last hour;
    None when it was not this tick's turn. Redis errors propagate (the tick logs them)."""
    conn = conn or queues.connection()
    if not conn.set(RAN_KEY, 1, nx=True, ex=RUN_EVERY):
        return None
    return forget_processed(get_settings().inbox_retention_days, now)
