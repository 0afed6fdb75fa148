"""Watermarks on SQLite and PostgreSQL: forward only, never past the run's start, overlap on read."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from ledger import watermarks
from ledger.models import Watermark
from ledger.watermarks import WatermarkState

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RUN = T0 + timedelta(hours=5)


def test_read_of_a_fresh_flow(session, shop):
    assert watermarks.read(session, shop.id, "skus") == WatermarkState(None, 0)


def test_advance_moves_forward_only(session, shop):
    state = watermarks.advance(session, shop.id, "skus", "", T0, 3, RUN)
    session.commit()
    assert state == WatermarkState(T0, 3)
    assert watermarks.read(session, shop.id, "skus") == WatermarkState(T0, 3)

    # older time, or an earlier page at the same time: ignored
    assert watermarks.advance(
        session, shop.id, "skus", "", T0 - timedelta(minutes=1), 9, RUN
    ) == WatermarkState(T0, 3)
    assert watermarks.advance(session, shop.id, "skus", "", T0, 2, RUN) == WatermarkState(T0, 3)
    # later page at the same time, then a later time
    assert watermarks.advance(session, shop.id, "skus", "", T0, 4, RUN) == WatermarkState(T0, 4)
    later = T0 + timedelta(hours=1)
    assert watermarks.advance(session, shop.id, "skus", "", later, 0, RUN) == WatermarkState(later, 0)
    session.commit()
    session.expire_all()
    assert watermarks.read(session, shop.id, "skus") == WatermarkState(later, 0)
    assert session.scalar(select(func.count()).select_from(Watermark)) == 1


def test_never_past_the_run_start(session, shop):
    state = watermarks.advance(session, shop.id, "stock", "1", RUN + timedelta(hours=2), 7, RUN)
    session.commit()
    assert state == WatermarkState(RUN, 0)
    assert watermarks.read(session, shop.id, "stock", "1") == WatermarkState(RUN, 0)


def test_other_timezones_are_compared_as_utc(session, shop):
    brt = timezone(timedelta(hours=-3))
    watermarks.advance(session, shop.id, "prices", "", T0, 0, RUN)
    # 10:00 BRT is 13:00 UTC: later than 12:00 UTC, so it moves
    state = watermarks.advance(
        session, shop.id, "prices", "", datetime(2026, 11, 1, 10, 0, tzinfo=brt), 0, RUN
    )
    assert state.last_changed_at == T0 + timedelta(hours=1)
    assert state.last_changed_at.tzinfo is not None


def test_scopes_are_separate_and_reset(session, shop):
    watermarks.advance(session, shop.id, "stock", "1", T0, 0, RUN)
    watermarks.advance(session, shop.id, "stock", "2", T0 + timedelta(hours=1), 0, RUN)
    watermarks.advance(session, shop.id, "skus", "", T0, 0, RUN)
    session.commit()
    assert watermarks.read(session, shop.id, "stock", "1").last_changed_at == T0
    assert watermarks.reset(session, shop.id, "stock", "1") == 1
    assert watermarks.read(session, shop.id, "stock", "1") == WatermarkState(None, 0)
    assert watermarks.read(session, shop.id, "stock", "2").last_changed_at == T0 + timedelta(hours=1)
    assert watermarks.reset(session, shop.id, "stock") == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(Watermark)) == 1


def test_since_with_overlap():
    assert watermarks.since_with_overlap(WatermarkState(None, 0), timedelta(minutes=5)) is None
    assert watermarks.since_with_overlap(WatermarkState(T0, 2), timedelta(minutes=5)) == T0 - timedelta(
        minutes=5
    )
