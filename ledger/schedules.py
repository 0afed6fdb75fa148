"""When each scheduled flow runs by default; created for a shop when it installs the app.

Schedules are per shop and editable from the dashboard; `jobs.scheduler.tick` reads them.
Names are Schedule.flow values: the scheduled flows of ledger.flows plus the EventoPedido poller.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Schedule

# Named after jobs modules; each exposes run(shop_id). Cron in UTC.
DEFAULT_SCHEDULES: dict[str, str] = {
    "products": "*/15 * * * *",
    "skus": "*/15 * * * *",
    "prices": "*/5 * * * *",
    "stock": "*/3 * * * *",
    "order_events": "* * * * *",
    "orders": "*/5 * * * *",  # catch-up: order webhooks whose job was lost, parked orders now mapped
    "reconcile": "0 6 * * *",  # 03:00 in Brasília
}


STOPPED_BY_UNINSTALL = "uninstalled"  # Schedule.last_status set by jobs.compliance.app_uninstalled


def ensure_default_schedules(session: Session, shop_id: int) -> list[Schedule]:
    """Create the default schedule rows a shop lacks (existing rows keep their edits) and turn back
    on those an uninstall stopped (last_status "uninstalled"; one the merchant stopped stays off)."""
    existing = {s.flow: s for s in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id))}
    for schedule in existing.values():
        if not schedule.enabled and schedule.last_status == STOPPED_BY_UNINSTALL:
            schedule.enabled, schedule.last_status = True, None
    for flow, expression in DEFAULT_SCHEDULES.items():
        if flow not in existing:
            existing[flow] = Schedule(shop_id=shop_id, flow=flow, cron=expression, enabled=True)
            session.add(existing[flow])
    session.flush()
    return list(existing.values())
