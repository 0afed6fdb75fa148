"""Failed jobs: RQ's failed-job registry and the webhook inbox's failed rows, as far as they
concern the caller's shop.

A job that failed loudly (a bug, or retries exhausted) lands in RQ's FailedJobRegistry; the
message trace shows most of them already, but a job can fail before it wrote a message (an
inbox row whose handler crashed, a scheduled run whose setup broke). This page lists them
for the shop and lets an operator requeue one. Jobs are attributed to a shop by what their
first argument names: a shop id (runs, event appliers), a message id (replays) or a webhook
inbox row (inbox.process).

A webhook's inbox row is the truth of its delivery: its failed rows are listed from the database
too, so a failed one (a GDPR request, an uninstall) still shows, and runs again, after Redis lost
its failed registry (restarted without persistence); one line per row when RQ still holds its job
too, none for a row done since (the orders catch-up ran it under its own job id). Its retry marks
the row enqueued and enqueues it anew, whether RQ holds an ended job for it or none.

A delivery Shopify signed whose body could not be read (not JSON: `rejected`, answered 200, as a
retry cannot read it either) is listed too, `unreadable`, saying so in the page's language, until
an operator dismisses it (audited; the row is then done, and goes with the processed ones): a
retry is refused (409 webhook_unreadable). What it concerned is not lost for good: an order's
missed webhooks are imported by the reconciliation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger import failed_job_shops, queues
from ledger.kv import get_redis
from ledger.masking import mask_text
from ledger.models import InboxStatus, Role, WebhookInbox, utcnow
from shopify_app.api_common import (
    MAX_ID,
    ApiError,
    app_settings,
    db,
    exception_line,
    iso,
    locale,
    not_found,
    write_audit,
)
from shopify_app.fail_words import job_reason
from shopify_app.failed_mark import failed_mark
from shopify_app.roles import require_role

bp = Blueprint("api_jobs", __name__, url_prefix="/jobs")

LIMIT = 200  # the shop's failed jobs listed per queue (newest first)
# Registry entries read per queue for one listing: the shop's failures among other shops' (an
# outage of another shop fails hundreds in a weekend), with bounded work per request; past it the
# answer says `more` (RQ drops a failed job after queues.FAILURE_TTL, so the registry ends).
SCAN = 5000
# An inbox row in one of these has nothing left to run: a failed job of it is not offered.
INBOX_DONE = (InboxStatus.PROCESSED.value, InboxStatus.REJECTED.value)


def _shops_jobs(
    session: Session, found: list[dict[str, Any]], shop_id: int, shop_domain: str
) -> list[dict[str, Any]]:
    """Those of `found` that concern the shop (ledger.failed_job_shops), a webhook's only while its
    inbox row has something left to run."""
    return failed_job_shops.shops_jobs(session, found, shop_id, shop_domain, inbox_done=INBOX_DONE)


def _failed_inbox_rows(session: Session, shop_domain: str, job_id: str | None = None) -> list[dict[str, Any]]:
    """The shop's failed webhook inbox rows, then its rejected ones (`unreadable`), each newest first
    and shaped as failed jobs (`error`: the reason the row keeps); only the row of `job_id` when
    given."""
    inbox_id = job_id.removeprefix(queues.INBOX_JOB_PREFIX) if job_id else None
    if inbox_id is not None and (not (inbox_id.isascii() and inbox_id.isdigit()) or int(inbox_id) > MAX_ID):
        return []  # no row's id (the column is a bigint: a larger number failed the query)
    found: list[dict[str, Any]] = []
    for status in (InboxStatus.FAILED.value, InboxStatus.REJECTED.value):  # each by its partial index
        query = (
            select(
                WebhookInbox.id,
                WebhookInbox.topic,
                WebhookInbox.reason,
                WebhookInbox.received_at,
                WebhookInbox.processed_at,
            )
            .where(WebhookInbox.shop_domain == shop_domain, WebhookInbox.status == status)
            .order_by(WebhookInbox.id.desc())
            .limit(LIMIT)
        )
        if inbox_id is not None:
            query = query.where(WebhookInbox.id == int(inbox_id))
        rejected = status == InboxStatus.REJECTED.value
        found.extend(
            {
                "id": queues.inbox_job_id(row.id),
                "queue": queues.inbox_queue(row.topic),
                "func": queues.INBOX_JOB,
                "args": [repr(row.id)],
                "topic": row.topic,
                "error": row.reason or "",
                "ended_at": iso(row.processed_at),
                "enqueued_at": iso(row.received_at),
                **_said_of(rejected, row.topic, row.reason),
            }
            for row in session.execute(query).all()
        )
    return found


def _said_of(rejected: bool, topic: str, reason: str | None) -> dict[str, Any]:
    """An unreadable row's `unreadable` and its words (said in the page's language: shopify_app.fail_words),
    naming its topic; a failed row's words when the app wrote its reason (its job ended with no
    outcome, its retries exhausted: ledger.queues.inbox_reason_words), else nothing."""
    if rejected:
        return {"unreadable": True, "words": queues.unreadable_words(topic)}
    words = queues.inbox_reason_words(reason)
    return {"words": words} if words else {}


def _shop_failed_jobs(session: Session) -> tuple[list[dict[str, Any]], bool]:
    """The shop's failed jobs, newest first, and whether more may exist than were read (a queue's
    registry read up to SCAN entries without reaching its end, or LIMIT of the shop's found)."""
    conn = get_redis(app_settings().redis_url)
    jobs, more = [], False
    for name in queues.QUEUE_NAMES:
        found, beyond = queues.failed_jobs_where(
            name,
            lambda chunk: _shops_jobs(session, chunk, g.shop.id, g.shop.domain),
            limit=LIMIT,
            scan=SCAN,
            conn=conn,
        )
        more = more or beyond
        for job in found:
            job["error"] = exception_line(job.get("exc"))
            jobs.append(job)
    held = {job["id"] for job in jobs}
    jobs.extend(job for job in _failed_inbox_rows(session, g.shop.domain) if job["id"] not in held)
    jobs.sort(key=lambda job: job.get("ended_at") or "", reverse=True)  # newest first (ISO UTC texts)
    return jobs, more


def _shop_failed_job(session: Session, job_id: str) -> dict[str, Any] | None:
    """One of the shop's failed jobs by its id (as listed: in RQ's failed registry, or a failed
    webhook inbox row of the shop), however far down the registry it is; None when it is not."""
    conn = get_redis(app_settings().redis_url)
    try:
        job = Job.fetch(job_id, connection=conn)
    except (NoSuchJobError, ValueError):  # ValueError: not an id RQ could have given (none of ours)
        job = None
    if job is not None and job.get_status(refresh=False) == JobStatus.FAILED:
        found = failed_job_shops.job_row(job)
        if _shops_jobs(session, [found], g.shop.id, g.shop.domain):
            return found
    if job_id.startswith(queues.INBOX_JOB_PREFIX):
        return next(
            (row for row in _failed_inbox_rows(session, g.shop.domain, job_id) if row["id"] == job_id), None
        )
    return None


@bp.get("/failed")
@require_role(Role.VIEWER)
def list_failed() -> ResponseReturnValue:
    reveal, where = g.role.at_least(Role.ADMIN), locale()
    # read first: a job failing while the registries are read makes the next count differ
    total = queues.failed_total(get_redis(app_settings().redis_url))
    with db() as session:
        jobs, more = _shop_failed_jobs(session)
    return jsonify(
        {
            # RQ's failed registries when this was read (shopify_app.failed_mark: not their size, which
            # counts every shop's): GET /api/flows/changes?failed= compares it
            "failed_mark": failed_mark(g.shop.id, total),
            "more": more,  # more of the shop's failed jobs may exist than were read (SCAN, LIMIT)
            "jobs": [
                {
                    "id": job["id"],
                    "queue": job["queue"],
                    "func": job["func"],
                    # why it stopped, in the page's language; `error`: RQ's raw line, the technical detail
                    "reason": mask_text(job_reason(job.get("words"), where), reveal),
                    "error": mask_text(job["error"], reveal),
                    "ended_at": job.get("ended_at"),
                    "enqueued_at": job.get("enqueued_at"),
                    **({"topic": job["topic"]} if "topic" in job else {}),
                    # a webhook whose body could not be read: dismissed, never requeued
                    **({"unreadable": True} if job.get("unreadable") else {}),
                }
                for job in jobs
            ],
        }
    )


def _not_failed(job_id: str) -> ApiError:
    return ApiError(409, "job_not_failed", f"job {job_id} is no longer failed (requeued already?)")


@bp.post("/failed/<job_id>/requeue")
@require_role(Role.OPERATOR)
def requeue(job_id: str) -> ResponseReturnValue:
    with db() as session:
        job = _shop_failed_job(session, job_id)
        if job is None:
            raise not_found("failed job")
        if job.get("unreadable"):
            raise ApiError(409, "webhook_unreadable", f"webhook {job_id}'s body cannot be read: a retry "
                           "would read the same; dismiss it")  # fmt: skip
        if job["func"] == queues.INBOX_JOB:
            _requeue_inbox(session, job_id, failed_job_shops.first_id(job) or 0)
        else:
            try:
                queues.requeue_failed(job_id, conn=get_redis(app_settings().redis_url))
            except NoSuchJobError as exc:
                raise not_found("failed job") from exc
            except InvalidJobOperation as exc:  # requeued by someone else a moment ago
                raise _not_failed(job_id) from exc
        write_audit(session, "job.requeued", f"job:{job_id}", None, None)
    return jsonify({"job_id": job_id, "requeued": True}), 202


@bp.post("/failed/<job_id>/dismiss")
@require_role(Role.OPERATOR)
def dismiss(job_id: str) -> ResponseReturnValue:
    """Dismiss a webhook whose body could not be read (listed `unreadable`): its row is done, its
    reason kept; audited. 409 job_not_unreadable for any other failed job (requeue it)."""
    with db() as session:
        job = _shop_failed_job(session, job_id)
        if job is None:
            raise not_found("failed job")
        if not job.get("unreadable"):
            raise ApiError(409, "job_not_unreadable", f"job {job_id} is no unreadable webhook: requeue it")
        inbox_id = failed_job_shops.first_id(job) or 0
        changed = session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.id == inbox_id, WebhookInbox.status == InboxStatus.REJECTED.value)
            .values(status=InboxStatus.PROCESSED.value, processed_at=utcnow())  # kept its retention time
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            raise _not_failed(job_id)
        write_audit(session, "job.dismissed", f"job:{job_id}", None, {"topic": job.get("topic")})
    return jsonify({"job_id": job_id, "dismissed": True})


def _requeue_inbox(session: Session, job_id: str, inbox_id: int) -> None:
    """Mark the row enqueued (guarded on the status it is listed in: a second person's retry
    finds it changed) and enqueue it anew; rolled back with the request when RQ already runs it.

    The row's UPDATE holds its lock until the request commits, so a job that runs at once waits
    to record its outcome until the row says enqueued, and its outcome is the last word.
    """
    row = session.get(WebhookInbox, inbox_id)
    if row is None:
        raise not_found("failed job")
    changed = session.execute(
        update(WebhookInbox)
        .where(WebhookInbox.id == inbox_id, WebhookInbox.status == row.status)
        .values(status=InboxStatus.ENQUEUED.value, job_id=job_id, processed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise _not_failed(job_id)
    if queues.requeue_inbox(inbox_id, row.topic, conn=get_redis(app_settings().redis_url)) is None:
        raise _not_failed(job_id)  # RQ holds it queued or running: someone's retry a moment ago
