"""The orders flow's catch-up pass (`jobs.orders.run(shop_id)`): nothing waits forever.

Why: webhooks are at least once but their jobs live in Redis. A Redis restart (no persistence),
a worker killed mid-job or retries run out can leave work with no job behind it, and a parked
order must resume when its mapping appears even if whoever created it did not say so
(the catalog sync binds SKUs without knowing which orders wait for them). Each pass enqueues:

- order webhooks (orders/create, paid, updated, edited, cancelled) still `received`/`enqueued`
  in the inbox after `stale_after` seconds: `jobs.inbox.process` again (handlers are idempotent;
  one whose import or delivery address change found the order busy with its other work through
  every retry, having recorded nothing, is left so: jobs.order_waits);
- order messages still `pending`/`retrying` after `stale_after` (a lost job): `jobs.orders.replay`,
  which re-reads Shopify; and so Shopify edits, refunds and cancellations whose retries ran out
  behind the order's lock (begun before they wait for it: jobs.order_waits), and ERP event
  messages (picking edits, invoices, cancellations) whose job was lost or ran out of retries while
  held behind an earlier event or waiting for Shopify's cancel job: their flow's replay;
- orders waiting for their payment (an unpaid order whose orders/paid never came), read apart and
  after the lost ones, least recently re-read first: thousands of unpaid orders take their turns and
  never hide a lost one;
- parked order and order-edit messages whose missing mapping, binding, setting or link now
  exists (a picking substitute, an added SKU: the catalog sync binds it);
- ERP events held behind an earlier event of their order (an invoice waiting for its picking
  edit) once that event has been applied.

A unit whose job is still alive in RQ (queued, scheduled for a retry, or started less than
`stale_after` ago) is left alone: a backlog is not a loss, and doubling it would only slow it
down. Job ids are deterministic, so two passes (or a pass and a click on "retry") enqueue once.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from ledger import flows, kv, mappings, queues
from ledger.bindings import VARIANT_KIND
from ledger.db import session_scope
from ledger.models import (
    Binding,
    ErpConnection,
    InboxStatus,
    LocationMapping,
    Message,
    MessageStatus,
    Shop,
    StoreLink,
    WebhookInbox,
    utcnow,
)
from ledger.shop_settings import effective
from ledger.trace import STALE_AFTER_SECONDS  # longer than RQ's whole retry schedule

log = logging.getLogger(__name__)

FLOW = "orders"
PARKING_FLOWS = (FLOW, "order_edits", "invoices")  # units that park on a missing mapping or binding
# (an invoice "faturado com alteração" edits the order itself and parks on an unbound substitute)
EVENT_FLOWS = ("order_edits", "invoices", "cancellations")  # ERP events, applied in their order
ORDER_TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/edited", "orders/cancelled",
                "refunds/create", "orders/risk_assessment_changed")  # fmt: skip
LIMIT = 500
# the kinds whose De:Para lines live in the mappings table (a location's in its own, below)
DE_PARA_KINDS = frozenset(mappings.MappingKind) - {mappings.MappingKind.LOCATION}


def run_catch_up(shop_id: int, stale_after_seconds: float | None = None) -> dict[str, int]:
    """Enqueue what lost its job or can resume now; returns how many of each were enqueued."""
    stale = STALE_AFTER_SECONDS if stale_after_seconds is None else stale_after_seconds
    cutoff = utcnow() - timedelta(seconds=stale)
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} does not exist")
        inbox_rows = session.execute(
            select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.job_id)
            .where(
                WebhookInbox.shop_domain == shop.domain,
                WebhookInbox.topic.in_(ORDER_TOPICS),
                WebhookInbox.status.in_((InboxStatus.RECEIVED.value, InboxStatus.ENQUEUED.value)),
                WebhookInbox.received_at <= cutoff,
            )
            .order_by(WebhookInbox.id)
            .limit(LIMIT)
        ).all()
        stale_rows = _stale(session, shop_id, cutoff, waiting=False)
        waiting_rows = _stale(session, shop_id, cutoff, waiting=True)
        resumable = _parked_and_free(session, shop_id, effective(shop))
        resumable += [(m.id, m.attempts, None, m.flow) for m in _held_and_free(session, shop_id)]
    counts = {"inbox": 0, "stale": 0, "resumed": 0, "waiting": 0}
    try:
        for inbox_id, topic, job_id in inbox_rows:
            job = _enqueue_unless_alive(
                queues.INBOX_JOB,
                inbox_id,
                queue=queues.inbox_queue(topic),
                key=queues.job_key("inbox-catchup", inbox_id),
                alive_ids=(job_id or queues.inbox_job_id(inbox_id),),
                cutoff=cutoff,
                description=f"catch-up {topic} inbox {inbox_id}",
            )
            counts["inbox"] += job is not None
        # what lost its job first: a queue filled with re-reads of unpaid orders must not delay it
        for name, rows in (("stale", stale_rows), ("resumed", resumable), ("waiting", waiting_rows)):
            for message_id, attempts, job_id, flow_name in rows:
                flow = flows.get(flow_name)
                job = _enqueue_unless_alive(
                    flow.replay_job,
                    message_id,
                    queue=flow.queue,
                    key=queues.job_key("replay", shop_id, message_id, attempts),
                    alive_ids=(job_id,),
                    cutoff=cutoff,
                    description=f"{flow_name} {name} message {message_id}",
                )
                counts[name] += job is not None
    except RedisError as exc:
        log.warning("orders: catch-up stopped, Redis unreachable (%s)", type(exc).__name__)
    if any(counts.values()):
        log.info("orders: catch-up for shop %s enqueued %s", shop_id, counts, extra={"shop_id": shop_id})
    return counts


def _stale(
    session: Session, shop_id: int, cutoff: datetime, *, waiting: bool
) -> list[tuple[int, int, str | None, str]]:
    """Order and ERP event messages still pending or retrying, untouched since `cutoff`, up to LIMIT
    of them. `waiting=False`: those whose job was lost (a worker killed, Redis restarted), and those
    retrying whose job ended (its RQ retries spent: the ERP down for hours) however recently touched
    (the caller enqueues only one whose job RQ no longer holds: they waited 15 minutes more after
    the ERP was back), oldest order first (as last retried, an order placed at 08:00 reached the ERP
    after one placed at 08:10). `waiting=True`: orders pending on purpose, waiting for their payment
    (a boleto never paid, B2B on terms), each re-read touching it, least recently touched first:
    read apart, so thousands of them re-read on every pass do not hide a newer lost one, and the
    ones re-read last go to the back of the line."""
    wait = Message.error_detail["waiting"].as_string()
    touched = Message.updated_at <= cutoff
    if not waiting:
        touched = or_(touched, (Message.status == MessageStatus.RETRYING.value) & Message.job_id.is_not(None))
    rows = session.execute(
        select(Message.id, Message.attempts, Message.job_id, Message.flow)
        .where(
            Message.shop_id == shop_id,
            Message.flow.in_((FLOW, *EVENT_FLOWS)),
            Message.status.in_((MessageStatus.PENDING.value, MessageStatus.RETRYING.value)),
            touched,
            wait.is_not(None) if waiting else wait.is_(None),
        )
        .order_by(*((Message.updated_at, Message.id) if waiting else (Message.created_at, Message.id)))
        .limit(LIMIT)
    ).all()
    return [tuple(row) for row in rows]


def _parked_and_free(
    session: Session, shop_id: int, settings: dict[str, Any]
) -> list[tuple[int, int, None, str]]:
    """Parked order and edit messages whose mapping exists now, up to LIMIT of them, found among
    all that are parked (hundreds parked on what never comes must not hide a newer one whose
    SKU was just bound); each missing (kind, code) is looked up once."""
    found: list[tuple[int, int, None, str]] = []
    exists_now: dict[str, bool] = {}
    after = 0
    while len(found) < LIMIT:
        page = session.execute(
            select(Message.id, Message.attempts, Message.flow, Message.error_detail)
            .where(
                Message.shop_id == shop_id,
                Message.flow.in_(PARKING_FLOWS),
                Message.status == MessageStatus.PARKED.value,
                Message.id > after,
            )
            .order_by(Message.id)
            .limit(LIMIT)
        ).all()
        for message_id, attempts, flow, detail in page:
            key = repr(sorted(((detail or {}).get("mapping") or {}).items()))
            if key not in exists_now:
                exists_now[key] = mapping_now_exists(session, shop_id, settings, detail)
            if exists_now[key]:
                found.append((message_id, attempts, None, flow))
        if len(page) < LIMIT:
            break
        after = page[-1].id
    return found[:LIMIT]


def _held_and_free(session: Session, shop_id: int) -> list[Message]:
    """Failed ERP events that were held behind an earlier event of their order (error_detail
    `waiting_for`, jobs.order_events.wait_for_earlier) whose earlier event is applied now, up to
    LIMIT of them: the database picks them, so hundreds held behind an event nobody fixed (still
    failed) do not fill the pass and hide a newer one whose earlier event went through."""
    earlier = aliased(Message)
    return list(
        session.scalars(
            select(Message)
            .join(earlier, earlier.id == Message.error_detail["waiting_for"].as_integer())
            .where(
                Message.shop_id == shop_id,
                Message.flow.in_(EVENT_FLOWS),
                Message.status == MessageStatus.FAILED.value,
                earlier.shop_id == shop_id,
                earlier.status.in_((MessageStatus.DONE.value, MessageStatus.SKIPPED.value)),
            )
            .order_by(Message.id)
            .limit(LIMIT)
        )
    )


def _enqueue_unless_alive(
    func: str,
    arg: int,
    *,
    queue: str,
    key: str,
    alive_ids: tuple[str | None, ...],
    cutoff: datetime,
    description: str,
) -> Job | None:
    """Enqueue `func(arg)` as job `key` unless that job or one of `alive_ids` is still on its
    way. An earlier job of the same key that ended (failed: its worker killed again, its retries
    spent) is dropped first: kept, it would refuse every later enqueue and leave the row stuck."""
    if any(job_alive(job_id, cutoff) for job_id in (*alive_ids, key)):
        return None
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(key, connection=kv.get_redis()).delete()
    return queues.enqueue(func, arg, queue=queue, job_id=key, description=description)


def job_alive(job_id: str | None, started_after: datetime) -> bool:
    """Whether RQ still holds this job as waiting, scheduled, or running since `started_after`."""
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=kv.get_redis())
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status is JobStatus.STARTED and job.started_at is not None:
        started = (
            job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=started_after.tzinfo)
        )
        return started > started_after  # older: its worker died with it (killed, machine lost)
    return False


def mapping_now_exists(
    session: Session, shop_id: int, settings: dict[str, Any], detail: dict[str, Any] | None
) -> bool:
    """Whether what a parked message waits for (error_detail.mapping kind + code) exists now."""
    mapping = (detail or {}).get("mapping") or {}
    kind, code = mapping.get("kind"), mapping.get("code")
    if not kind or code is None:
        return False
    code = str(code)
    if kind in DE_PARA_KINDS:  # a De:Para line; names compared as the import compares them
        if kind == mappings.MappingKind.CARRIER and not mappings.list_mappings(session, shop_id, kind):
            return True  # the store maps no shipping method now: the ERP picks the carrier (order_map)
        return mappings.find_mapping(session, shop_id, kind, code) is not None
    if kind == VARIANT_KIND:
        query: Any = exists().where(
            Binding.shop_id == shop_id,
            Binding.kind == VARIANT_KIND,
            or_(Binding.erp_id == code, Binding.shopify_id == code),
        )
    elif kind == "setting":
        return settings.get(code) not in (None, "")
    elif kind == "store_link":
        query = exists().where(StoreLink.shop_id == shop_id)
    elif kind == "location":  # the location mapped, or (an order's wait) the store linked instead
        query = exists().where(
            LocationMapping.shop_id == shop_id,
            or_(
                LocationMapping.location_id == code,
                *([LocationMapping.nro_empresa == int(code)] if re.fullmatch(r"[0-9]{1,9}", code) else []),
            ),
        )
        if not code.isdigit() and session.scalar(select(exists().where(StoreLink.shop_id == shop_id))):
            return True
    elif kind == "erp_connection":
        query = exists().where(ErpConnection.shop_id == shop_id)
    else:
        return False
    return bool(session.scalar(select(query)))
