"""The one webhook receiver (`POST /webhooks`) for every topic, compliance topics included.

It answers in milliseconds and makes no outside call: verify the HMAC over the raw body,
drop duplicates (webhook id, then shop + topic + event id), write the inbox row and COMMIT,
then hand the row to RQ by the job's dotted name (`jobs.inbox.process`) so this package never
imports jobs. If Redis is down the row stays `received` and `jobs.inbox.sweep` enqueues it
later; Shopify still gets its 200 because the delivery is safely persisted. A body that is not
a JSON object is kept as `rejected` with the reason and answered 200: a retry cannot fix it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import queues
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import InboxStatus, WebhookInbox
from settings import Settings
from shopify_app.webhook_verify import Delivery, verify_webhook

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)


def parse_body(raw_body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The payload, or None and why it cannot be used."""
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, f"body is not UTF-8: {exc.reason} at byte {exc.start}"
    except json.JSONDecodeError as exc:
        return None, f"body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
    if not isinstance(payload, dict):
        return None, f"body is JSON but not an object (got {type(payload).__name__})"
    return payload, None


def _serialise_event(session: Session, delivery: Delivery) -> None:
    """On PostgreSQL, make concurrent deliveries of one event (new webhook ids) queue up.

    The webhook id has a UNIQUE constraint; the (shop, topic, event id) check does not, so
    two simultaneous redeliveries take a transaction-scoped advisory lock on the event first.
    """
    if not delivery.event_id or session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{delivery.shop_domain}|{delivery.topic}|{delivery.event_id}".encode()).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def find_duplicate(session: Session, delivery: Delivery) -> int | None:
    """Id of an inbox row that already holds this delivery (same webhook id, or same event)."""
    _serialise_event(session, delivery)
    found = session.scalar(select(WebhookInbox.id).where(WebhookInbox.webhook_id == delivery.webhook_id))
    if found is None and delivery.event_id:
        found = session.scalar(
            select(WebhookInbox.id)
            .where(
                WebhookInbox.shop_domain == delivery.shop_domain,
                WebhookInbox.topic == delivery.topic,
                WebhookInbox.event_id == delivery.event_id,
            )
            .limit(1)
        )
    return found


def store_delivery(settings: Settings, delivery: Delivery, raw_body: bytes) -> tuple[int | None, str]:
    """Write and commit the inbox row. Returns (row id or None for a duplicate, status)."""
    _payload, reason = parse_body(raw_body)
    status = InboxStatus.REJECTED.value if reason else InboxStatus.RECEIVED.value
    try:
        with session_scope(settings.database_url) as session:
            if find_duplicate(session, delivery) is not None:
                return None, "duplicate"
            row = WebhookInbox(
                webhook_id=delivery.webhook_id,
                event_id=delivery.event_id,
                topic=delivery.topic,
                shop_domain=delivery.shop_domain,
                api_version=delivery.api_version,
                raw_body=raw_body,
                headers=delivery.headers,
                status=status,
                reason=reason,
                triggered_at=delivery.triggered_at,
            )
            session.add(row)
            session.flush()
            row_id = row.id
    except IntegrityError:
        # A concurrent delivery of the same webhook id won the UNIQUE constraint.
        return None, "duplicate"
    return row_id, status


def enqueue_inbox(settings: Settings, inbox_id: int, topic: str) -> str | None:
    """Hand the row to RQ; None when Redis is unreachable (the sweeper enqueues it later)."""
    job_id = queues.inbox_job_id(inbox_id)
    try:
        queues.enqueue(
            queues.INBOX_JOB,
            inbox_id,
            queue=queues.inbox_queue(topic),
            job_id=job_id,
            unique=False,
            description=f"webhook {topic} inbox {inbox_id}",
            conn=get_redis(settings.redis_url),
        )
    except RedisError as exc:
        log.warning(
            "webhooks: enqueue failed for inbox %s (%s); the sweeper will retry", inbox_id, type(exc).__name__
        )
        return None
    with session_scope(settings.database_url) as session:
        row = session.get(WebhookInbox, inbox_id)
        if row is not None and row.status == InboxStatus.RECEIVED.value:
            row.status = InboxStatus.ENQUEUED.value
            row.job_id = job_id
    return job_id


@bp.post("/webhooks")
def receive() -> tuple[dict[str, Any], int]:
    settings: Settings = current_app.config["SETTINGS"]
    raw_body = request.get_data(cache=False)
    result = verify_webhook(raw_body, request.headers, settings.api_secret)
    if not result.ok or result.delivery is None:
        log.warning(
            "webhooks: refused delivery: %s", result.reason.value, extra={"missing": list(result.missing)}
        )
        body: dict[str, Any] = {"error": result.reason.value}
        if result.missing:
            body["missing"] = list(result.missing)
        return body, result.status_code

    delivery = result.delivery
    extra = {"shop": delivery.shop_domain, "topic": delivery.topic, "webhook_id": delivery.webhook_id}
    inbox_id, status = store_delivery(settings, delivery, raw_body)
    if inbox_id is None:
        log.info("webhooks: duplicate %s from %s ignored", delivery.topic, delivery.shop_domain, extra=extra)
        return {"ok": True, "duplicate": True}, 200
    if status == InboxStatus.REJECTED.value:
        log.warning(
            "webhooks: malformed %s body kept as rejected (inbox %s)", delivery.topic, inbox_id, extra=extra
        )
        return {"ok": True, "inbox_id": inbox_id, "status": status}, 200

    job_id = enqueue_inbox(settings, inbox_id, delivery.topic)
    log.info(
        "webhooks: %s from %s stored as inbox %s", delivery.topic, delivery.shop_domain, inbox_id, extra=extra
    )
    return {"ok": True, "inbox_id": inbox_id, "job_id": job_id}, 200
