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
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger import queues
from ledger.kv import get_redis
from ledger.masking import mask_text
from ledger.models import InboxStatus, Message, Role, WebhookInbox
from shopify_app.api_common import ApiError, app_settings, db, iso, locale, not_found, write_audit
from shopify_app.fail_words import job_reason
from shopify_app.roles import require_role

bp = Blueprint("api_jobs", __name__, url_prefix="/jobs")

LIMIT = 200
# An inbox row in one of these has nothing left to run: a failed job of it is not offered.
INBOX_DONE = (InboxStatus.PROCESSED.value, InboxStatus.REJECTED.value)


def _first_id(job: dict[str, Any]) -> int | None:
    args = job.get("args") or []
    return int(args[0]) if args and str(args[0]).isdigit() else None  # args come as reprs: '42'


def _belongs_to_shop(session: Session, job: dict[str, Any], shop_id: int, shop_domain: str) -> bool:
    func, first = job.get("func") or "", _first_id(job)
    if first is None:
        return False
    if func == queues.INBOX_JOB:
        row = session.get(WebhookInbox, first)
        if row is None or row.shop_domain != shop_domain or row.status in INBOX_DONE:
            return False
        job["topic"] = row.topic
        return True
    if func.endswith(".replay"):
        message = session.get(Message, first)
        return message is not None and message.shop_id == shop_id
    return func.startswith("jobs.") and first == shop_id


def _failed_inbox_rows(session: Session, shop_domain: str) -> list[dict[str, Any]]:
    """The shop's failed webhook inbox rows, newest first, shaped as failed jobs (`error`: the
    reason the row keeps)."""
    rows = session.execute(
        select(
            WebhookInbox.id,
            WebhookInbox.topic,
            WebhookInbox.reason,
            WebhookInbox.received_at,
            WebhookInbox.processed_at,
        )
        .where(WebhookInbox.shop_domain == shop_domain, WebhookInbox.status == InboxStatus.FAILED.value)
        .order_by(WebhookInbox.id.desc())
        .limit(LIMIT)
    ).all()
    return [
        {
            "id": queues.inbox_job_id(row.id),
            "queue": queues.inbox_queue(row.topic),
            "func": queues.INBOX_JOB,
            "args": [repr(row.id)],
            "topic": row.topic,
            "error": row.reason or "",
            "ended_at": iso(row.processed_at),
            "enqueued_at": iso(row.received_at),
        }
        for row in rows
    ]


def _shop_failed_jobs(session: Session) -> list[dict[str, Any]]:
    conn = get_redis(app_settings().redis_url)
    jobs = []
    for name in queues.QUEUE_NAMES:
        for job in queues.failed_jobs(name, limit=LIMIT, conn=conn):
            if _belongs_to_shop(session, job, g.shop.id, g.shop.domain):
                job["error"] = _last_line(job.get("exc"))
                jobs.append(job)
    held = {job["id"] for job in jobs}
    jobs.extend(job for job in _failed_inbox_rows(session, g.shop.domain) if job["id"] not in held)
    jobs.sort(key=lambda job: job.get("ended_at") or "", reverse=True)  # newest first (ISO UTC texts)
    return jobs


def _last_line(text: str | None) -> str:
    """The exception line of a traceback: what a person reads first."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


@bp.get("/failed")
@require_role(Role.VIEWER)
def list_failed() -> ResponseReturnValue:
    reveal, where = g.role.at_least(Role.ADMIN), locale()
    with db() as session:
        jobs = _shop_failed_jobs(session)
    return jsonify(
        {
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
                }
                for job in jobs
            ]
        }
    )


def _not_failed(job_id: str) -> ApiError:
    return ApiError(409, "job_not_failed", f"job {job_id} is no longer failed (requeued already?)")


@bp.post("/failed/<job_id>/requeue")
@require_role(Role.OPERATOR)
def requeue(job_id: str) -> ResponseReturnValue:
    with db() as session:
        job = next((job for job in _shop_failed_jobs(session) if job["id"] == job_id), None)
        if job is None:
            raise not_found("failed job")
        if job["func"] == queues.INBOX_JOB:
            _requeue_inbox(session, job_id, _first_id(job) or 0)
        else:
            try:
                queues.requeue_failed(job_id, conn=get_redis(app_settings().redis_url))
            except NoSuchJobError as exc:
                raise not_found("failed job") from exc
            except InvalidJobOperation as exc:  # requeued by someone else a moment ago
                raise _not_failed(job_id) from exc
        write_audit(session, "job.requeued", f"job:{job_id}", None, None)
    return jsonify({"job_id": job_id, "requeued": True}), 202


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
