"""The catalog dry run before the first publish: start it, then poll for its result.

Contract with jobs/catalog_diff.py (owned by the catalog flows): `POST /api/setup/catalog-diff`
enqueues `jobs.catalog_diff.run(shop_id)` on the catalog queue under the RQ job id it answers
(`catalog-diff-<shop_id>-<random>`). The job stores its result as JSON at the Redis key
`catalog_diff:<shop_id>:<job_id>` (it reads its own id with `rq.get_current_job().id`).
`GET /api/setup/catalog-diff/<job_id>` answers that JSON once it is there, else the RQ job's
state, its reasons said in the request's locale (shopify_app.dry_run_words). The job id embeds
the shop id, so a token for another shop gets a 404.

The last dry run: the start passes `requested_by` (the staff user id); the job keeps its result
as the shop's last at `catalog_diff:<shop_id>:last` ({job_id, ran_at, requested_by, result}, no
expiry) until the next run replaces it. `GET /api/setup/catalog-diff/last` answers it with who
asked by name where the roles table has one, and the id of a newer run still going (to poll).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from ledger import queues
from ledger.kv import get_redis
from ledger.masking import mask_text
from ledger.models import Role, StaffRole
from shopify_app.api_common import (
    ApiError,
    app_settings,
    db,
    exception_line,
    locale,
    not_found,
    write_audit,
)
from shopify_app.dry_run_words import in_locale
from shopify_app.roles import require_role

log = logging.getLogger(__name__)

bp = Blueprint("catalog_diff", __name__, url_prefix="/setup")
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")  # openapi.yaml's pattern of the id; RQ's characters

CATALOG_DIFF_JOB = "jobs.catalog_diff.run"
LATEST_TTL_SECONDS = 30 * 24 * 3600


def result_key(shop_id: int, job_id: str) -> str:
    """Where jobs.catalog_diff.run stores its JSON result."""
    return f"catalog_diff:{shop_id}:{job_id}"


def last_key(shop_id: int) -> str:
    """The shop's last finished dry run, kept by the job until the next one."""
    return f"catalog_diff:{shop_id}:last"


def latest_key(shop_id: int) -> str:
    """The id of the shop's most recent dry run (the setup status reads it)."""
    return f"catalog_diff:{shop_id}:latest"


def _redis() -> Redis:
    return get_redis(app_settings().redis_url)


def queue_unavailable(exc: RedisError) -> ApiError:
    log.warning("api: Redis unavailable: %s", exc)
    return ApiError(
        503, "queue_unavailable", "the job queue (Redis) cannot be reached; try again", system="queue"
    )


def latest_done(shop_id: int) -> bool:
    """Whether the shop's latest dry run has stored a result (False when Redis is unreachable)."""
    try:
        conn = _redis()
        job_id = conn.get(latest_key(shop_id))
        return bool(job_id) and bool(conn.exists(result_key(shop_id, job_id.decode())))
    except RedisError:
        return False


def _state(shop_id: int, job_id: str) -> dict[str, Any]:
    conn = _redis()
    stored = conn.get(result_key(shop_id, job_id))
    if stored is not None:
        try:
            result = json.loads(stored)
        except ValueError:
            return {
                "job_id": job_id,
                "status": "failed",
                "result": None,
                "error": "the stored result is not JSON",
            }
        if not isinstance(result, dict):
            result = {"value": result}
        result = in_locale(result, locale())  # its reasons in the page's language
        return {"job_id": job_id, "status": "done", "result": result, "error": None}
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise not_found("catalog dry run") from None
    status = job.get_status(refresh=False)
    if status == JobStatus.FAILED:
        latest = job.latest_result()
        # masked as the failed jobs page masks RQ's line (shopify_app.api_jobs): an ERP's refusal
        # may carry a CPF/CNPJ or an e-mail, shown whole to an admin only
        line = exception_line((latest.exc_string if latest else None) or "the dry run failed")
        return {
            "job_id": job_id,
            "status": "failed",
            "result": None,
            "error": mask_text(line, g.role.at_least(Role.ADMIN)),
        }
    if status == JobStatus.FINISHED:
        return {"job_id": job_id, "status": "failed", "result": None, "error": "the dry run stored no result"}
    running = status == JobStatus.STARTED
    return {"job_id": job_id, "status": "running" if running else "pending", "result": None, "error": None}


@bp.post("/catalog-diff")
@require_role(Role.ADMIN)
def start() -> ResponseReturnValue:
    """A dry run of the whole catalog (jobs.catalog_diff); one already waiting or running for the
    shop is answered instead of a second (a double click read both ERP streams twice)."""
    shop_id = g.shop.id
    job_id = f"catalog-diff-{shop_id}-{secrets.token_hex(6)}"
    try:
        conn = _redis()
        if (running := _still_running(conn, shop_id)) is not None:
            return jsonify({"job_id": running, "status": "pending", "result": None, "error": None}), 202
        if not conn.set(f"catalog_diff:{shop_id}:starting", job_id, nx=True, ex=10):
            raise ApiError(409, "catalog_diff_starting", "a catalog dry run is being started; try again")
        queues.enqueue(
            CATALOG_DIFF_JOB,
            shop_id,
            queue=queues.CATALOG,
            job_id=job_id,
            retry=False,
            description=f"catalog dry run for {g.shop.domain}",
            conn=_redis(),
            kwargs={"requested_by": str(g.user_id)},
        )
        conn.set(latest_key(shop_id), job_id, ex=LATEST_TTL_SECONDS)
        conn.delete(f"catalog_diff:{shop_id}:starting")
    except RedisError as exc:
        raise queue_unavailable(exc) from exc
    with db() as session:
        write_audit(session, "catalog_diff.started", "catalog_diff", None, {"job_id": job_id})
    return jsonify({"job_id": job_id, "status": "pending", "result": None, "error": None}), 202


def _still_running(conn: Redis, shop_id: int) -> str | None:
    """The id of the shop's latest dry run while it waits or runs (no result stored yet), else None."""
    latest = conn.get(latest_key(shop_id))
    if not latest or conn.exists(result_key(shop_id, latest.decode())):
        return None
    try:
        job = Job.fetch(latest.decode(), connection=conn)
    except NoSuchJobError:
        return None
    waiting = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
    return latest.decode() if job.get_status(refresh=False) in waiting else None


def _last(conn: Redis, shop_id: int) -> dict[str, Any] | None:
    stored = conn.get(last_key(shop_id))
    if stored is None:
        return None
    try:
        last = json.loads(stored)
    except ValueError:
        log.warning("catalog dry run: the last result of shop %s is not JSON", shop_id)
        return None
    if not isinstance(last, dict) or not isinstance(last.get("result"), dict):
        return None
    user_id = last.get("requested_by")
    name = None
    if user_id:
        with db() as session:
            name = session.scalar(
                select(StaffRole.name).where(StaffRole.shop_id == shop_id, StaffRole.user_id == str(user_id))
            )
    return {
        "job_id": last.get("job_id"),
        "ran_at": last.get("ran_at"),
        "ran_by": {"user_id": str(user_id), "name": name or None} if user_id else None,
        "result": in_locale(last["result"], locale()),  # its reasons in the page's language
    }


def _running(conn: Redis, shop_id: int, last_job_id: str | None) -> str | None:
    """The id of the shop's newest run when it has not finished yet (pending or running)."""
    latest = conn.get(latest_key(shop_id))
    if not latest or latest.decode() == last_job_id:
        return None
    job_id = latest.decode()
    try:
        state = _state(shop_id, job_id)
    except ApiError:  # the job is gone (expired, deleted)
        return None
    return job_id if state["status"] in ("pending", "running") else None


@bp.get("/catalog-diff/last")
@require_role(Role.VIEWER)
def last() -> ResponseReturnValue:
    """The shop's last dry run (None before the first), and a newer run still going, if any."""
    try:
        conn = _redis()
        kept = _last(conn, g.shop.id)
        running = _running(conn, g.shop.id, kept["job_id"] if kept else None)
    except RedisError as exc:
        raise queue_unavailable(exc) from exc
    return jsonify({"last": kept, "running": running})


@bp.get("/catalog-diff/<job_id>")
@require_role(Role.VIEWER)
def status(job_id: str) -> ResponseReturnValue:
    if not job_id.startswith(f"catalog-diff-{g.shop.id}-") or not JOB_ID.fullmatch(job_id):
        raise not_found("catalog dry run")  # (RQ refuses other characters in an id: ValueError)
    try:
        return jsonify(_state(g.shop.id, job_id))
    except RedisError as exc:
        raise queue_unavailable(exc) from exc
