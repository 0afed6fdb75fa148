"""When each scheduled flow runs by default; created for a shop when it installs the app.

Schedules are per shop and editable from the dashboard; `jobs.scheduler.tick` reads them.
Names are Schedule.flow values: the scheduled flows of ledger.flows plus the EventoPedido poller.
A shop installed before a schedule was added gets it from a migration (0007: `catalog_full`; 0015:
`prices_full`, `stock_full`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import audit
from ledger.models import Schedule, Shop, as_utc, utcnow
from settings import get_settings

SYSTEM_ACTOR = "system"  # the audit's actor of a change no person made (shopify_app.shops's too)

# Named after jobs modules; each exposes run(shop_id). Cron in UTC; the daily ones (DAILY) are
# times in Brasília, moved for a store in another zone (`daily_cron`).
DEFAULT_SCHEDULES: dict[str, str] = {
    "products": "*/15 * * * *",
    "skus": "*/15 * * * *",
    "prices": "*/5 * * * *",
    "stock": "*/3 * * * *",
    "order_events": "* * * * *",
    "orders": "*/5 * * * *",  # catch-up: order webhooks whose job was lost, parked orders now mapped
    "reconcile": "0 6 * * *",  # 03:00 in Brasília
    # The full catalog sweep (jobs.catalog_full): retires packagings deleted in the ERP, which the
    # incremental products / skus passes cannot see. 02:00 in Brasília, before the reconciliation.
    "catalog_full": "0 5 * * *",
    # The daily whole reads of prices and stock (jobs.prices_full, jobs.stock_full): a promotion
    # known by its running flag alone ends at the ERP's midnight with no row changed, and a row an
    # ERP batch committed later than the read overlap is behind the watermark. Shortly after the
    # ERP's midnight: 00:30 and 00:45 in Brasília, apart from each other and from the catalog's.
    "prices_full": "30 3 * * *",
    "stock_full": "45 3 * * *",
}


# The daily schedules, meant at their time of day in the store's own zone: the ERP's midnight is
# the store's (a promotion ends then), and 00:30 in Brasília is 23:30 in Cuiabá or Manaus, before it,
# and 22:30 in Rio Branco: a promotion ended there would stay priced until the next day's sweep.
HOME_ZONE = "America/Sao_Paulo"  # the zone DEFAULT_SCHEDULES' daily times are said in
DAILY = ("reconcile", "catalog_full", "prices_full", "stock_full")
# The sweeps that must run after the ERP's midnight too (its dates are days in ERP_TIMEZONE: a
# promotion flagged running ends then): at their time of day in the store's zone or in the ERP's,
# whichever comes later (an ERP in Campo Grande behind a store in Brasília: 00:30 there is 23:30 at
# the ERP, the promotion still running).
ERP_DAY = ("prices_full", "stock_full")


def _offset_minutes(zone: str, at: datetime) -> int:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def daily_cron(flow: str, zone: str | None, at: datetime | None = None) -> str:
    """The default cron of `flow` for a store in `zone` (Shopify's ianaTimezone): a daily one moved
    so it runs at the same time of day there as DEFAULT_SCHEDULES says in Brasília (the zone's
    offset `at` that moment: Brazil keeps no summer time), an ERP_DAY sweep not before that time in
    the ERP's zone either; any other, or an unknown zone, as is."""
    cron = DEFAULT_SCHEDULES[flow]
    if flow not in DAILY:
        return cron
    at = at or datetime.now(UTC)
    zones = [zone or HOME_ZONE]
    if flow in ERP_DAY:
        zones.append(get_settings().erp_timezone)  # the ERP's zone: a setting of the installation
    try:
        shift = max(_offset_minutes(HOME_ZONE, at) - _offset_minutes(z, at) for z in zones)
    except (ZoneInfoNotFoundError, ValueError):
        return cron
    if shift == 0:
        return cron
    minute, hour, *rest = cron.split()
    moved = (int(hour) * 60 + int(minute) + shift) % (24 * 60)
    return " ".join([str(moved % 60), str(moved // 60), *rest])


def follow_zone(session: Session, shop_id: int, zone: str | None, previous: str | None) -> list[str]:
    """The store's time zone became `zone` (read at install; it was `previous`, None: not known):
    each daily schedule still at its default for `previous` moves to its default for `zone`; one
    the merchant edited stays as they set it. The flows moved."""
    return _follow(session, shop_id, zone, previous, lambda s: s.cron == daily_cron(s.flow, previous))


def follow_known_zone(session: Session, shop_id: int, zone: str) -> list[str]:
    """The store's zone was known before the daily schedules followed it (an install of a release
    that stored the zone and wrote the sweeps at Brasília's times): each daily schedule still at
    Brasília's time, never edited since (no `cron_changed_at`: a person's edit sets it), moves to
    its default for `zone` (a Cuiabá store's price sweep ran at 23:30 there, before the ERP's
    midnight: an ended promotion stayed on sale a day more). The flows moved; none after the first."""
    return _follow(
        session,
        shop_id,
        zone,
        None,
        lambda s: s.cron_changed_at is None and s.cron == DEFAULT_SCHEDULES[s.flow],
    )


def _follow(
    session: Session,
    shop_id: int,
    zone: str | None,
    previous: str | None,
    at_default: Callable[[Schedule], bool],
) -> list[str]:
    moved = []
    domain = session.scalar(select(Shop.domain).where(Shop.id == shop_id)) or ""
    for schedule in session.scalars(
        select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow.in_(DAILY))
    ):
        if at_default(schedule) and schedule.cron != daily_cron(schedule.flow, zone):
            before = {"cron": schedule.cron, "zone": previous}
            schedule.cron = daily_cron(schedule.flow, zone)
            # a new start, as a person's edit (jobs.scheduler runs no due time from before it), and
            # said on the audit page: nobody else is recorded as setting the time the page shows
            schedule.cron_changed_at = utcnow()
            after = {"cron": schedule.cron, "zone": zone}
            audit.record(session, shop_id, domain, SYSTEM_ACTOR, "schedule.followed_zone",
                         f"schedule:{schedule.flow}", before, after)  # fmt: skip
            moved.append(schedule.flow)
    session.flush()
    return moved


# Schedule.last_status: every value written has a "run.<status>" label in both catalogues of the
# Flows page (frontend/i18n). ENQUEUED until a run of the schedule ends; then what became of the
# last run that ended (ledger.run_outcome), so a failure stays shown while the next run waits.
ENQUEUED = "enqueued"  # jobs.scheduler.tick put a run on its queue; none has ended since
RUN_OK = "ok"
RUN_RETRYING = "retrying"  # the run raised with RQ retries left (the ERP down, a throttle)
RUN_FAILED = "failed"  # the run raised with no retry left: RQ's failed-job registry holds it
RUN_OUTCOMES = (RUN_OK, RUN_RETRYING, RUN_FAILED)
BAD_CRON = "bad_cron"  # the tick could not read the cron expression: nothing runs
STOPPED_BY_UNINSTALL = "uninstalled"  # set by jobs.compliance.app_uninstalled
LAST_STATUSES = (ENQUEUED, *RUN_OUTCOMES, BAD_CRON, STOPPED_BY_UNINSTALL)


def ensure_default_schedules(session: Session, shop_id: int, zone: str | None = None) -> list[Schedule]:
    """Create the default schedule rows a shop lacks (existing rows keep their edits; the daily
    ones at their time in the store's `zone`: `daily_cron`) and turn back on those an uninstall
    stopped (last_status "uninstalled"; one the merchant stopped stays off)."""
    existing = {s.flow: s for s in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id))}
    for schedule in existing.values():
        if not schedule.enabled and schedule.last_status == STOPPED_BY_UNINSTALL:
            schedule.enabled, schedule.last_status = True, None
            if schedule.flow in DAILY:  # back on: a new start, as below
                schedule.cron_changed_at = utcnow()
    for flow in DEFAULT_SCHEDULES:
        if flow not in existing:
            # A daily sweep starts anew (as at a person's edit, jobs.scheduler._before_edit): its due
            # time before the install is not run, or the install ran every daily sweep at once (a
            # whole catalog read on top of the initial load, before the ERP connection is even saved).
            # The others are due within minutes anyway.
            start = utcnow() if flow in DAILY else None
            existing[flow] = Schedule(shop_id=shop_id, flow=flow, cron=daily_cron(flow, zone), enabled=True,
                                      cron_changed_at=start)  # fmt: skip
            session.add(existing[flow])
    session.flush()
    return list(existing.values())


# The tick of a due minute enqueues the run within that minute (`last_run_at`, the tick's time,
# then at or after the due time). Not enqueued 3 minutes after its due time, a run missed that tick
# and the two after: an every-minute schedule is enqueued by every tick and never that late while
# the scheduler runs, unless its previous run has not started yet (queued behind a busy worker:
# then it is late). Its lock held (running) or the catalog's (waiting), a flow is not overdue.
OVERDUE_AFTER = timedelta(minutes=3)


def is_overdue(
    row: Schedule, now: datetime, after: timedelta = OVERDUE_AFTER, usable_since: datetime | None = None
) -> bool:
    """Whether a switched-on schedule missed its run: no tick enqueued it (`last_run_at`) since its
    latest due time `after` (OVERDUE_AFTER: the Flows page's) or more ago. As the tick, a due time
    before a person's edit of the cron is not run (a new start); nor, on a row no tick enqueued
    yet, one before the row was last written (a fresh install's first due time is still ahead);
    nor one before the shop was last made usable (`usable_since`: Shop.installed_at, written at a
    reinstall and at a re-authorization: the tick started nothing while it was not active, and
    its last runs of days before are no stopped worker). A cron that cannot be read is not overdue
    (the row says bad_cron)."""
    if not row.enabled:
        return False
    limit = (now - after).astimezone(UTC).replace(second=0, microsecond=0)
    try:
        due = croniter(row.cron, limit + timedelta(seconds=1)).get_prev(datetime)
    except (ValueError, KeyError):
        return False
    since = [
        row.last_run_at if row.last_run_at is not None else row.updated_at,
        row.cron_changed_at,
        usable_since,
    ]
    return all(as_utc(at) < due for at in since if at is not None)
