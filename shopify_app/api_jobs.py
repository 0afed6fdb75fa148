"""Failed jobs: RQ's failed-job registry, as far as it concerns the caller's shop.

A job that failed loudly (a bug, or retries exhausted) lands in RQ's FailedJobRegistry; the
message trace shows most of them already, but a job can fail before it wrote a message (an
inbox row whose handler crashed, a scheduled run whose setup broke). This page lists them
for the shop and lets an operator requeue one. Jobs are attributed to a shop by what their
first argument names: a shop id (runs, event appliers), a message id (replays) or a webhook
inbox row (inbox.process).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from ledger import queues
from ledger.kv import get_redis
from ledger.masking import mask_text
from ledger.models import Message, Role, WebhookInbox
from shopify_app.api_common import ApiError, app_settings, db, not_found, write_audit
from shopify_app.roles import require_role

bp = Blueprint("api_jobs", __name__, url_prefix="/jobs")

LIMIT = 200


def _belongs_to_shop(session: Any, job: dict[str, Any], shop_id: int, shop_domain: str) -> bool:
    func, args = job.get("func") or "", job.get("args") or []
    if not args or not str(args[0]).isdigit():  # args come as reprs: '42'
        return False
    first = int(args[0])
    if func == queues.INBOX_JOB:
        row = session.get(WebhookInbox, first)
        return row is not None and row.shop_domain == shop_domain
    if func.endswith(".replay"):
        message = session.get(Message, first)
        return message is not None and message.shop_id == shop_id
    return func.startswith("jobs.") and first == shop_id


def _shop_failed_jobs(session: Any) -> list[dict[str, Any]]:
    conn = get_redis(app_settings().redis_url)
    rows = []
    for name in queues.QUEUE_NAMES:
        for job in queues.failed_jobs(name, limit=LIMIT, conn=conn):
            if _belongs_to_shop(session, job, g.shop.id, g.shop.domain):
                rows.append(job)
    return rows


def _last_line(text: str | None) -> str:
    """The exception line of a traceback: what a person reads first."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


@bp.get("/failed")
@require_role(Role.VIEWER)
def list_failed() -> ResponseReturnValue:
    reveal = g.role.at_least(Role.ADMIN)
    with db() as session:
        jobs = _shop_failed_jobs(session)
    return jsonify(
        {
            "jobs": [
                {
                    "id": job["id"],
                    "queue": job["queue"],
                    "func": job["func"],
                    "error": mask_text(_last_line(job.get("exc")), reveal),
                    "ended_at": job.get("ended_at"),
                    "enqueued_at": job.get("enqueued_at"),
                }
                for job in jobs
            ]
        }
    )


@bp.post("/failed/<job_id>/requeue")
@require_role(Role.OPERATOR)
def requeue(job_id: str) -> ResponseReturnValue:
    with db() as session:
        if not any(job["id"] == job_id for job in _shop_failed_jobs(session)):
            raise not_found("failed job")
        try:
            queues.requeue_failed(job_id, conn=get_redis(app_settings().redis_url))
        except NoSuchJobError as exc:
            raise not_found("failed job") from exc
        except InvalidJobOperation as exc:  # requeued by someone else a moment ago
            raise ApiError(
                409, "job_not_failed", f"job {job_id} is no longer failed (requeued already?)"
            ) from exc
        write_audit(session, "job.requeued", f"job:{job_id}", None, None)
    return jsonify({"job_id": job_id, "requeued": True}), 202
