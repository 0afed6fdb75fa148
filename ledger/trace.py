"""The message trace: one row per unit of work, written before any outside call is made for it.

A flow calls `begin` (the row exists, attempt counted), makes its outside call, then `succeed`,
`skip` or `fail`. A retry or replay of the same unit (same shop, flow, unit_key) reuses the row,
so the Messages page shows one line per SKU / order / invoice with its attempts, not one per try.
The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import get_current_job
from sqlalchemy import ColumnElement, Select, and_, case, func, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.errors import IntegrationError, classify
from ledger.mappings import BY_NAME, code_key
from ledger.models import ErrorClass, Message, MessageStatus, utcnow
from ledger.words import Words, stored

log = logging.getLogger(__name__)

SEARCH_TEXT_MAX = 500
TRACEBACK_MAX = 20_000
# A unit pending (or retrying) this long lost its job (its worker killed, Redis lost the job):
# longer than RQ's whole retry schedule (10+30+60+120+300 s, ledger.queues.RETRY_INTERVALS).
STALE_AFTER_SECONDS = 15 * 60
STATUS_FOR_CLASS = {
    ErrorClass.MAPPING_MISSING: MessageStatus.PARKED,
    ErrorClass.TRANSIENT: MessageStatus.RETRYING,
    ErrorClass.REJECTED: MessageStatus.FAILED,
    ErrorClass.BUG: MessageStatus.FAILED,
}
# A message a person closed with "Mark as handled" (ledger.handled) is skipped with this key in its
# error detail: final, so a replay begun for it must not reopen it (`replaying`).
HANDLED = "handled"
# (shop, flow, unit key) of the message the running replay job was queued for (set by
# ledger.handled.unless_handled): `begin` of that unit does not reopen it if it was closed as
# handled after the job's guard looked (a mark landing meanwhile), and raises ClosedMeanwhile.
replaying: ContextVar[tuple[int, str, str] | None] = ContextVar("replaying", default=None)


class ClosedMeanwhile(Exception):
    """The unit a replay (or a `keep_handled` begin) was about to begin was closed as handled since
    its job looked."""


def closed_as_handled() -> ColumnElement[bool]:
    """SQL: the message was closed as handled (ledger.handled.info)."""
    return (Message.status == MessageStatus.SKIPPED.value) & Message.error_detail[HANDLED].as_string().is_not(
        None
    )


def search_text(*groups: Iterable[str | int | None]) -> str:
    """External ids lower-cased, de-duplicated in order, joined by spaces (cut to the column size)."""
    # One lower() and split() of them all joined by spaces, which gives the tokens each alone gives
    # (bulk begins call this per unit: a catalog load ~35,000 times); dict.fromkeys keeps them in order.
    texts = [raw if type(raw) is str else str(raw) for group in groups for raw in group if raw is not None]
    return " ".join(dict.fromkeys(" ".join(texts).lower().split()))[:SEARCH_TEXT_MAX]


def current_job_id() -> str | None:
    """The id of the RQ job this code runs in (None outside a job: a CLI command, a request)."""
    job = get_current_job()
    return job.id if job is not None else None


def begin(
    session: Session,
    shop_id: int,
    flow: str,
    unit_key: str,
    direction: str,
    *,
    shopify_id: str | None = None,
    erp_id: str | None = None,
    search: Iterable[str | int | None] = (),
    request: dict[str, Any] | None = None,
    job_id: str | None = None,
    keep_handled: bool = False,
) -> Message:
    """Upsert the unit's row as pending with one more attempt, and return it (flushed).

    One INSERT ... ON CONFLICT DO UPDATE statement, so two processes beginning the same unit
    at once both land on the one row (PostgreSQL serialises them on the unique key) and both
    attempts are counted. The previous error is cleared; ids and payload given here replace
    the stored ones, ids not given are kept; search ids add to the stored ones, so a replay
    stays findable by the ERP id an earlier attempt got back.

    `job_id` is the RQ job doing the work, by default the one this runs in (`current_job_id`): a
    unit pending past STALE_AFTER_SECONDS (a bulk operation hours long) is stuck only when RQ
    holds no such job, so every flow's units name theirs.

    In the replay of this very unit (`replaying`), a row closed as handled is left as it is, in the
    same statement, and ClosedMeanwhile raised: the replay ends before any outside call. So it is
    with `keep_handled` for any caller whose own look at the row (that it is not handled) may be
    older than a person's mark (jobs.orders: an order linked by hand as its payment's import began).
    """
    now = utcnow()
    job_id = job_id if job_id is not None else current_job_id()
    text = search_text([shopify_id, erp_id], search)
    values = {
        "shop_id": shop_id,
        "flow": flow,
        "unit_key": unit_key,
        "direction": direction,
        "shopify_id": shopify_id,
        "erp_id": erp_id,
        "search_text": text,
        "status": MessageStatus.PENDING.value,
        "attempts": 1,
        "request_payload": request if request is not None else null(),
        "job_id": job_id,
        "created_at": now,
        "updated_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Message).values(**values)
    table = Message.__table__.c
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.shop_id, table.flow, table.unit_key],
        set_={
            "attempts": table.attempts + 1,
            "status": MessageStatus.PENDING.value,
            "direction": direction,
            "error_class": None,
            "error_text": None,
            "error_detail": null(),
            "finished_at": None,
            "updated_at": now,
            "shopify_id": func.coalesce(excluded.shopify_id, table.shopify_id),
            "erp_id": func.coalesce(excluded.erp_id, table.erp_id),
            "search_text": table.search_text,
            "request_payload": request if request is not None else table.request_payload,
            "job_id": job_id if job_id is not None else table.job_id,
        },
        where=~closed_as_handled() if keep_handled or replaying.get() == (shop_id, flow, unit_key) else None,
    )
    session.flush()
    # RETURNING the whole row as the ORM object (SQLAlchemy's "ORM upsert"): one round trip
    # instead of the upsert plus a SELECT; populate_existing refreshes a row already in the session.
    message = session.scalars(
        stmt.returning(Message), execution_options={"populate_existing": True}
    ).one_or_none()
    if message is None:  # the where above held: closed as handled, left so
        raise ClosedMeanwhile(f"{flow} {unit_key} was closed as handled outside the app meanwhile")
    merged = search_text(message.search_text.split(), [message.shopify_id, message.erp_id], search)
    if merged != message.search_text:
        message.search_text = merged
        session.flush()
    log.debug(
        "trace: begin %s/%s attempt %s",
        flow,
        unit_key,
        message.attempts,
        extra={"shop_id": shop_id, "flow": flow, "unit_key": unit_key},
    )
    return message


def succeed(
    session: Session,
    message: Message,
    *,
    response: dict[str, Any] | None = None,
    shopify_id: str | None = None,
    erp_id: str | None = None,
    search: Iterable[str | int | None] = (),
) -> None:
    """Mark the unit done, keeping the ids the target handed back (searchable from now on)."""
    message.shopify_id = shopify_id or message.shopify_id
    message.erp_id = erp_id or message.erp_id
    message.search_text = search_text(message.search_text.split(), [shopify_id, erp_id], search)
    if response is not None:
        message.response_payload = response
    _finish(message, MessageStatus.DONE)
    session.flush()


def get_message(session: Session, message_id: int) -> Message:
    """The message a replay names; LookupError when there is none (a job queued for a message since
    deleted: the shop's data erased)."""
    message = session.get(Message, message_id)
    if message is None:
        raise LookupError(f"message {message_id} does not exist")
    return message


def succeed_open(
    session: Session, shop_id: int, flow: str, unit_keys: Iterable[str], response: dict[str, Any]
) -> None:
    """Mark done every message of these units not done yet (a refusal made moot since); one closed
    as handled stays so (ledger.handled: the person's record of how it was settled)."""
    for message in unit_messages(
        session, shop_id, flow, unit_keys, Message.status != MessageStatus.DONE.value, ~closed_as_handled()
    ):
        succeed(session, message, response=response)


def unit_messages(
    session: Session, shop_id: int, flow: str, unit_keys: Iterable[str], *where: ColumnElement[bool]
) -> Iterator[Message]:
    """The flow's messages of these units that meet `where`, read 500 unit keys a query."""
    keys = list(dict.fromkeys(unit_keys))
    for start in range(0, len(keys), 500):
        yield from session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == flow,
                Message.unit_key.in_(keys[start : start + 500]),
                *where,
            )
        )


# A failed message whose error detail carries this key is retried only by its own Retry (its
# replay means a person checked something), never by the Messages page's "Retry failed" of its flow.
RETRY_ALONE = "retry_alone"


def retried_alone(message: Message) -> bool:
    detail = message.error_detail
    return isinstance(detail, dict) and bool(detail.get(RETRY_ALONE))


def open_units(session: Session, shop_id: int, flow: str, like: str) -> list[Message]:
    """The flow's messages not done whose unit key matches the SQL LIKE pattern `like`."""
    return list(
        session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == flow,
                Message.unit_key.like(like),
                Message.status != MessageStatus.DONE.value,
            )
        )
    )


def is_waiting(message: Message) -> bool:
    """Whether the unit is pending on purpose, waiting for something outside the app (an order for
    its payment: jobs.orders marks it with error_detail {"waiting": "payment"}). Not lost: its
    flow's catch-up reads it again (the orders catch-up re-reads a pending order)."""
    detail = message.error_detail
    return (
        message.status == MessageStatus.PENDING.value
        and isinstance(detail, dict)
        and bool(detail.get("waiting"))
    )


# A replay's RQ job id (shopify_app.enqueue.replay_job_id, the orders catch-up's): "replay-<shop>-..."
REPLAY_JOB_PREFIX = "replay-"


def is_stale(message: Message, now: datetime | None = None) -> bool:
    """Whether the unit was begun and then left pending: no attempt touched it for
    STALE_AFTER_SECONDS. Nothing else redoes it (a scheduled pass reads only what changed), so
    it may be retried; a duplicate is harmless (the flows' locks, idempotent units). A unit
    waiting on purpose (`is_waiting`) is not left so. So is a replay left retrying (`_retrying_replay`)."""
    if message.updated_at is None:
        return False
    if message.status == MessageStatus.PENDING.value:
        if is_waiting(message):
            return False
    elif not _retrying_replay(message.status, message.job_id):
        return False
    return (now or utcnow()) - message.updated_at >= timedelta(seconds=STALE_AFTER_SECONDS)


def _retrying_replay(status: str, job_id: str | None) -> bool:
    """A unit a replay (a person's Retry or Replay, the orders catch-up's) left retrying: its next
    try is that job's RQ retry, and with the job lost (Redis restarted without its data, the key
    evicted) nothing else tries it: a catalog or price pass reads only what changed, and a retrying
    product or price the ERP did not change since is not read again. A unit a pass left retrying
    is that pass's to take again (the variant limit's hold, a price due), not lost."""
    return status == MessageStatus.RETRYING.value and (job_id or "").startswith(REPLAY_JOB_PREFIX)


# A skipped message's error detail carries its reason's words under this key: {"key": ..., "params":
# {...}}, which the pages say in the merchant's language (shopify_app.skip_words); error_text keeps
# the English reason, for logs and search.
SKIP = "skip"
# A failed, parked or retrying message's detail carries its failure's words under this key (an
# IntegrationError's `words`, when it has them), which the pages say in the merchant's language
# (shopify_app.fail_words); error_text keeps the English message.
FAIL = "fail"


def skip(session: Session, message: Message, reason: str, *, words: Words | None = None) -> None:
    """Mark the unit skipped (unchanged digest, duplicate delivery...) with why, for the trace;
    `words` says it in the merchant's language (SKIP), beside what the flow keeps in the detail."""
    message.error_text = reason
    if words is not None:
        detail = dict(message.error_detail) if isinstance(message.error_detail, dict) else {}
        message.error_detail = {**detail, SKIP: stored(words)}
    _finish(message, MessageStatus.SKIPPED)
    session.flush()


# A unit closed because later units of its flow did its work (`supersede`): its error detail keeps
# under this key which messages, when, and the status, class and text of the error it was left with.
SUPERSEDED = "superseded"


def supersede(
    session: Session, message: Message, reason: str, *, words: Words, by: Iterable[int] = ()
) -> None:
    """Close an open unit (failed, retrying, left pending) whose work later units of its flow did:
    skipped (nothing more to do) with why, in English and in the merchant's `words` (SKIP), like a
    skip. Unlike `succeed`, its error stays for history: what it had in its detail (the target's
    words, a traceback) and, under SUPERSEDED, the messages `by` that did the work, when, and the
    status, class and text of the error it closes. The class is cleared, so it lists as closed."""
    detail = dict(message.error_detail) if isinstance(message.error_detail, dict) else {}
    detail[SUPERSEDED] = {
        "by": list(by),
        "at": utcnow().isoformat(),
        "status": message.status,
        "error_class": message.error_class,
        "error_text": message.error_text,
    }
    message.error_detail = detail
    message.error_class = None
    skip(session, message, reason, words=words)


def fail(session: Session, message: Message, exc: BaseException) -> MessageStatus:
    """Record a classified failure and return the status it put the unit in.

    mapping_missing -> parked (resumes when the mapping appears), transient -> retrying,
    rejected -> failed with the target's own words, anything else -> failed as a bug with
    the traceback kept in `error_detail` for whoever fixes it. A failure given words keeps them
    there too (FAIL), for the pages to say it in the merchant's language.
    """
    error_class = classify(exc)
    status = STATUS_FOR_CLASS[error_class]
    message.error_class = error_class.value
    # for Rejected, the target's own words
    message.error_text = exc.message if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    message.error_detail = error_detail(exc)
    words = exc.words if isinstance(exc, IntegrationError) else None
    if words is not None:
        message.error_detail = {**message.error_detail, FAIL: stored(words)}
    _finish(message, status)
    session.flush()
    log.info(
        "trace: %s/%s %s (%s)",
        message.flow,
        message.unit_key,
        status.value,
        error_class.value,
        extra={"shop_id": message.shop_id, "flow": message.flow, "unit_key": message.unit_key},
    )
    return status


RETRIES_RAN_OUT = "RETRIES_RAN_OUT"  # error_detail["code"] of a unit its job's retries ran out on


def retries_ran_out(session: Session, message: Message, last: str) -> None:
    """The job that ran the unit (a replay) failed through every RQ retry and nothing runs it again,
    the unit still retrying or pending: failed, saying the retries ran out and the `last` error (its
    words, as stored, when it had them), for a person's Retry. Its class stays transient (the
    cause was a passing one); its code (RETRIES_RAN_OUT) tells the pages it is not retried."""
    detail = dict(message.error_detail) if isinstance(message.error_detail, dict) else {}
    detail.pop(FAIL, None)
    words: Words = ("retries_ran_out", {"last": last})
    message.error_class = ErrorClass.TRANSIENT.value
    message.error_text = (
        f"The automatic retries ran out: every retry failed and nothing runs this again by itself. "
        f"The last error: {last}"
    )
    message.error_detail = {**detail, "code": RETRIES_RAN_OUT, "last_error": last, FAIL: stored(words)}
    _finish(message, MessageStatus.FAILED)
    session.flush()
    extra = {"shop_id": message.shop_id, "flow": message.flow, "unit_key": message.unit_key}
    log.warning(
        "trace: %s/%s failed, its retries ran out (%s)", message.flow, message.unit_key, last, extra=extra
    )


def error_detail(exc: BaseException) -> dict[str, Any]:
    """What a failed message keeps of its error: an IntegrationError's detail (what the UI needs
    to offer the fix), else the traceback for whoever fixes the bug."""
    if isinstance(exc, IntegrationError):
        return _jsonable(exc.detail)
    # The innermost frames say most: keep the end of a very deep traceback.
    return {"traceback": "".join(traceback.format_exception(exc))[-TRACEBACK_MAX:]}


def parked_waiting_for(
    session: Session, shop_id: int, kind: str, code: str, flow: str | None = None
) -> list[Message]:
    """Parked units (of `flow`, else any) whose missing mapping is (kind, code): what to resume once
    it is created. Codes compare as the kind compares them (ledger.mappings.code_key: a gateway
    parked as "Pix" waits for a line saved as "PIX")."""
    mapping = Message.error_detail["mapping"]
    stmt = (
        select(Message)
        .where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.PARKED.value,
            mapping["kind"].as_string() == kind,
            *([Message.flow == flow] if flow is not None else []),
        )
        .order_by(Message.id)
    )
    if kind not in BY_NAME:  # compared exactly: the database does it
        return list(session.scalars(stmt.where(mapping["code"].as_string() == code)))
    key = code_key(kind, code)
    return [
        message
        for message in session.scalars(stmt)
        if code_key(kind, str(message.error_detail["mapping"].get("code"))) == key
    ]


def failed_flagged(session: Session, shop_id: int, flag: str) -> list[Message]:
    """Failed units whose error detail carries `flag` true (erp.errors.AUTH: the ERP refused the
    integration's login), oldest first: what to retry once the thing the flag names was fixed."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.shop_id == shop_id,
                Message.status == MessageStatus.FAILED.value,
                Message.error_detail[flag].as_boolean().is_(True),
            )
            .order_by(Message.id)
        )
    )


def stale_jobs(
    session: Session, shop_id: int, now: datetime | None = None
) -> dict[tuple[str, str | None], tuple[int, int]]:
    """(flow, job id) -> how many units were left pending past STALE_AFTER_SECONDS under that job
    (`is_stale`; those waiting on purpose excluded), and how many of those are replays left retrying
    (the dashboard counts them among the retrying ones too: its open failures must not add them
    twice). A job RQ still holds is running (a catalog load's bulk operation takes hours): the
    caller asks RQ (ledger.queues.held_ids) which are lost."""
    retrying = func.sum(case((Message.status == MessageStatus.RETRYING.value, 1), else_=0))
    stmt = (
        select(Message.flow, Message.job_id, func.count(), retrying)
        .where(*stale_where(shop_id, now))
        .group_by(Message.flow, Message.job_id)
    )
    return {(flow, job_id): (n, int(r or 0)) for flow, job_id, n, r in session.execute(stmt)}


def stale_where(shop_id: int, now: datetime | None = None) -> list[ColumnElement[bool]]:
    """The shop's units left pending past STALE_AFTER_SECONDS, those waiting on purpose excluded,
    and replays left retrying as long (`is_stale`, in SQL): what `stale_jobs` counts and
    ledger.stuck lists."""
    before = (now or utcnow()) - timedelta(seconds=STALE_AFTER_SECONDS)
    pending = and_(
        Message.status == MessageStatus.PENDING.value, Message.error_detail["waiting"].as_string().is_(None)
    )
    replay = and_(
        Message.status == MessageStatus.RETRYING.value, Message.job_id.like(REPLAY_JOB_PREFIX + "%")
    )
    return [Message.shop_id == shop_id, or_(pending, replay), Message.updated_at <= before]


# Outstanding work, whatever its age: a unit failed, parked or retrying is still not in the
# target system, and one left pending longer than STALE_AFTER_SECONDS lost its job.
OPEN_STATUSES = (
    MessageStatus.PENDING.value,
    MessageStatus.FAILED.value,
    MessageStatus.PARKED.value,
    MessageStatus.RETRYING.value,
)
FINISHED_STATUSES = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)


def dashboard_counts(session: Session, shop_id: int, finished_since: datetime) -> dict[str, dict[str, int]]:
    """{flow: {status: n}}: every open unit (OPEN_STATUSES, however old: an order refused on
    Friday is still failed on Monday, and the Messages list the count links to shows it; read
    through the partial index ix_messages_open) and the units finished (done, skipped) since
    `finished_since`."""
    counts: dict[str, dict[str, int]] = {}
    for statuses, since in ((OPEN_STATUSES, None), (FINISHED_STATUSES, finished_since)):
        stmt = (
            select(Message.flow, Message.status, func.count())
            .where(Message.shop_id == shop_id, Message.status.in_(statuses))
            .group_by(Message.flow, Message.status)
        )
        if since is not None:
            stmt = stmt.where(Message.updated_at >= since)
        for flow, status, n in session.execute(stmt):
            counts.setdefault(flow, {})[status] = n
    return counts


def per_hour(session: Session, shop_id: int, since: datetime) -> list[tuple[datetime, str, str, int]]:
    """(hour in UTC, flow, status, n) rows, oldest hour first: the dashboard's chart."""
    if session.get_bind().dialect.name == "postgresql":
        hour = func.date_trunc("hour", func.timezone("UTC", Message.updated_at))
    else:
        hour = func.strftime("%Y-%m-%d %H:00:00", Message.updated_at)
    stmt = (
        select(hour.label("hour"), Message.flow, Message.status, func.count())
        .where(Message.shop_id == shop_id, Message.updated_at >= since)
        .group_by(hour, Message.flow, Message.status)
        .order_by(hour, Message.flow, Message.status)
    )
    return [(_as_utc_hour(h), flow, status, n) for h, flow, status, n in session.execute(stmt)]


def search(
    session: Session,
    shop_id: int,
    *,
    flow: str | None = None,
    status: str | None = None,
    text: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
    updated_since: datetime | None = None,
    where: Iterable[ColumnElement[bool]] = (),
) -> list[Message]:
    """Newest first; `text` matches any external id (substring, case-insensitive); `updated_since`:
    changed then or later (the dashboard's done count: `dashboard_counts`); `where`: more clauses
    (ledger.stuck's, the units whose job was lost).

    Page on with `before_id` = the id of the last row of the previous page.
    """
    stmt = select(Message).where(Message.shop_id == shop_id, *where)
    if flow:
        stmt = stmt.where(Message.flow == flow)
    if status:
        stmt = stmt.where(Message.status == status)
    if updated_since is not None:
        stmt = stmt.where(Message.updated_at >= updated_since)
    if before_id is not None:
        stmt = stmt.where(Message.id < before_id)
    if text and text.strip():
        needle = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Message.search_text.like(f"%{needle}%", escape="\\"))
        if session.get_bind().dialect.name == "postgresql":
            return _search_text(session, stmt, limit, before_id)
    if updated_since is not None:
        # changed since a time (the dashboard's done count's link): `id + 0`, an order no index
        # gives, so the rows changed since are read through ix_messages_updated and sorted (what
        # the count itself reads), not the primary key walked back until 50 are found
        return list(session.scalars(stmt.order_by((Message.id + 0).desc()).limit(limit)))
    if flow:
        # a flow's page: its ids first, from ix_messages_flow_id / ix_messages_flow_status_id alone
        # (they hold every column asked). The catalog's units keep the oldest ids (a run upserts
        # the rows its install wrote): the primary key walked back, the planner's guess for a
        # fifth of the rows (50 found in 250), read every newer message first
        ids = stmt.with_only_columns(Message.id).order_by(Message.id.desc()).limit(limit)
        stmt = select(Message).where(Message.id.in_(ids.scalar_subquery()))
    return list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))


# The newest ids a text search reads in id order (a common id fills its page there).
SEARCH_RECENT_IDS = 20_000


def _search_text(
    session: Session, stmt: Select[tuple[Message]], limit: int, before_id: int | None
) -> list[Message]:
    """A text search on PostgreSQL: the newest SEARCH_RECENT_IDS ids in id order, then, if the page
    is not full, the older matches through the trigram index (ix_messages_search_trgm), sorted. In
    id order alone, PostgreSQL walks the whole table back when few messages match and its estimate
    said many (one ANALYZE in ~12 at a million messages: an old order's number, 0.1-0.5 s)."""
    top = before_id if before_id is not None else (session.scalar(select(func.max(Message.id))) or 0) + 1
    floor = top - SEARCH_RECENT_IDS
    found = list(session.scalars(stmt.where(Message.id >= floor).order_by(Message.id.desc()).limit(limit)))
    if len(found) < limit:
        older = stmt.where(Message.id < floor).order_by((Message.id + 0).desc())  # + 0: not the key's order
        found += session.scalars(older.limit(limit - len(found)))
    return found


def _finish(message: Message, status: MessageStatus) -> None:
    now = utcnow()
    message.status = status.value
    message.updated_at = now
    message.finished_at = now if status in (MessageStatus.DONE, MessageStatus.SKIPPED) else None
    if status is MessageStatus.DONE:
        message.error_class = message.error_text = None
        message.error_detail = null()  # SQL NULL, not a JSON 'null'


def _as_utc_hour(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    """Exception details as JSON: anything exotic becomes its text rather than breaking the flush."""
    return json.loads(json.dumps(detail, default=str))
