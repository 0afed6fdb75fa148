"""A report is the store's day's (its unit `report:<day>` in the zone its daily schedules run in),
not UTC's: Brasília's evening is already the next day in UTC, so a report run by hand then was
named by the next day and overwritten by the next morning's scheduled run."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from jobs import reconcile
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import Message, MessageStatus, Shop, utcnow

from .conftest import World

BRASILIA = ZoneInfo("America/Sao_Paulo")


def _at(zone: ZoneInfo, days: int, hour: int, minute: int = 0) -> datetime:
    """`hour`:`minute` in `zone`, `days` after the zone's today (the ledger's real clock)."""
    today = utcnow().astimezone(zone).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute), zone)


def _run_at(world: World, monkeypatch, at: datetime) -> None:
    monkeypatch.setattr(reconcile, "utcnow", lambda: at.astimezone(ZoneInfo("UTC")))
    reconcile.run(world.shop_id, stock_sample=1)


def _reports() -> dict[str, Message]:
    with session_scope() as session:
        rows = session.scalars(select(Message).where(Message.flow == "reconcile")).all()
        session.expunge_all()
        return {row.unit_key: row for row in rows}


def test_an_evening_report_is_the_stores_day_and_the_next_mornings_is_its_own(
    world: World, monkeypatch
) -> None:
    """22:30 in Brasília (01:30 UTC the next day) then the scheduled 03:00 (06:00 UTC): two days,
    two reports; a run later the same store day replaces that day's report, as ever."""
    evening, morning, afternoon = _at(BRASILIA, -1, 22, 30), _at(BRASILIA, 0, 3), _at(BRASILIA, 0, 17)
    assert evening.astimezone(ZoneInfo("UTC")).date() == morning.date()  # one UTC day

    _run_at(world, monkeypatch, evening)
    _run_at(world, monkeypatch, morning)
    reports = _reports()
    assert set(reports) == {f"report:{evening.date()}", f"report:{morning.date()}"}, set(reports)
    assert all(row.attempts == 1 for row in reports.values())  # neither overwrote the other

    _run_at(world, monkeypatch, afternoon)  # the same store day: its report replaced
    again = _reports()
    assert set(again) == set(reports) and again[f"report:{morning.date()}"].attempts == 2
    assert reconcile.report_key(evening.astimezone(ZoneInfo("UTC"))) == f"report:{evening.date()}"


def test_the_day_is_the_stores_own_zone(world: World, monkeypatch) -> None:
    """A store in Rio Branco (UTC-5), as its schedules follow its zone: 20:00 there is its day."""
    rio_branco = ZoneInfo("America/Rio_Branco")
    with session_scope() as session:
        session.get(Shop, world.shop_id).iana_timezone = "America/Rio_Branco"
    evening = _at(rio_branco, -1, 20)
    _run_at(world, monkeypatch, evening)
    assert set(_reports()) == {f"report:{evening.date()}"}


def test_replaying_a_report_the_same_store_day_in_the_evening_writes_that_report(
    world: World, monkeypatch
) -> None:
    """A report parked on the ERP connection, replayed that evening (past UTC's midnight): the day is
    still its own, so the report it writes is that message's, not a next day's pointing back."""
    evening = _at(BRASILIA, -1, 22, 30)
    key = f"report:{evening.date()}"
    with session_scope() as session:
        parked = trace.begin(session, world.shop_id, "reconcile", key, "both")
        trace.fail(session, parked, MappingMissing("erp_connection", str(world.shop_id)))
        parked_id = parked.id
    monkeypatch.setattr(reconcile, "utcnow", lambda: evening.astimezone(ZoneInfo("UTC")))
    report = reconcile.replay(parked_id)
    reports = _reports()
    assert set(reports) == {key}, set(reports)
    assert reports[key].status == MessageStatus.DONE.value and reports[key].response_payload == report
