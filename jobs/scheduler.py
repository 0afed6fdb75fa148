"""The per-shop schedules: one `tick()` a minute (registered with `rq cron` in jobs.cron_config).

Each Schedule row (shop, flow, cron expression, enabled) says when a flow runs for a shop.
The tick finds every enabled schedule of an active shop whose latest cron time has not been
run yet and enqueues `jobs.<flow>.run(shop_id)` with a job id per (shop, flow, due minute):
two schedulers ticking the same minute, or a tick run twice, enqueue each run once. It also
sweeps webhook inbox rows the receiver could not hand to Redis. Cron expressions are read in
UTC with croniter (the library RQ's own cron scheduler uses).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from croniter import croniter
from redis.exceptions import RedisError
from sqlalchemy import select

from jobs import inbox
from ledger import queues
from ledger.db import session_scope
from ledger.models import Schedule, Shop, ShopStatus, utcnow

log = logging.getLogger(__name__)

FLOW_QUEUES: dict[str, str] = {
    "order_events": queues.ORDERS,
    "orders": queues.ORDERS,
    "reconcile": queues.DEFAULT,
}


def flow_queue(flow: str) -> str:
    return FLOW_QUEUES.get(flow, queues.CATALOG)


def flow_job_id(shop_id: int, flow: str, due_at: datetime) -> str:
    return queues.job_key("flow", shop_id, flow, due_at.astimezone(UTC).strftime("%Y%m%d%H%M"))


def latest_due(expression: str, now: datetime) -> datetime:
    """The latest time at or before `now` (to the minute) that the cron expression names."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return croniter(expression, minute + timedelta(seconds=1)).get_prev(datetime)


def is_valid_cron(expression: str) -> bool:
    return croniter.is_valid(expression)


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every due flow once; returns the job ids enqueued by this tick."""
    now = now or utcnow()
    try:
        inbox.sweep()
    except RedisError:
        log.warning("scheduler: inbox sweep skipped, Redis unreachable")
    enqueued: list[str] = []
    with session_scope() as session:
        rows = session.execute(
            select(Schedule, Shop.domain)
            .join(Shop, Shop.id == Schedule.shop_id)
            .where(Schedule.enabled.is_(True), Shop.status == ShopStatus.ACTIVE.value)
            .order_by(Schedule.shop_id, Schedule.flow)
        ).all()
        for schedule, domain in rows:
            try:
                due_at = latest_due(schedule.cron, now)
            except (ValueError, KeyError) as exc:
                log.error("scheduler: bad cron %r for %s/%s: %s", schedule.cron, domain, schedule.flow, exc)
                schedule.last_status = "bad_cron"
                continue
            last = schedule.last_run_at
            if last is not None and (last if last.tzinfo else last.replace(tzinfo=UTC)) >= due_at:
                continue
            job_id = flow_job_id(schedule.shop_id, schedule.flow, due_at)
            job = queues.enqueue(
                f"jobs.{schedule.flow}.run",
                schedule.shop_id,
                queue=flow_queue(schedule.flow),
                job_id=job_id,
                description=f"{schedule.flow} for {domain} due {due_at:%Y-%m-%d %H:%M}Z",
            )
            schedule.last_run_at = now
            schedule.last_status = "enqueued"
            if job is not None:
                enqueued.append(job_id)
                log.info(
                    "scheduler: enqueued %s for %s",
                    schedule.flow,
                    domain,
                    extra={"shop": domain, "flow": schedule.flow, "job_id": job_id},
                )
    return enqueued
