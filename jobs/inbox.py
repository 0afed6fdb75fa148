"""Processing of the webhook inbox: one RQ job per stored delivery (`process(inbox_id)`).

The receiver only stores and enqueues; here the row is parsed and dispatched by topic through
TOPIC_HANDLERS, a registry of dotted names imported lazily, so a handler module written later
plugs in by name. A handler receives one WebhookEvent and opens its own session.

Failures are classified: ledger.errors.Transient keeps RQ's retries (Retry with backoff), and
so does Redis or the database failing under any handler (ledger.errors.outage: a restart, a
failover, a deadlock; a blip, never a bug; the handler's transaction has rolled back, so the
retry starts whole) and RQ's job
timeout (a handler hung on an outside call: ledger.queues.JOB_TIMEOUTS, its Retry runs it again);
any other error marks the row failed with the reason and is re-raised with no retries left,
so RQ's failed registry shows it. A Transient past its last retry fails the row too, except an
order delivery whose handler recorded nothing (KEEP_OPEN: the order busy with its other work),
left open for the orders catch-up, and one whose handler left the order's own message retrying
(HANDED: the ERP down through every retry), done with, since that message is what the catch-up runs
and the pages show. `sweep()` enqueues rows whose job RQ does not hold (Redis
was down, or the receiver died between its commit and its enqueue); the scheduler tick runs it
every minute.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job, JobStatus
from rq.timeouts import BaseTimeoutException
from sqlalchemy import Row, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jobs.order_catch_up import ORDER_TOPICS
from ledger import queues
from ledger.db import read_scope, session_scope
from ledger.errors import Transient, as_transient
from ledger.models import InboxStatus, WebhookInbox, as_utc, utcnow

log = logging.getLogger(__name__)

PROCESS = queues.INBOX_JOB

TOPIC_HANDLERS: dict[str, str] = {
    "app/uninstalled": "jobs.compliance.app_uninstalled",
    "app/scopes_update": "jobs.app_scopes.on_update",
    "customers/data_request": "jobs.compliance.customers_data_request",
    "customers/redact": "jobs.compliance.customers_redact",
    "shop/redact": "jobs.compliance.shop_redact",
    "bulk_operations/finish": "jobs.bulk.on_finish",
    "products/delete": "jobs.catalog_deleted.on_delete",
    "orders/create": "jobs.orders.on_webhook",
    "orders/updated": "jobs.orders.on_webhook",
    "orders/paid": "jobs.orders.on_webhook",
    "orders/risk_assessment_changed": "jobs.orders.on_risk_changed",
    "orders/cancelled": "jobs.cancellations.on_webhook",
    "orders/edited": "jobs.order_edits.on_webhook",
    "refunds/create": "jobs.order_edits.on_refund",
}

# A Transient's detail key: its handler recorded nothing of the delivery (no message: the order's
# lock was busy before it could tell whether there is work, jobs.order_waits.locked_or_kept). Its
# retries spent, such an order delivery stays open for the orders catch-up, which runs it again,
# instead of failed, which nothing runs again by itself.
KEEP_OPEN = "keep_open"
# A Transient's detail key: its handler left the order's own message open (retrying: the ERP down
# through every retry), which the orders catch-up runs again and the pages show. Its retries spent,
# the delivery is done with (`processed`, saying so), not failed: a failed one is told and counted
# for a person to requeue (the alert e-mails, the Flows page) long after the order is in the ERP.
HANDED = "handed_to_message"

# Rows left `received` longer than this were not handed to RQ (Redis was down): sweep them.
SWEEP_AFTER = timedelta(seconds=30)
SWEEP_LIMIT = 500  # rows one sweep reads of each kind
SWEEP_BUDGET_SECONDS = 30.0  # how long one scheduler tick keeps sweeping a backlog (sweep_backlog)
TRIGGER_SKEW = timedelta(minutes=5)  # how far Shopify's clock may run ahead of ours
# Where the sweep's read of `enqueued` rows goes on from at the next tick: the last id it read.
SWEEP_WINDOW_KEY = "inbox:sweep:after"


@dataclass(frozen=True)
class WebhookEvent:
    """One verified delivery, as handlers see it."""

    inbox_id: int
    topic: str
    shop_domain: str
    webhook_id: str | None
    event_id: str | None
    api_version: str | None
    triggered_at: datetime | None
    payload: dict[str, Any]


class HandlerMissing(LookupError):
    """The topic has no handler, or its module is not part of this build yet."""


def resolve_handler(topic: str) -> Callable[[WebhookEvent], Any]:
    """Import the handler for a topic by its dotted name.

    Raises:
        HandlerMissing: no entry for the topic, or the module/function does not exist.
    """
    path = TOPIC_HANDLERS.get(topic)
    if path is None:
        raise HandlerMissing(f"no handler registered for topic {topic!r}")
    module_name, _, func_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise HandlerMissing(f"handler module {module_name} for {topic!r} does not exist") from exc
        raise
    handler = getattr(module, func_name, None)
    if not callable(handler):
        raise HandlerMissing(f"handler {path} for {topic!r} does not exist")
    return handler


@dataclass(frozen=True)
class Ignored:
    """A handler's answer for a delivery it had nothing to do for: the row ends processed with
    this reason, so it never reads like work that was done."""

    reason: str


def not_installed(shop_domain: str) -> Ignored:
    return Ignored(f"ignored: {shop_domain} is not installed (never installed, or uninstalled and erased)")


def _finish(inbox_id: int, status: InboxStatus, reason: str | None, *, if_status: str | None = None) -> None:
    """Record the outcome in one UPDATE (no read first: a vanished row simply matches nothing);
    with `if_status`, only while the row is still in the status its caller read (the sweeper's
    verdict never replaces an outcome the handler recorded meanwhile)."""
    with session_scope() as session:
        session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.id == inbox_id, *([WebhookInbox.status == if_status] if if_status else []))
            .values(status=status.value, reason=reason, processed_at=utcnow())
        )


def _keep_open(inbox_id: int, reason: str) -> None:
    """Say why the row is still open (`KEEP_OPEN`), leaving its status: the orders catch-up runs
    order deliveries still `received` or `enqueued` again (jobs.order_catch_up)."""
    with session_scope() as session:
        session.execute(update(WebhookInbox).where(WebhookInbox.id == inbox_id).values(reason=reason))


def _load_event(inbox_id: int) -> WebhookEvent | None:
    """The row as an event; None when there is nothing to do (gone, already done, rejected)."""
    with read_scope() as session:  # one SELECT, no transaction around it; a rejection is written apart
        row = session.execute(
            select(
                WebhookInbox.id,
                WebhookInbox.status,
                WebhookInbox.raw_body,
                WebhookInbox.topic,
                WebhookInbox.shop_domain,
                WebhookInbox.webhook_id,
                WebhookInbox.event_id,
                WebhookInbox.api_version,
                WebhookInbox.triggered_at,
                WebhookInbox.received_at,
            ).where(WebhookInbox.id == inbox_id)
        ).one_or_none()
    if row is None:
        log.warning("inbox: row %s no longer exists", inbox_id)
        return None
    if row.status in (InboxStatus.PROCESSED.value, InboxStatus.REJECTED.value):
        log.info("inbox: row %s already %s", inbox_id, row.status)
        return None
    try:
        payload = json.loads(bytes(row.raw_body).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        payload, reason = None, f"body is not valid JSON: {exc}"
    except RecursionError:
        payload, reason = None, "body is JSON nested too deeply to read (past Python's recursion limit)"
    else:
        reason = None if isinstance(payload, dict) else "body is JSON but not an object"
    if reason or not isinstance(payload, dict):
        _finish(inbox_id, InboxStatus.REJECTED, reason)
        return None
    return WebhookEvent(
        inbox_id=row.id,
        topic=row.topic,
        shop_domain=row.shop_domain,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        api_version=row.api_version,
        triggered_at=_triggered_at(row.triggered_at, row.received_at),
        payload=payload,
    )


def _triggered_at(triggered: datetime | None, received: datetime | None) -> datetime | None:
    """X-Shopify-Triggered-At, never later than the delivery came in (TRIGGER_SKEW allowed for
    Shopify's clock): the header is not signed, and a future time would make a late uninstall or
    shop/redact look newer than a reinstall (jobs.compliance compares the two)."""
    if triggered is None or received is None:
        return triggered
    latest = as_utc(received) + TRIGGER_SKEW
    return latest if as_utc(triggered) > latest else triggered


def process(inbox_id: int) -> str:
    """Run the handler of one inbox row; returns the row's final status."""
    event = _load_event(inbox_id)
    if event is None:
        return "skipped"
    extra = {"shop": event.shop_domain, "topic": event.topic, "inbox_id": inbox_id}
    try:
        handler = resolve_handler(event.topic)
    except HandlerMissing as exc:
        log.error("inbox: %s", exc, extra=extra)
        _finish(inbox_id, InboxStatus.FAILED, str(exc))
        return InboxStatus.FAILED.value
    try:
        outcome = _run(handler, event)
    except Transient as exc:
        job = get_current_job()
        if job is not None and job.retries_left:
            log.warning("inbox: %s transient failure, RQ retries: %s", event.topic, exc.message, extra=extra)
            with session_scope() as session:
                row = session.get(WebhookInbox, inbox_id)
                if row is not None:
                    row.reason = f"transient (retrying): {exc.message}"
        elif exc.detail.get(KEEP_OPEN) and event.topic in ORDER_TOPICS:
            why = f"transient, retries exhausted: {exc.message}; the orders catch-up runs it again"
            _keep_open(inbox_id, why)
        elif exc.detail.get(HANDED) and event.topic in ORDER_TOPICS:
            why = (f"transient, retries exhausted: {exc.message}; handed to its orders message "
                   f"{exc.detail[HANDED]}, which the orders catch-up runs again")  # fmt: skip
            _finish(inbox_id, InboxStatus.PROCESSED, why)
        else:
            _finish(inbox_id, InboxStatus.FAILED, queues.INBOX_EXHAUSTED.format(message=exc.message))
        raise
    except Exception as exc:
        # Not retryable: fail now and loudly. RQ would otherwise spend the Retry budget on a bug.
        job = get_current_job()
        if job is not None:
            job.retries_left = 0
        _finish(inbox_id, InboxStatus.FAILED, f"{type(exc).__name__}: {exc}")
        log.exception("inbox: handler for %s failed", event.topic, extra=extra)
        raise
    if isinstance(outcome, Ignored):
        log.info("inbox: %s %s", event.topic, outcome.reason, extra=extra)
    _finish(inbox_id, InboxStatus.PROCESSED, outcome.reason if isinstance(outcome, Ignored) else None)
    return InboxStatus.PROCESSED.value


def _run(handler: Callable[[WebhookEvent], Any], event: WebhookEvent) -> Any:
    """The handler's outcome; Redis or the database failing mid-handler (ledger.errors.outage), or
    the handler past its job timeout (hung on an outside call), is Transient for every topic."""
    try:
        return handler(event)
    except (RedisError, DBAPIError) as exc:
        transient = as_transient(exc, f"{event.topic} waits for it")
        if transient is None:
            raise
        raise transient from exc
    except BaseTimeoutException as exc:
        raise Transient(f"{event.topic} hung past its job timeout ({exc}): RQ runs it again") from exc


class SweepStopped(RedisError):
    """Redis became unreachable during a sweep: the rows not handed over wait for the next one.

    A RedisError, so a caller that lets Redis blips pass (the schedule tick) keeps doing so;
    `enqueued` are the job ids handed over before it stopped (the command line says both)."""

    def __init__(self, enqueued: list[str], reason: str) -> None:
        super().__init__(
            f"Redis unreachable ({reason}): inbox sweep stopped after enqueueing {len(enqueued)} row(s); "
            "the rest wait for the next sweep"
        )
        self.enqueued = enqueued


def sweep_backlog(budget: float = SWEEP_BUDGET_SECONDS, limit: int = SWEEP_LIMIT) -> list[str]:
    """`sweep` again while each read was full, for at most `budget` seconds: the scheduler's tick.

    Why: one read hands over `limit` rows, and the tick comes once a minute. After a Redis outage
    at 20 webhooks a second (12,000 rows in ten minutes) one read a tick took 24 minutes only to
    queue them, an uninstall or a privacy request waiting in line behind the orders. Each read
    commits its rows' hand-over, so the next one reads on (the rows left `received`, and the
    window of the `enqueued` ones); SweepStopped stops the loop as it stops one sweep."""
    started = time.monotonic()
    handed: list[str] = []
    while True:
        done = sweep(limit=limit)
        handed.extend(done)
        if len(done) < limit or time.monotonic() - started >= budget:
            return handed


def sweep(older_than: timedelta = SWEEP_AFTER, limit: int = SWEEP_LIMIT) -> list[str]:
    """Enqueue rows whose job is not in RQ; returns the job ids enqueued. Raises SweepStopped
    when Redis cannot be reached (before or midway): never "nothing to do" while rows wait.

    Two kinds: rows left `received` (the receiver could not reach Redis), and rows `enqueued`
    whose job RQ does not hold (the process died between the commit and the enqueue, or Redis
    lost its data). RQ's own job record is the truth, so the receiver never writes twice.

    Rows left `received` are read on their own, every tick, so a backlog RQ still holds never
    hides them (a customers/redact after a Redis blip behind thousands of orders waiting on a
    slow ERP). Rows `enqueued` are read `limit` at a time from where the last tick stopped
    (SWEEP_WINDOW_KEY), so a backlog longer than one read is walked through across ticks, then
    again from the oldest.
    """
    cutoff = utcnow() - older_than
    conn = queues.connection()
    try:
        after = int(conn.get(SWEEP_WINDOW_KEY) or 0)
    except RedisError as exc:
        raise SweepStopped([], type(exc).__name__) from exc
    with session_scope() as session:
        received = _open_rows(session, InboxStatus.RECEIVED, cutoff, limit)
        enqueued = _open_rows(session, InboxStatus.ENQUEUED, cutoff, limit, after=after)
    # the next tick reads on from here; from the oldest again once the newest was read, also when
    # this read found nothing past the window (the rows above it were processed meanwhile)
    window = enqueued[-1].id if len(enqueued) == limit else 0
    stuck = list({row.id: row for row in (*received, *enqueued)}.values())
    try:
        if window != after:
            conn.set(SWEEP_WINDOW_KEY, window)
        if not stuck:
            return []
        missing = set(queues.missing_jobs([queues.inbox_job_id(row.id) for row in stuck], conn))
    except RedisError as exc:
        raise SweepStopped([], type(exc).__name__) from exc
    held = [job_id for row in stuck if (job_id := queues.inbox_job_id(row.id)) not in missing]
    try:
        ended = _ended_without_outcome(held, conn)
    except RedisError:
        ended = {}
    enqueued_now: list[str] = []
    for inbox_id, topic, status in stuck:
        job_id = queues.inbox_job_id(inbox_id)
        if job_id in ended and topic not in ORDER_TOPICS:  # order topics: the orders catch-up reruns them
            # RQ gave up on the job (retries spent, or its worker was killed) and the handler never
            # recorded an outcome: shown as failed, with why, instead of `enqueued` for ever.
            _finish(inbox_id, InboxStatus.FAILED, ended[job_id], if_status=status)
            continue
        if job_id not in missing:
            if status == InboxStatus.RECEIVED.value:
                _mark_enqueued(inbox_id, job_id)  # handed over earlier: RQ has it
            continue
        try:
            queues.enqueue_inbox(inbox_id, topic, conn=conn, unique=True)
        except RedisError as exc:
            raise SweepStopped(enqueued_now, type(exc).__name__) from exc
        _mark_enqueued(inbox_id, job_id)
        enqueued_now.append(job_id)
    if enqueued_now:
        log.info("inbox: swept %s rows whose job was not in RQ", len(enqueued_now))
    return enqueued_now


def _open_rows(
    session: Session, status: InboxStatus, cutoff: datetime, limit: int, *, after: int = 0
) -> list[Row[Any]]:
    """(id, topic, status) of up to `limit` rows in `status` received by `cutoff`, oldest first,
    past id `after` (through the partial index of unfinished rows)."""
    return list(
        session.execute(
            select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.status)
            .where(WebhookInbox.status == status.value, WebhookInbox.received_at <= cutoff)
            .where(*([WebhookInbox.id > after] if after else []))
            .order_by(WebhookInbox.id)
            .limit(limit)
        ).all()
    )


def _ended_without_outcome(job_ids: list[str], conn: Any) -> dict[str, str]:
    """Job id -> why, for jobs RQ holds as failed, stopped or canceled (their row is still open)."""
    ended: dict[str, str] = {}
    for job in Job.fetch_many(job_ids, connection=conn):
        if job is None:
            continue
        status = job.get_status(refresh=False)
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            ended[job.id] = queues.INBOX_ENDED.format(job=job.id, status=status.value)
    return ended


def _mark_enqueued(inbox_id: int, job_id: str) -> None:
    with session_scope() as session:
        session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.id == inbox_id, WebhookInbox.status == InboxStatus.RECEIVED.value)
            .values(status=InboxStatus.ENQUEUED.value, job_id=job_id)
        )
