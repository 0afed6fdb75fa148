"""The scheduler stopped is said: each tick records its time, the Flows API marks the schedules whose
due run was not started (`overdue`) and says when the scheduler stopped (`scheduler`), and
/healthz/scheduler answers 503 once a scheduler that ticked stopped (/healthz, a load balancer's
probe, stays 200: webhooks are still taken); a fresh install, before its first tick, is no alarm."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from api.conftest import app, client, closed_port, headers, settings, shops  # noqa: F401
from sqlalchemy import select

from app import create_app
from jobs import scheduler
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import Role, Schedule, Shop, utcnow
from ledger.schedules import RUN_OK
from shopify_app import api_flows
from shopify_app.api_flows import OVERDUE_AFTER, SCHEDULER_STOPPED_AFTER, is_overdue, is_stopped

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=30)


def _row(cron: str, last_run_at: datetime | None, **fields) -> Schedule:
    """A schedule row as the API reads it (not stored: the rule reads only its fields)."""
    return Schedule(flow="stock", cron=cron, enabled=fields.pop("enabled", True), last_run_at=last_run_at,
                    updated_at=fields.pop("updated_at", LONG_AGO), **fields)  # fmt: skip


# -- the overdue rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 1, 30, 59, 60, 61, 119, 150, 179])
def test_a_healthy_every_minute_schedule_is_never_overdue(seconds: int) -> None:
    """Each minute's tick enqueues it within its minute. At any time, the tick of the minute before
    ran at the latest at its 59th second (the current minute's may not have run yet)."""
    now = T0 + timedelta(seconds=seconds)
    minute = now.replace(second=0, microsecond=0)
    for last in (minute - timedelta(seconds=1), minute, now):
        assert not is_overdue(_row("* * * * *", last), now), (now, last)


def test_a_due_run_not_enqueued_is_overdue_once_the_margin_passed() -> None:
    """*/3: due at 12:00, the last run enqueued at 11:57 (the 12:00 tick never came)."""
    stock = _row("*/3 * * * *", T0 - timedelta(minutes=3) + timedelta(seconds=2))
    assert not is_overdue(stock, T0 + OVERDUE_AFTER - timedelta(seconds=1))
    assert is_overdue(stock, T0 + OVERDUE_AFTER)
    assert is_overdue(stock, T0 + timedelta(hours=3))


def test_a_daily_schedule_is_overdue_minutes_after_its_time_not_a_day() -> None:
    sweep = _row("0 5 * * *", datetime(2026, 11, 27, 5, 0, 1, tzinfo=UTC))
    assert not is_overdue(sweep, datetime(2026, 11, 28, 4, 59, tzinfo=UTC))  # ran yesterday: fine
    assert not is_overdue(sweep, datetime(2026, 11, 28, 5, 2, tzinfo=UTC))
    assert is_overdue(sweep, datetime(2026, 11, 28, 5, 3, tzinfo=UTC))
    sweep.last_run_at = datetime(2026, 11, 28, 5, 0, 4, tzinfo=UTC)  # the 05:00 tick enqueued it
    assert not is_overdue(sweep, datetime(2026, 11, 28, 23, 0, tzinfo=UTC))


def test_switched_off_unreadable_or_edited_schedules_are_not_overdue() -> None:
    now = T0 + timedelta(hours=3)
    assert not is_overdue(_row("*/3 * * * *", T0, enabled=False), now)
    assert not is_overdue(_row("not a cron", T0), now)
    assert not is_overdue(_row("0 0 30 2 *", T0), now)  # never fires
    # a person moved the daily run after its time today: it runs tomorrow (jobs.scheduler)
    edited = _row("0 11 * * *", T0 - timedelta(days=2), cron_changed_at=now - timedelta(minutes=1))
    assert not is_overdue(edited, now)
    assert is_overdue(edited, now + timedelta(days=1))


def test_a_fresh_installs_schedule_is_overdue_only_after_its_first_due_time_passed() -> None:
    """Never enqueued (last_run_at None): its due times count from when the row was written."""
    fresh = _row("*/3 * * * *", None, updated_at=T0 + timedelta(seconds=10))
    assert not is_overdue(fresh, T0 + timedelta(minutes=5))  # first due 12:03, late from 12:06
    assert is_overdue(fresh, T0 + timedelta(minutes=6))


def test_a_shop_made_usable_again_is_overdue_only_after_its_next_due_time_passed() -> None:
    """Reinstalled, or re-authorized after days parked: the tick started nothing meanwhile, and its
    schedules' last runs of days before read as runs that stopped coming (the Flows page and the
    alert e-mail) until the next tick, a "worker down" alarm the moment the install was fixed."""
    row = _row("*/3 * * * *", T0 - timedelta(days=3))
    back = T0 + timedelta(seconds=10)  # Shop.installed_at: mark_installed, at a reinstall or a re-auth
    assert is_overdue(row, T0 + timedelta(minutes=1))
    assert not is_overdue(row, T0 + timedelta(minutes=5), usable_since=back)  # first due 12:03
    assert is_overdue(row, T0 + timedelta(minutes=6), usable_since=back)
    flow = next(f for f in api_flows.catalog.FLOWS if f.schedule == "stock")
    assert (
        api_flows._schedule_json(flow, row, T0 + timedelta(minutes=1), usable_since=back)["overdue"] is False
    )


def test_a_running_or_waiting_flow_is_not_overdue() -> None:
    row = _row("*/3 * * * *", T0)
    flow = next(f for f in api_flows.catalog.FLOWS if f.schedule == "stock")
    late = T0 + timedelta(hours=1)
    assert api_flows._schedule_json(flow, row, late)["overdue"] is True
    assert api_flows._schedule_json(flow, row, late, busy=True)["overdue"] is False


# -- the heartbeat ------------------------------------------------------------------------------


def test_each_tick_records_its_wall_time_whatever_now_it_is_handed(jobs_env) -> None:
    conn = get_redis()
    assert api_flows.last_tick(conn) is None
    before = utcnow()
    scheduler.tick(now=T0 - timedelta(days=3))
    last = api_flows.last_tick(conn)
    assert last is not None and before <= last <= utcnow()
    assert conn.ttl(scheduler.HEARTBEAT_KEY) == -1  # never expires: days stopped is not "never ran"
    assert scheduler.HEARTBEAT_KEY == api_flows.HEARTBEAT_KEY  # the web side reads what jobs write


def test_the_scheduler_stopped_only_once_it_ticked_and_then_not_for_minutes() -> None:
    assert not is_stopped(None, T0)  # before the first tick
    assert not is_stopped(T0 - SCHEDULER_STOPPED_AFTER, T0)
    assert is_stopped(T0 - SCHEDULER_STOPPED_AFTER - timedelta(seconds=1), T0)


# -- the Flows API and /healthz -----------------------------------------------------------------


def _flows(client) -> dict:  # noqa: F811
    answer = client.get("/api/flows?locale=en", headers=headers(Role.VIEWER))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _stock_last_run(shop_id: int, at: datetime) -> None:
    with session_scope() as session:
        row = session.scalars(
            select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == "stock")
        ).one()
        row.last_run_at = row.last_ended_at = at
        row.last_status = RUN_OK
        shop = session.get(Shop, shop_id)
        shop.installed_at = min(shop.installed_at or at, at)  # installed before that run


def _health(settings) -> tuple[int, dict]:  # noqa: F811
    """/healthz/scheduler, for an outside monitor; /healthz, a load balancer's probe, stays 200."""
    web = create_app(settings, blueprints=(), cli_modules=()).test_client()
    assert web.get("/healthz").get_json() == {"ok": True}
    answer = web.get("/healthz/scheduler")
    return answer.status_code, answer.get_json()


def test_a_fresh_install_before_its_first_tick_is_no_alarm(client, settings, shops) -> None:  # noqa: F811
    body = _flows(client)
    assert body["scheduler"] is None
    assert not [f["name"] for f in body["flows"] if f["schedule"] and f["schedule"]["overdue"]]
    assert _health(settings) == (200, {"ok": True})


def test_a_ticking_scheduler_is_said_running(client, settings, shops) -> None:  # noqa: F811
    scheduler.beat()
    _stock_last_run(shops.a, utcnow() - timedelta(minutes=1))
    body = _flows(client)
    assert body["scheduler"]["stopped"] is False and body["scheduler"]["last_tick_at"] is not None
    [stock] = [f for f in body["flows"] if f["name"] == "stock"]
    assert stock["schedule"]["overdue"] is False
    assert _health(settings) == (200, {"ok": True})


def test_a_stopped_scheduler_is_said_on_the_flows_page_and_by_healthz(client, settings, shops, rconn) -> None:  # noqa: F811
    """`flask --app app cron` died 3 hours ago: no tick, no stock pass (*/3) since."""
    stopped_at = utcnow() - timedelta(hours=3)
    rconn.set(scheduler.HEARTBEAT_KEY, stopped_at.isoformat())
    _stock_last_run(shops.a, stopped_at)
    body = _flows(client)
    assert body["scheduler"] == {"last_tick_at": stopped_at.isoformat(), "stopped": True}
    [stock] = [f for f in body["flows"] if f["name"] == "stock"]
    assert stock["schedule"]["overdue"] is True and stock["schedule"]["enabled"] is True
    status, answer = _health(settings)
    assert status == 503 and answer == {
        "ok": False,
        "reason": "scheduler_stopped",
        "last_tick_at": stopped_at.isoformat(),
    }

    rconn.set(f"lock:flow:{shops.a}:stock", "token")  # a "run now" running: not overdue meanwhile
    [stock] = [f for f in _flows(client)["flows"] if f["name"] == "stock"]
    assert stock["schedule"]["overdue"] is False


def test_runs_a_tick_enqueued_say_the_scheduler_ran_when_redis_lost_the_heartbeat(client, shops) -> None:  # noqa: F811
    """Redis restarted without its data (or the scheduler stopped before it wrote heartbeats): the
    schedules' last enqueue, which only a tick writes, still tells it ticked, and when."""
    stopped_at = utcnow() - timedelta(hours=3)
    _stock_last_run(shops.a, stopped_at)
    assert _flows(client)["scheduler"] == {"last_tick_at": stopped_at.isoformat(), "stopped": True}


def test_healthz_says_when_redis_cannot_tell(settings, closed_port) -> None:  # noqa: F811
    unreachable = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{closed_port}/0")
    status, answer = _health(unreachable)
    assert status == 503 and answer["reason"] == "redis_unreachable"
