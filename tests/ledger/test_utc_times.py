"""Every time the ledger hands back is timezone-aware UTC, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from ledger.models import Message, Shop

BRASILIA = timezone(timedelta(hours=-3))


def test_a_stored_time_reads_back_aware_utc(session, shop):
    shop.installed_at = datetime(2026, 11, 30, 9, 0, tzinfo=BRASILIA)  # 12:00 UTC
    session.commit()
    session.expire_all()

    got = session.get(Shop, shop.id).installed_at
    assert got.tzinfo is not None
    assert got.astimezone(UTC) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    # A Core select of the column converts alike (no ORM object needed).
    core = session.execute(select(Shop.installed_at).where(Shop.id == shop.id)).scalar_one()
    assert core == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    # Comparable with an aware time: no "can't compare offset-naive and offset-aware" on SQLite.
    assert core < datetime(2026, 12, 1, tzinfo=UTC)


def test_a_non_utc_offset_compares_as_the_same_instant(session, shop):
    """SQLite compares the stored text: a time written at -03:00 must be stored as its UTC
    instant, or a filter against a UTC bound would be three hours off."""
    session.add(
        Message(
            shop_id=shop.id,
            flow="orders",
            direction="shopify_to_erp",
            unit_key="order:1",
            created_at=datetime(2026, 11, 30, 9, 30, tzinfo=BRASILIA),  # 12:30 UTC
        )
    )
    session.commit()
    after_noon = select(Message.id).where(Message.created_at > datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert session.scalars(after_noon).all() != []


def test_defaults_are_aware(session, shop):
    session.expire_all()
    assert session.get(Shop, shop.id).created_at.tzinfo is not None
