"""The one webhook receiver (`POST /webhooks`) for every topic, compliance topics included.

It answers in milliseconds and makes no outside call: verify the HMAC over the raw body, then
ONE database round trip writes and commits the inbox row unless it is a duplicate (webhook id,
or shop + topic + event id: both UNIQUE, `INSERT ... ON CONFLICT DO NOTHING RETURNING id`, built
with SQLAlchemy Core, compiled once and run on the request thread's own driver connection), then
ONE Redis pipeline hands the row to RQ by the job's dotted name (`jobs.inbox.process`) so this
package never imports jobs. If Redis is down the row is put back to `received` and
`jobs.inbox.sweep` enqueues it later; Shopify still gets its 200 because the delivery is safely
persisted (the sweeper also re-enqueues an `enqueued` row whose job RQ does not hold). A body that is not
a JSON object is kept as `rejected` with the reason and answered 200: a retry cannot fix it.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from typing import Any

from flask import Blueprint, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import (
    ColumnElement,
    Insert,
    String,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError

from ledger import queues
from ledger.db import get_engine, session_scope
from ledger.driver_sql import DriverStatement
from ledger.kv import get_redis
from ledger.models import InboxStatus, WebhookInbox, utcnow
from settings import Settings
from shopify_app.webhook_verify import Delivery, Reason, verify_webhook

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
    except RecursionError:  # json.loads recurses once per level: a retry cannot fix such a body
        return None, "body is JSON nested too deeply to read (past Python's recursion limit)"
    if not isinstance(payload, dict):
        return None, f"body is JSON but not an object (got {type(payload).__name__})"
    return payload, None


# The largest delivery taken (Shopify's biggest order payloads are a few hundred KB); a larger
# body is answered 413 before it is read (one sent chunked, without a Content-Length, once one byte
# past the limit has arrived), so no request can fill the worker's memory.
MAX_BODY_BYTES = 10 * 1024 * 1024
_INBOX = WebhookInbox.__table__


def _next_inbox_id(dialect: str) -> ColumnElement[int]:
    """The id the new row takes, computed inside the INSERT so job_id can be derived from it.

    PostgreSQL draws from the column's own sequence; SQLite serialises writers, so MAX + 1 inside
    the one INSERT statement cannot collide.
    """
    if dialect == "postgresql":
        return func.nextval(func.pg_get_serial_sequence(_INBOX.name, "id"))
    return func.coalesce(select(func.max(_INBOX.c.id)).scalar_subquery(), 0) + 1


# The row's values, bound per request into a statement built once (building it costs more than running it).
_VALUE_COLUMNS = (
    "webhook_id",
    "event_id",
    "topic",
    "shop_domain",
    "api_version",
    "raw_body",
    "headers",
    "status",
    "reason",
    "triggered_at",
    "received_at",
)


@functools.cache
def insert_statement(dialect: str, *, with_event: bool, accepted: bool) -> Insert:
    """One INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id: store, or learn it is a duplicate.

    A duplicate (same webhook id, or same shop + topic + event id) hits a UNIQUE index and
    inserts nothing, so concurrent redeliveries need no lock and no read-before-write. The NOT
    EXISTS guard repeats the event check so a database migrated before the event index existed
    still drops sequential redeliveries. An accepted row is written `enqueued` with its job id
    (`inbox-<id>`, see ledger.queues.inbox_job_id): the enqueue that follows needs no second
    transaction; if Redis refuses it, the row is put back to `received` for the sweeper.
    Built once per shape and cached: each request only binds its values.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    next_id = select(_next_inbox_id(dialect).label("id")).subquery("next_id")
    columns: dict[str, Any] = {"id": next_id.c.id}
    columns.update({name: bindparam(name, type_=_INBOX.c[name].type) for name in _VALUE_COLUMNS})
    job_id = literal(queues.INBOX_JOB_PREFIX) + cast(next_id.c.id, String)
    columns["job_id"] = job_id if accepted else null()
    # A row kept `rejected` is done when received: retention and the alert e-mails go by processed_at.
    received = bindparam("received_at", type_=_INBOX.c.received_at.type)
    columns["processed_at"] = null() if accepted else received
    rows = select(*columns.values()).select_from(next_id)
    if with_event:
        rows = rows.where(
            ~exists().where(
                _INBOX.c.shop_domain == bindparam("shop_domain"),
                _INBOX.c.topic == bindparam("topic"),
                _INBOX.c.event_id == bindparam("event_id"),
            )
        )
    else:
        # SQLite needs a WHERE in INSERT ... SELECT ... ON CONFLICT (its parser); PostgreSQL does not mind.
        rows = rows.where(true())
    return (
        insert(_INBOX)
        .from_select(list(columns), rows, include_defaults=False)
        .on_conflict_do_nothing()
        .returning(_INBOX.c.id)
    )


@functools.cache
def driver_insert(dialect: Dialect, *, with_event: bool, accepted: bool) -> DriverStatement:
    """insert_statement compiled for this engine's dialect, once per shape (ledger.driver_sql: each
    request then runs it on a pooled DBAPI connection, which skips SQLAlchemy's per-execution
    work — the receiver's CPU per request 0.77 -> ~0.66 ms — and lets psycopg prepare it)."""
    return DriverStatement.compile(
        insert_statement(dialect.name, with_event=with_event, accepted=accepted), dialect, _VALUE_COLUMNS
    )


class InboxUnavailable(Exception):
    """The inbox row could not be written because the database cannot be reached (answered 503)."""


def store_delivery(settings: Settings, delivery: Delivery, raw_body: bytes) -> tuple[int | None, str]:
    """Write and commit the inbox row in one statement. Returns (row id or None for a duplicate, status).

    Raises:
        InboxUnavailable: the database is down or the connection broke twice.
    """
    _payload, reason = parse_body(raw_body)
    status = InboxStatus.REJECTED.value if reason else InboxStatus.ENQUEUED.value
    engine = get_engine(settings.database_url)
    insert = driver_insert(engine.dialect, with_event=delivery.event_id is not None, accepted=reason is None)
    values = {
        "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id,
        "topic": delivery.topic,
        "shop_domain": delivery.shop_domain,
        "api_version": delivery.api_version,
        "raw_body": raw_body,
        "headers": delivery.headers,
        "status": status,
        "reason": reason,
        "triggered_at": delivery.triggered_at,
        "received_at": utcnow(),
    }
    dbapi = engine.dialect.loaded_dbapi
    try:
        row_id = _execute_insert(engine, insert, values)
    except (OperationalError, InterfaceError, InternalError, *_driver_errors(dbapi)) as exc:
        # Unreachable, or refusing writes (a failover left the app on a read-only standby:
        # InternalError): the row is not stored either way, so Shopify's redelivery is right.
        raise InboxUnavailable(f"the inbox database cannot be reached ({type(exc).__name__}: {exc})") from exc
    return (row_id, status) if row_id is not None else (None, "duplicate")


def _driver_errors(dbapi: Any) -> tuple[type[BaseException], ...]:
    return (dbapi.OperationalError, dbapi.InterfaceError, dbapi.InternalError)


class _ThreadConnection(threading.local):
    """A request thread's own PostgreSQL connection for the inbox INSERT, kept in autocommit mode."""

    engine: Engine | None = None
    connection: Any = None  # made by the engine's pool, detached from it: this thread's alone


_own = _ThreadConnection()


def _execute_insert(engine: Engine, insert: DriverStatement, values: dict[str, Any]) -> int | None:
    """Run the INSERT as its own committed transaction; the new id, or None for a duplicate.

    PostgreSQL: on the calling thread's own connection, left in autocommit mode (no BEGIN/COMMIT
    round trips, and no pool checkout, pre-ping or mode switch per request; the
    connection is detached from the pool, so it never serves anyone else: ~15 % more webhooks
    a second, docs/benchmarks.md). A connection found dead (the server restarted, a network cut)
    is replaced and the INSERT run once more: it is idempotent, and if the lost attempt had
    committed, the retry sees a duplicate and the sweeper enqueues the row. SQLite: a pooled
    connection and the driver's implicit transaction, committed after RETURNING was read.
    Either way the row is durable before Shopify gets its 200.
    """
    if engine.dialect.name != "postgresql":
        return _insert_pooled(engine, insert, values)
    dbapi = engine.dialect.loaded_dbapi
    try:
        return _insert_own(engine, insert, values)
    except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
        log.warning("webhooks: inbox connection lost (%s); retrying on a new one", type(exc).__name__)
        return _insert_own(engine, insert, values)


def _insert_own(engine: Engine, insert: DriverStatement, values: dict[str, Any]) -> int | None:
    if _own.engine is not engine or _own.connection is None:  # first use, or the engines were reset
        _own.engine, _own.connection = None, None
        connection = engine.raw_connection()
        connection.detach()  # never back to the pool in autocommit mode: closed when dropped
        connection.dbapi_connection.autocommit = True
        _own.engine, _own.connection = engine, connection
    connection = _own.connection
    try:
        return _returned_id(connection.dbapi_connection, insert, values)
    except BaseException:
        _own.engine, _own.connection = None, None
        connection.invalidate()  # a broken or half-used connection is never used again
        raise


def _insert_pooled(engine: Engine, insert: DriverStatement, values: dict[str, Any]) -> int | None:
    connection = engine.raw_connection()
    try:
        row_id = _returned_id(connection.driver_connection, insert, values)
        connection.driver_connection.commit()
    except BaseException:
        connection.invalidate()  # a broken or half-used connection never goes back to the pool
        raise
    finally:
        connection.close()
    return row_id


def _returned_id(dbapi_connection: Any, insert: DriverStatement, values: dict[str, Any]) -> int | None:
    """Run the INSERT on this driver connection; the id its RETURNING gave, or None (a duplicate)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(insert.sql, insert.parameters(values))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row[0] if row is not None else None


def enqueue_inbox(settings: Settings, inbox_id: int, topic: str) -> str | None:
    """Hand the row to RQ in one pipeline; on a Redis failure put the row back to `received`.

    Returns the job id, or None when Redis is unreachable (the sweeper enqueues the row later).
    """
    try:
        return queues.enqueue_inbox(inbox_id, topic, conn=get_redis(settings.redis_url))
    except RedisError as exc:
        log.warning(
            "webhooks: enqueue failed for inbox %s (%s); the sweeper will retry", inbox_id, type(exc).__name__
        )
    with session_scope(settings.database_url) as session:
        session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.id == inbox_id, WebhookInbox.status == InboxStatus.ENQUEUED.value)
            .values(status=InboxStatus.RECEIVED.value, job_id=None)
        )
    return None


def _too_large(what: str) -> tuple[dict[str, Any], int]:
    log.warning("webhooks: refused %s delivery over the %s-byte limit", what, MAX_BODY_BYTES)
    return {"error": "payload_too_large", "limit_bytes": MAX_BODY_BYTES}, 413


@bp.post("/webhooks")
def receive() -> tuple[dict[str, Any], int]:
    settings: Settings = current_app.config["SETTINGS"]
    if (request.content_length or 0) > MAX_BODY_BYTES:  # refused unread, signed or not
        return _too_large(f"a {request.content_length}-byte")
    # A body without Content-Length (chunked) is read one byte past the limit: Werkzeug's limited
    # stream ends there without a word, so that byte is what tells a body too large from one cut.
    request.max_content_length = MAX_BODY_BYTES + 1
    raw_body = request.get_data(cache=False)
    if len(raw_body) > MAX_BODY_BYTES:
        return _too_large("a chunked")
    result = verify_webhook(raw_body, request.headers, settings.signing_secrets)
    if not result.ok or result.delivery is None:
        log.warning(
            "webhooks: refused delivery: %s", result.reason.value, extra={"missing": list(result.missing)}
        )
        body: dict[str, Any] = {"error": result.reason.value}
        if result.missing:
            body["missing" if result.reason is Reason.MISSING_HEADERS else "headers"] = list(result.missing)
        return body, result.status_code

    delivery = result.delivery
    extra = {"shop": delivery.shop_domain, "topic": delivery.topic, "webhook_id": delivery.webhook_id}
    try:
        inbox_id, status = store_delivery(settings, delivery, raw_body)
    except InboxUnavailable as exc:
        # Nothing was stored, so the answer must not be 2xx: Shopify delivers it again later.
        log.error("webhooks: %s; %s not stored, Shopify will redeliver", exc, delivery.topic, extra=extra)
        return {"error": "inbox_unavailable", "detail": "the webhook inbox cannot be written; retry"}, 503
    if inbox_id is None:
        log.info("webhooks: duplicate %s from %s ignored", delivery.topic, delivery.shop_domain, extra=extra)
        return {"ok": True, "duplicate": True}, 200
    if status == InboxStatus.REJECTED.value:
        log.warning(
            "webhooks: malformed %s body kept as rejected (inbox %s)", delivery.topic, inbox_id, extra=extra
        )
        return {"ok": True, "inbox_id": inbox_id, "status": status}, 200

    job_id = enqueue_inbox(settings, inbox_id, delivery.topic)
    # Debug, not info: the inbox row is the record of every delivery (one line per webhook would
    # cost more than the bare request it rides on).
    log.debug(
        "webhooks: %s from %s stored as inbox %s", delivery.topic, delivery.shop_domain, inbox_id, extra=extra
    )
    return {"ok": True, "inbox_id": inbox_id, "job_id": job_id}, 200
