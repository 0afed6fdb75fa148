"""The Messages page: search the trace, one message in detail, retry, retry all failed, replay.

Payloads are shown with PII masked (ledger.masking.mask_detail: by key, then documents and
e-mails inside every text, as a reconcile report quotes error texts) unless the caller is admin
or owner. A retry (failed / parked / retrying, or pending and left so: `ledger.trace.is_stale`) and
a replay (done) both enqueue the flow's replay job with the message id (`ledger.flows`), and both
are audited; a message closed as handled is refused either way, saying so (final). A unit left
pending whose job RQ no longer holds is flagged `stuck` in every row and explained ("interrupted"):
plain "pending" would read as work still under way; `stuck=true` lists those alone, by the test the
dashboard's count of them links here with (`ledger.stuck`). A failure a person settled outside the app
(entered the order in the ERP by hand, fixed it in Shopify), which a Retry would only see refused
again, is closed with "mark as handled" and a short note (`ledger.handled`:
skipped, the original error kept, who / when / why), audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy import func, select

from ledger import drift, handled, queues, trace
from ledger import flows as catalog
from ledger import stuck as stuck_units
from ledger.kv import get_redis
from ledger.masking import mask_detail, mask_text, typed_tax_ids
from ledger.models import Message, MessageStatus, Role
from shopify_app import catalog_hold_words, reconcile_words, stock_words
from shopify_app.api_common import (
    DEFAULT_LOCALE,
    MAX_ID,
    SEARCH_MIN,
    ApiError,
    app_settings,
    db,
    field_text,
    invalid,
    iso,
    json_body,
    locale,
    not_found,
    page_cursor,
    query_choice,
    query_flag,
    query_int,
    query_text,
    query_time,
    reject_unknown,
    write_audit,
)
from shopify_app.api_explain import explain, stopped_by_app
from shopify_app.enqueue import enqueue_replay, replay_job_id
from shopify_app.fail_words import reason as fail_reason
from shopify_app.message_subject import admin_path, subject, subject_names
from shopify_app.roles import require_role
from shopify_app.skip_words import reason as skip_reason

bp = Blueprint("messages", __name__, url_prefix="/messages")

FLOW_NAMES = tuple(catalog.BY_NAME)
STATUSES = tuple(s.value for s in MessageStatus)
RETRYABLE = (MessageStatus.FAILED.value, MessageStatus.PARKED.value, MessageStatus.RETRYING.value)
REPLAYABLE = (MessageStatus.DONE.value,)
RETRY_FAILED_MAX = 1000
RETRY_FAILED_READ_MAX = 20_000  # failed messages one click reads at most (past those not enqueued)
STUCK_MINUTES = trace.STALE_AFTER_SECONDS // 60


def is_stuck(message: Message) -> bool:
    """Left pending (trace.is_stale: its worker was killed or Redis lost its job, and nothing else
    would ever redo it) while RQ holds no live job of it: a unit of a bulk operation still running
    for hours (a catalog load) is pending, not lost. Asks Redis only for a stale unit."""
    return message.id in stuck_ids([message])


def stuck_ids(messages: Iterable[Message]) -> set[int]:
    """The ids of `messages` that are stuck (`is_stuck`), for a page of them: their jobs asked in one
    round trip, each flow's lock once (a page's rows asked one by one cost a round trip each: a
    page of 200 waited ~0.2-0.6 s on a managed Redis 1 ms away). One begun outside RQ (a
    terminal's catalog load, no job) is not stuck while its flow's lock is held."""
    stale = [m for m in messages if trace.is_stale(m)]
    if not stale:
        return set()
    conn = get_redis(app_settings().redis_url)
    held = queues.held_ids((m.job_id for m in stale), conn)
    outside = {(m.shop_id, m.flow) for m in stale if m.job_id is None}
    running = {key for key in outside if stuck_units.locked(*key, conn)}
    return {
        m.id
        for m in stale
        if not (m.job_id is None and (m.shop_id, m.flow) in running) and m.job_id not in held
    }


def can_retry(message: Message, stuck: bool | None = None) -> bool:
    """Failed, parked or retrying; or stuck (`is_stuck`, passed when the caller knows it)."""
    if message.status in RETRYABLE:
        return True
    return is_stuck(message) if stuck is None else stuck


def can_replay(message: Message) -> bool:
    return message.status in REPLAYABLE


def summary(
    message: Message,
    reveal: bool = False,
    stuck: bool | None = None,
    names: dict[str, str] | None = None,
    where: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """A message as a list row (no payloads): also used by the Orders detail. `stuck`: a pending
    unit whose job was lost (`is_stuck`), which reads "interrupted", not plain "pending". `names`:
    what the page's messages are about is named by (`message_subject.subject_names`: order names,
    product titles), for its `subject`; `shopify_admin_path` is where its gid opens in the admin.
    `where`: the locale its skip `reason` and `failure_reason` are said in (the request's: `locale()`)."""
    return {
        "id": message.id,
        "flow": message.flow,
        "direction": message.direction,
        "subject": subject(message, names),
        "unit_key": message.unit_key,
        "shopify_id": message.shopify_id,
        "shopify_admin_path": admin_path(message.shopify_id),
        "erp_id": message.erp_id,
        "status": message.status,
        "attempts": message.attempts,
        "error_class": message.error_class,
        "error_text": mask_text(message.error_text, reveal, typed := typed_tax_ids(message.error_detail)),
        # why it was skipped, in the merchant's language (its error_text when it has no words)
        "reason": mask_text(skip_reason(message, where), reveal, typed),
        # why it failed, is parked or retrying, in the merchant's language (its error_text when its
        # failure gave no words: a bug's, the ERP's own refusal, an older row); None otherwise
        "failure_reason": mask_text(fail_reason(message, where), reveal, typed),
        # refused by the app's own check, not by a target: the pages name it so, not "rejected"
        "stopped_by_app": stopped_by_app(message),
        "stuck": is_stuck(message) if stuck is None else stuck,
        "created_at": iso(message.created_at),
        "updated_at": iso(message.updated_at),
        "finished_at": iso(message.finished_at),
        "findings": _findings(message),
    }


def _findings(message: Message) -> dict[str, int] | None:
    """A reconciliation report that ended done: the drift it found, counted (None: none, or not a
    report), which the pages name in the merchant's language (ledger.drift)."""
    if message.flow != "reconcile" or message.status != MessageStatus.DONE.value:
        return None
    return drift.findings(message.response_payload) or None


# A response's texts said in the request's locale where the flow keeps their words beside them
# (ledger.words.beside): a reconciliation report's explanations, a stock batch's note, the note
# of the skus pass's held packagings a full sync decided and of a full sync's held message a later
# one closed (catalog_hold_words).
RESPONSE_WORDS = {
    "reconcile": reconcile_words.in_locale,
    "stock": stock_words.in_locale,
    "skus": catalog_hold_words.in_locale,
}


def _said(message: Message, where: str) -> Any:
    """The message's response with its worded texts in `where` (before masking: what is said of
    a person's note or an ERP's text is masked as the English is)."""
    say = RESPONSE_WORDS.get(message.flow)
    return message.response_payload if say is None else say(message.response_payload, where)


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return value if isinstance(value, dict) else {"value": value}


def own_message(session: Any, message_id: int) -> Message:
    """The message if it belongs to the caller's shop; 404 otherwise (another shop's included)."""
    message = session.get(Message, message_id) if message_id <= MAX_ID else None
    if message is None or message.shop_id != g.shop.id:
        raise not_found("message")
    return message


@bp.get("")
@require_role(Role.VIEWER)
def list_messages() -> ResponseReturnValue:
    flow = query_choice("flow", FLOW_NAMES)
    status = query_choice("status", STATUSES)
    text = query_text("q", min_length=SEARCH_MIN)
    before_id = query_int("before_id", None, 1, MAX_ID)
    limit = query_int("limit", 50, 1, 200) or 50
    since = query_time("updated_since")
    only_stuck = query_flag("stuck")
    with db() as session:
        # stuck: by the test the dashboard's count of them is read by (ledger.stuck), which links here
        lost = (
            stuck_units.read(session, g.shop.id, get_redis(app_settings().redis_url)).where()
            if only_stuck
            else []
        )
        rows = trace.search(
            session,
            g.shop.id,
            flow=flow,
            status=status,
            text=text,
            limit=limit,
            before_id=before_id,
            updated_since=since,
            where=lost,
        )
        names = subject_names(session, g.shop.id, rows)
        where, stuck = locale(), stuck_ids(rows)
        reveal = g.role.at_least(Role.ADMIN)
        return jsonify(
            {
                "messages": [summary(m, reveal, m.id in stuck, names=names, where=where) for m in rows],
                "next_before_id": page_cursor([m.id for m in rows], limit),
            }
        )


@bp.get("/<int:message_id>")
@require_role(Role.VIEWER)
def get_message(message_id: int) -> ResponseReturnValue:
    reveal = g.role.at_least(Role.ADMIN)
    where = locale()
    with db() as session:
        message = own_message(session, message_id)
        stuck = is_stuck(message)
        detail = {
            **summary(message, reveal, stuck, subject_names(session, g.shop.id, [message]), where),
            "request_payload": _dict_or_none(mask_detail(message.request_payload, reveal)),
            "response_payload": _dict_or_none(mask_detail(_said(message, where), reveal)),
            "error_detail": _dict_or_none(mask_detail(message.error_detail, reveal)),
            "pii_masked": not reveal,
            "job_id": message.job_id,
            # A failure closed as handled is explained by who closed it and why (`handled`), not as
            # a failure to fix and retry; what it was is kept there.
            "explanation": explain(
                message, where, reveal, stuck=stuck, can_operate=g.role.at_least(Role.OPERATOR)
            ),
            "handled": _handled_json(message, reveal),
            "can_retry": can_retry(message, stuck),
            "can_replay": can_replay(message),
            "can_mark_handled": handled.can_mark(message),
            "locale": where,
        }
    return jsonify(detail)


def job_holding(message: Message) -> str | None:
    """The job RQ still holds (queued, running, scheduled) that would run this message: its own
    (`job_id`, the flow's) or its Retry/Replay's (`enqueue.replay_job_id`); None when none.

    Raises:
        ApiError 503: Redis cannot say (closing it now could lose the race to a queued job).
    """
    conn = get_redis(app_settings().redis_url)
    ids = [job_id for job_id in (message.job_id, replay_job_id(message)) if job_id]
    try:
        conn.ping()
    except Exception as exc:
        raise ApiError(
            503, "redis_unavailable", "the job queue (Redis) could not be reached: try again", system="queue"
        ) from exc
    return next((job_id for job_id in ids if queues.held(job_id, conn)), None)


def _handled_json(message: Message, reveal: bool) -> dict[str, Any] | None:
    closed = handled.info(message)
    if closed is None:
        return None
    return {
        "by": closed.get("by"),
        "at": closed.get("at"),
        "note": mask_text(closed.get("note"), reveal),
        "status": closed.get("status"),
        "error_class": closed.get("error_class"),
        "error_text": mask_text(
            closed.get("error_text"), reveal, typed_tax_ids(message.error_detail, closed)
        ),
    }


def _enqueue(message: Message, action: str) -> dict[str, Any]:
    try:
        job_id, enqueued = enqueue_replay(
            message, get_redis(app_settings().redis_url), person_replay=action == "replay"
        )
    except KeyError as exc:
        raise ApiError(
            409, "unknown_flow", f"message {message.id} names no known flow ({message.flow})"
        ) from exc
    return {
        "job_id": job_id,
        "enqueued": enqueued,
        "message_id": message.id,
        "flow": message.flow,
        "queue": catalog.get(message.flow).queue,
        "action": action,
    }


def _redo(message_id: int, action: str) -> ResponseReturnValue:
    """Retry (failed, parked, retrying, or left pending) or replay (done) one message: enqueue its
    flow's replay."""
    allowed, other, other_action, wording, done_word = (
        (can_retry, can_replay, "replay",
         f"failed, parked or retrying messages (or pending ones untouched for {STUCK_MINUTES} minutes)",
         "retried")
        if action == "retry"
        else (can_replay, can_retry, "retry", "done messages", "replayed")
    )  # fmt: skip
    with db() as session:
        message = own_message(session, message_id)
        if handled.info(message) is not None:  # final (`ledger.handled`): running it would undo that
            raise ApiError(
                409,
                f"not_{action}able",
                "this message was closed as handled outside the app: it is final, and running it "
                "again would redo what was settled by hand",
                message_status=message.status,
            )
        if not allowed(message):
            raise ApiError(
                409,
                f"not_{action}able",
                f"only {wording} can be {done_word}; this one is {message.status}"
                + (f" (use {other_action})" if other(message) else ""),
                message_status=message.status,
            )
        result = _enqueue(message, action)
        write_audit(
            session,
            "message.retry" if action == "retry" else "message.replay",  # whole: the audit page labels it
            f"message:{message.id}",
            {"status": message.status},
            {"job_id": result["job_id"]},
        )
    result.pop("action")
    return jsonify(result), 202


@bp.post("/<int:message_id>/retry")
@require_role(Role.OPERATOR)
def retry(message_id: int) -> ResponseReturnValue:
    return _redo(message_id, "retry")


@bp.post("/<int:message_id>/replay")
@require_role(Role.OPERATOR)
def replay(message_id: int) -> ResponseReturnValue:
    return _redo(message_id, "replay")


@bp.post("/retry-failed")
@require_role(Role.OPERATOR)
def retry_failed() -> ResponseReturnValue:
    """One replay job per failed message of the flow (oldest first, at most RETRY_FAILED_MAX per
    click), but those only their own Retry replays (trace.RETRY_ALONE: a person's confirmation).

    The failed messages are read page after page past those it does not enqueue (retried alone,
    or their replay still queued: a message stays failed while its replay waits, and again when
    that fails), so a click always reaches the next ones: reading only the oldest RETRY_FAILED_MAX
    had every later click enqueue none of the messages after them, saying "0 queued".
    `remaining`: the failed messages after the last one read, for the next click."""
    flow = query_choice("flow", FLOW_NAMES, required=True)
    conn = get_redis(app_settings().redis_url)
    ids: list[int] = []
    down: RedisError | None = None  # Redis lost midway: those enqueued before are audited all the same
    mine = (Message.shop_id == g.shop.id, Message.flow == flow, Message.status == MessageStatus.FAILED.value)
    with db() as session:
        after, read = 0, 0
        while len(ids) < RETRY_FAILED_MAX and read < RETRY_FAILED_READ_MAX and down is None:
            page = session.scalars(
                select(Message).where(*mine, Message.id > after).order_by(Message.id).limit(RETRY_FAILED_MAX)
            ).all()
            for message in page:
                if trace.retried_alone(message):  # a person's confirmation: only its own Retry
                    after, read = message.id, read + 1
                    continue
                try:
                    _, enqueued = enqueue_replay(message, conn)
                except RedisError as exc:
                    down = exc
                    break
                after, read = message.id, read + 1
                if enqueued:
                    ids.append(message.id)
                    if len(ids) >= RETRY_FAILED_MAX:
                        break
            if len(page) < RETRY_FAILED_MAX:
                break
        remaining = session.scalar(select(func.count()).select_from(Message).where(*mine, Message.id > after))
        done = {
            "enqueued": len(ids),
            "message_ids": ids,
            **({"stopped": "Redis unreachable"} if down else {}),
        }
        write_audit(session, "message.retry_failed", f"flow:{flow}", None, done)
    if down is not None:  # answered as Redis unreachable, after the audit of what went
        raise down
    return jsonify({"flow": flow, "enqueued": len(ids), "message_ids": ids, "remaining": remaining}), 202


@bp.post("/<int:message_id>/handled")
@require_role(Role.OPERATOR)
def mark_handled(message_id: int) -> ResponseReturnValue:
    """Close a failed or parked message (or an order waiting for its payment) that a person settled
    outside the app, with a short note saying how: skipped, its error kept (`ledger.handled`), its
    order link's note of that failure cleared, audited."""
    body = json_body()
    reject_unknown(body, {"note"})
    errors: dict[str, str] = {}
    note = field_text(body, "note", handled.NOTE_MAX, errors)
    if errors:
        raise invalid(errors)
    with db() as session:
        message = own_message(session, message_id)
        if not handled.can_mark(message):
            raise ApiError(
                409,
                "not_closable",
                "only failed or parked messages (or orders waiting for their payment) can be marked "
                f"handled; this one is {message.status}",
                message_status=message.status,
            )
        queued = job_holding(message)
        if queued is not None:  # it would run the message anyway, reopening it (the record wiped)
            raise ApiError(
                409,
                "job_queued",
                f"a job of this message is still queued or running ({queued}): wait for it to end, then "
                "mark it handled if it is still needed",
                job_id=queued,
            )
        before = {"status": message.status, "error_class": message.error_class}
        try:
            cleared = handled.mark(session, message, by=str(g.user_id), note=note)
        except handled.Changed as exc:  # a job began it since it was read: look again
            raise ApiError(
                409,
                "message_changed",
                f"this message changed meanwhile (a job ran it; it is {message.status} now): reload it, "
                "then mark it handled if it is still needed",
                message_status=message.status,
            ) from exc
        write_audit(
            session,
            "message.handled",
            f"message:{message.id}",
            before,
            {"status": message.status, "note": note, "notes_cleared": cleared},
        )
        reveal = g.role.at_least(Role.ADMIN)
        names = subject_names(session, g.shop.id, [message])
        return jsonify(
            {
                **summary(message, reveal, names=names, where=locale()),
                "handled": _handled_json(message, reveal),
            }
        )
