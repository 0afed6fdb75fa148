"""The Flows dashboard: one row per flow, schedules, run now, charts, and the live-update poll.

Live updates are short polling, not SSE: EventSource cannot send the Authorization header the
ID token travels in. `GET /api/flows/changes` costs two MAX() queries and one Redis round trip,
so the page can ask every few seconds and re-read the dashboard only when something moved.

"Running" reads the flow lock jobs.locks.flow_lock holds (`lock:flow:<shop_id>:<name>`, by the
flow's name or its schedule's) without importing jobs. "Waiting" is a catalog flow (products,
skus) not running while the shop's catalog lock, which both share, is held (by the other one, or
a replay): a pass of it, run now or due, waits for the catalog (jobs.catalog_flow retries it).

A row's counts add `stuck` to the statuses': units left pending whose job was lost (a worker
killed), which only a Retry redoes; the page counts them among the open failures. Each count links
to the Messages list of exactly what it counts: `stuck` by ledger.stuck, the one test the list's
`stuck` filter uses too; done over the last FINISHED_HOURS, from `finished_since`, which the link
passes as the list's `updated_since`.

Nothing runs by itself without the scheduler's tick (jobs.scheduler), not even the alert e-mail
that would tell of it, and a next run computed from the cron is always a few minutes ahead: the
answer says when the scheduler last ticked and whether it stopped (`scheduler`), and which
schedules missed their run (`overdue`, by the tick's own test: no run enqueued for a due time).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter
from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import alert_state, drift, queues, stuck, trace, variant_quota
from ledger import flows as catalog
from ledger.kv import get_redis
from ledger.masking import mask_text
from ledger.models import Message, MessageStatus, Role, Schedule, Shop, Watermark, as_utc, utcnow
from ledger.scheduler_beat import (  # noqa: F401 (HEARTBEAT_KEY, SCHEDULER_STOPPED_AFTER: the answer's)
    HEARTBEAT_KEY,
    SCHEDULER_STOPPED_AFTER,
    is_stopped,
    last_tick,
)
from ledger.schedules import OVERDUE_AFTER, is_overdue  # noqa: F401 (OVERDUE_AFTER: the tests')
from shopify_app.api_common import (
    ApiError,
    app_settings,
    db,
    invalid,
    iso,
    json_body,
    locale,
    not_found,
    query_int,
    reject_unknown,
    write_audit,
)
from shopify_app.enqueue import enqueue_run
from shopify_app.fail_words import FAILURES
from shopify_app.failed_mark import failed_mark
from shopify_app.roles import require_role
from shopify_app.run_words import last_error

log = logging.getLogger(__name__)

bp = Blueprint("flows", __name__, url_prefix="/flows")

STATUSES = tuple(s.value for s in MessageStatus)
TROUBLE = (MessageStatus.FAILED.value, MessageStatus.PARKED.value, MessageStatus.RETRYING.value)
CATALOG_LOCK = "catalog"  # jobs.catalog_flow.CATALOG_LOCK: held by either catalog flow and by replays
CATALOG_FLOWS = ("products", "skus")
# Done and skipped are counted over these last hours (open work whatever its age): the done count's
# link passes the list its start (`finished_since`), so the list holds what the count counts.
FINISHED_HOURS = 24
RECONCILE = "reconcile"  # its last report's drift is shown with its last run (ledger.drift)


def lock_key(shop_id: int, name: str) -> str:
    """The key jobs.locks.flow_lock holds while a flow runs for a shop."""
    return f"lock:flow:{shop_id}:{name}"


def _lock_names(flow: catalog.Flow) -> list[str]:
    return [flow.name] + ([flow.schedule] if flow.schedule and flow.schedule != flow.name else [])


def lock_state(shop_id: int) -> tuple[list[str], bool]:
    """(names of the flows whose lock is held now, whether the shop's catalog lock is held);
    nothing held, and logged, when Redis is unreachable."""
    try:
        conn = get_redis(app_settings().redis_url)
        pipe = conn.pipeline(transaction=False)
        for flow in catalog.FLOWS:
            pipe.exists(*(lock_key(shop_id, name) for name in _lock_names(flow)))
        pipe.exists(lock_key(shop_id, CATALOG_LOCK))
        *held, catalog_held = pipe.execute()
    except RedisError as exc:
        log.warning("api: flow locks unreadable: %s", exc)
        return [], False
    return [flow.name for flow, n in zip(catalog.FLOWS, held, strict=True) if n], bool(catalog_held)


def running_flows(shop_id: int) -> list[str]:
    """Names of the flows whose lock is held now (empty, and logged, when Redis is unreachable)."""
    return lock_state(shop_id)[0]


def scheduler_state(session: Session, shop_id: int, now: datetime) -> dict[str, Any] | None:
    """{"last_tick_at", "stopped"}: the scheduler's last tick known, and whether it stopped.

    The heartbeat, or the newest time a tick enqueued one of the shop's schedules if later: Redis
    restarted without its data, or a scheduler stopped before it wrote heartbeats, has none, yet
    its runs say it ticked. None when neither says a tick ever ran (a fresh install before the first
    tick: nothing to alarm about) or Redis cannot say (logged)."""
    try:
        beat = last_tick(get_redis(app_settings().redis_url))
    except RedisError as exc:
        log.warning("api: scheduler heartbeat unreadable: %s", exc)
        return None
    enqueued = session.scalar(select(func.max(Schedule.last_run_at)).where(Schedule.shop_id == shop_id))
    known = [as_utc(at) for at in (beat, enqueued) if at is not None]
    if not known:
        return None
    last = max(known)
    return {"last_tick_at": iso(last), "stopped": is_stopped(last, now)}


def next_run(cron: str, enabled: bool, now: datetime) -> datetime | None:
    if not enabled:
        return None
    try:
        return croniter(cron, now).get_next(datetime)
    except (ValueError, KeyError):
        return None


def _schedule_json(
    flow: catalog.Flow,
    row: Schedule | None,
    now: datetime,
    reveal: bool = False,
    findings: dict[str, int] | None = None,
    lang: str = "pt-BR",
    busy: bool = False,
    usable_since: datetime | None = None,
) -> dict[str, Any] | None:
    """The schedule part of a flow's row: its last run's outcome (ledger.run_outcome) included,
    the error line in `lang` (shopify_app.run_words) masked as the failed-jobs list masks it (PII
    shown to admins only), what the flow's last report found (`findings`: the
    reconciliation's drift, ledger.drift), which a
    run that ended "ok" does not say, and whether it missed its run (is_overdue; never while the
    flow is `busy`: running, or waiting for the catalog)."""
    if flow.schedule is None:
        return None
    if row is None:
        return {
            "name": flow.schedule,
            "cron": None,
            "enabled": False,
            "last_run_at": None,
            "last_status": None,
            "last_ended_at": None,
            "last_error": None,
            "last_findings": None,
            "next_run_at": None,
            "overdue": False,
        }
    return {
        "name": row.flow,
        "cron": row.cron,
        "enabled": row.enabled,
        "last_run_at": iso(row.last_run_at),
        "last_status": row.last_status,
        "last_ended_at": iso(row.last_ended_at),
        "last_error": mask_text(last_error(row, lang, FAILURES), reveal),
        "last_findings": findings or None,
        "next_run_at": iso(next_run(row.cron, row.enabled, now)),
        "overdue": not busy and is_overdue(row, now, usable_since=usable_since),
    }


def _last_findings(session: Session, shop_id: int) -> dict[str, int]:
    """The drift the newest reconciliation report found, when it ended done (ledger.drift)."""
    newest = session.scalars(
        select(Message)
        .where(Message.shop_id == shop_id, Message.flow == RECONCILE)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if newest is None or newest.status != MessageStatus.DONE.value:
        return {}
    return drift.findings(newest.response_payload)


def _schedules(session: Session, shop_id: int) -> dict[str, Schedule]:
    return {s.flow: s for s in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id))}


def change_cursor(session: Session, shop_id: int) -> str:
    """An opaque, URL-safe mark of the latest message and schedule change (equal: nothing moved).

    A new message is seen by its id (ids only grow, and messages are deleted only with their shop,
    ledger.privacy.redact_shop), a change by its time; each read through an index, as this is
    polled every 3 s (a count of the shop's messages read a million rows at a chain's size)."""
    latest_message = session.scalar(select(func.max(Message.updated_at)).where(Message.shop_id == shop_id))
    latest_schedule = session.scalar(select(func.max(Schedule.updated_at)).where(Schedule.shop_id == shop_id))
    newest = session.scalar(select(func.max(Message.id)).where(Message.shop_id == shop_id))
    return f"{_micros(latest_message)}-{_micros(latest_schedule)}-{newest or 0}"


def _micros(value: datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000)


def stuck_counts(session: Session, shop_id: int, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """{flow: units left pending whose job was lost} (ledger.stuck: the Messages list's `stuck`
    filter, which the count links to, reads them by the same test): counted among the open
    failures, as nothing redoes them but a Retry; and {flow: how many of those are retrying} (a
    Retry whose job was lost: its retrying count holds it too, and the page counts it once)."""
    lost = stuck.read(session, shop_id, get_redis(app_settings().redis_url), now)
    return lost.counts(), lost.retrying_counts()


@bp.get("")
@require_role(Role.VIEWER)
def list_flows() -> ResponseReturnValue:
    shop_id, now = g.shop.id, utcnow()
    lang, reveal = locale(), g.role.at_least(Role.ADMIN)
    held, catalog_held = lock_state(shop_id)
    running = set(held)
    finished_since = now - timedelta(hours=FINISHED_HOURS)
    with db() as session:
        # The cursor first: under READ COMMITTED each statement sees what committed before it, so
        # a cursor read after the rows could already hold a change the rows missed (a run's outcome
        # written meanwhile), and the page's poll would never see that change again.
        cursor = change_cursor(session, shop_id)
        schedules = _schedules(session, shop_id)
        counts = trace.dashboard_counts(session, shop_id, finished_since)
        lost, lost_retrying = stuck_counts(session, shop_id, now)
        found = {RECONCILE: _last_findings(session, shop_id)}
        quota = _variant_quota(session, shop_id, now)
        alert = alert_state.last_attempt(session, shop_id)
        ticked = scheduler_state(session, shop_id, now)
        usable_since = _usable_since(session, shop_id)
        watermarks: dict[str, list[Watermark]] = {}
        for mark in session.scalars(
            select(Watermark).where(Watermark.shop_id == shop_id).order_by(Watermark.scope)
        ):
            watermarks.setdefault(mark.flow, []).append(mark)
        rows = []
        for flow in catalog.FLOWS:
            schedule = schedules.get(flow.schedule) if flow.schedule else None
            marks = watermarks.get(flow.name, []) + (
                watermarks.get(flow.schedule, []) if flow.schedule and flow.schedule != flow.name else []
            )
            flow_counts = counts.get(flow.name, {})
            waiting = catalog_held and flow.name in CATALOG_FLOWS and flow.name not in running
            busy = flow.name in running or waiting
            rows.append(
                {
                    "name": flow.name,
                    "label": flow.label_in(lang),
                    "direction": flow.direction,
                    "queue": flow.queue,
                    "webhook_only": flow.schedule is None,
                    "schedule": _schedule_json(
                        flow, schedule, now, reveal, found.get(flow.name), lang, busy, usable_since
                    ),
                    "running": flow.name in running,
                    "waiting": waiting,
                    "progress": schedule.progress if schedule is not None else None,
                    "watermarks": [
                        {
                            "scope": m.scope,
                            "last_changed_at": iso(m.last_changed_at),
                            "page": m.page,
                            "updated_at": iso(m.updated_at),
                        }
                        for m in marks
                    ],
                    "counts_24h": {
                        **{status: int(flow_counts.get(status, 0)) for status in STATUSES},
                        "stuck": lost.get(flow.name, 0),
                        "stuck_retrying": lost_retrying.get(flow.name, 0),
                    },
                }
            )
    return jsonify(
        {
            "flows": rows,
            "cursor": cursor,
            "generated_at": iso(now),
            "finished_since": iso(finished_since),
            "variant_quota": quota,
            # the team's alert e-mail failing is said where the team looks, not only on Setup
            "alert_failed": alert if alert is not None and not alert["ok"] else None,
            # no tick, no run and no alert e-mail: said where the team looks (None before the first)
            "scheduler": ticked,
        }
    )


def _variant_quota(session: Session, shop_id: int, now: datetime) -> dict[str, Any] | None:
    """Shopify's daily limit on new variants holding the shop's new products (ledger.variant_quota):
    when it was first and last met, when new variants are tried again (`held`: still in force), and
    how many products wait; None when nothing is held."""
    data = variant_quota.record(session, shop_id)
    if data is None:
        return None
    until = datetime.fromisoformat(data["until"])
    return {
        "since": iso(datetime.fromisoformat(data["since"])),
        "at": iso(datetime.fromisoformat(data["at"])),
        "until": iso(until),
        "held": until > now,
        "waiting": variant_quota.waiting_count(session, shop_id),
    }


@bp.get("/changes")
@require_role(Role.VIEWER)
def changes() -> ResponseReturnValue:
    since = request.args.get("since") or ""
    seen = {name for name in (request.args.get("running") or "").split(",") if name}
    failed_seen = request.args.get("failed") or ""  # GET /api/jobs/failed's failed_mark, as shown
    if len(since) > 100 or len(request.args.get("running") or "") > 500 or len(failed_seen) > 20:
        raise invalid({"since": "too long"})
    running = running_flows(g.shop.id)
    failed = failed_mark(g.shop.id, _failed_total())
    with db() as session:
        cursor = change_cursor(session, g.shop.id)
    # A run's failure is written on its row (the cursor) before RQ moves its job to the failed
    # registry: the page's list of failed jobs is stale while the registries' size differs.
    failed_moved = bool(failed_seen) and failed is not None and failed_seen != failed
    changed = cursor != since or set(running) != seen or failed_moved
    return jsonify({"changed": changed, "cursor": cursor, "running": running, "failed_mark": failed})


def _failed_total() -> int | None:
    """RQ's failed registries' size (queues.failed_total); None when Redis cannot say."""
    try:
        return queues.failed_total(get_redis(app_settings().redis_url))
    except RedisError:
        return None


@bp.get("/metrics")
@require_role(Role.VIEWER)
def metrics() -> ResponseReturnValue:
    hours = query_int("hours", 24, 1, 168) or 24
    now = utcnow()
    first_hour = (now - timedelta(hours=hours - 1)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    with db() as session:
        rows = trace.per_hour(session, g.shop.id, first_hour)
    buckets = {
        first_hour + timedelta(hours=i): {"total": 0, "failed": 0, "by_flow": {}} for i in range(hours)
    }
    per_flow: dict[str, dict[str, int]] = {}
    for hour, flow, status, n in rows:
        bucket = buckets.setdefault(hour, {"total": 0, "failed": 0, "by_flow": {}})
        bucket["total"] += n
        bucket["by_flow"][flow] = bucket["by_flow"].get(flow, 0) + n
        totals = per_flow.setdefault(flow, {"total": 0, "failed": 0})
        totals["total"] += n
        if status in TROUBLE:
            bucket["failed"] += n
            totals["failed"] += n
    return jsonify(
        {
            "hours": hours,
            "since": iso(first_hour),
            "per_hour": [{"hour": iso(hour), **bucket} for hour, bucket in sorted(buckets.items())],
            "per_flow": [{"flow": name, **totals} for name, totals in sorted(per_flow.items())],
        }
    )


def _flow(name: str) -> catalog.Flow:
    try:
        return catalog.get(name)
    except KeyError:
        raise not_found("flow") from None


def _webhook_only(flow: catalog.Flow) -> ApiError:
    return ApiError(
        409,
        "webhook_only",
        f"the {flow.name} flow runs on Shopify's webhooks, as each order arrives: it has no schedule "
        "and cannot be run on demand (retry its messages instead)",
    )


_DRAWN = re.compile(r"[RH](\(.*\))?(/\d+)?", re.IGNORECASE)


def _drawn(cron: str) -> bool:
    """Whether a field (or an item of its list) is croniter's random R or hashed H: drawn anew each
    time the expression is read (jobs.scheduler reads it on every tick), so its due times move."""
    return any(_DRAWN.fullmatch(item) for field in cron.split() for item in field.split(","))


def _fires(cron: str) -> bool:
    """Whether the expression has a next run at all (croniter accepts "0 0 30 2 *")."""
    try:
        croniter(cron, utcnow()).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def _cron_problem(cron: object) -> str | None:
    """Why a schedule's cron expression cannot be saved (None: it can)."""
    if not isinstance(cron, str) or not cron.strip() or len(cron) > 100:
        return "is required (5 fields, UTC), e.g. */15 * * * *"
    if len(cron.split()) != 5 or not croniter.is_valid(cron.strip()):
        return f"{cron!r} is not a valid 5-field cron expression (minute hour day month weekday)"
    if _drawn(cron):
        return (f"{cron!r} draws its times at random (R) or by a hash (H): the scheduler would run "
                "it at other times on every tick; give the minute and hour")  # fmt: skip
    if not _fires(cron.strip()):
        return f"{cron!r} never fires (a day no month has, e.g. 30 February)"
    return None


@bp.put("/<flow>/schedule")
@require_role(Role.ADMIN)
def put_schedule(flow: str) -> ResponseReturnValue:
    spec = _flow(flow)
    body = json_body()
    reject_unknown(body, {"cron", "enabled"})
    errors: dict[str, str] = {}
    cron, enabled = body.get("cron"), body.get("enabled")  # absent: kept (a new schedule: on)
    # Switching on or off alone ({"enabled": ...}) keeps the saved expression: a page loaded before
    # another admin changed it must not put the old one back with the switch.
    switch_only = "cron" not in body and isinstance(enabled, bool)
    problem = None if switch_only else _cron_problem(cron)
    if problem:
        errors["cron"] = problem
    if enabled is not None and not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"
    if errors:
        raise invalid(errors)
    if spec.schedule is None:
        raise _webhook_only(spec)
    with db() as session:
        # locked: a tick starting this schedule now commits its job id first, which a switch-off cancels
        mine = (Schedule.shop_id == g.shop.id, Schedule.flow == spec.schedule)
        row = session.scalars(select(Schedule).where(*mine).with_for_update()).one_or_none()
        if switch_only:
            if row is None:
                raise invalid({"cron": "is required (5 fields, UTC), e.g. */15 * * * *"})
            cron = row.cron
        assert isinstance(cron, str)
        cron = " ".join(cron.split())
        before = None if row is None else {"cron": row.cron, "enabled": row.enabled}
        if row is None:
            row = Schedule(shop_id=g.shop.id, flow=spec.schedule, cron=cron, enabled=enabled is not False)
            session.add(row)
        elif row.cron != cron or (enabled is True and not row.enabled):
            # a new start (another cron, or switched back on): the tick runs no due time from before
            # it (one missed while it was off would run at once, not at the time the page shows)
            row.cron_changed_at = utcnow()
        row.cron = cron
        stopped = enabled is False and row.enabled and row.last_job_id
        if enabled is not None:
            row.enabled = enabled
        cancelled = _cancel_waiting_run(row) if stopped else None
        session.flush()
        write_audit(
            session,
            "schedule.changed",
            f"schedule:{spec.schedule}",
            before,
            {"cron": cron, "enabled": row.enabled, **({"cancelled_run": cancelled} if cancelled else {})},
        )
        return jsonify(_schedule_json(spec, row, utcnow(), g.role.at_least(Role.ADMIN), lang=locale(),
                                      usable_since=_usable_since(session, g.shop.id)))  # fmt: skip


def _usable_since(session: Session, shop_id: int) -> datetime | None:
    """When the shop was last made usable (Shop.installed_at: an install, a reinstall, a re-auth)."""
    return session.scalar(select(Shop.installed_at).where(Shop.id == shop_id))


def _cancel_waiting_run(row: Schedule) -> str | None:
    """A schedule switched off: its run the tick enqueued that has not started yet (queued behind a
    busy worker, or waiting for a retry) is cancelled, or it would still run, retries and all, after
    the merchant stopped the flow; its id, None when there was none waiting. A run that started
    goes to its end. Redis unreachable: said in the log, the switch saved all the same."""
    try:
        cancelled = queues.cancel_waiting(str(row.last_job_id), get_redis(app_settings().redis_url))
    except RedisError as exc:
        log.warning("schedule %s of shop %s switched off; its waiting run not cancelled (%s)", row.flow,
                    row.shop_id, type(exc).__name__)  # fmt: skip
        return None
    if not cancelled:
        return None
    row.last_status = None  # no run of it is waiting now
    return str(row.last_job_id)


@bp.post("/<flow>/run")
@require_role(Role.OPERATOR)
def run_now(flow: str) -> ResponseReturnValue:
    spec = _flow(flow)
    if spec.schedule is None:
        raise _webhook_only(spec)
    job_id, enqueued = enqueue_run(g.shop.id, spec.name, get_redis(app_settings().redis_url))
    with db() as session:
        write_audit(
            session, "flow.run_now", f"flow:{spec.name}", None, {"job_id": job_id, "enqueued": enqueued}
        )
    return jsonify({"job_id": job_id, "enqueued": enqueued, "flow": spec.name, "queue": spec.queue}), 202
