"""jobs.inbox_retention: processed webhook deliveries (their raw bodies carry the customer's data)
are deleted once INBOX_RETENTION_DAYS old, from the scheduler's tick at most once an hour; failed,
rejected and unfinished ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import inbox_retention, scheduler
from ledger.db import session_scope
from ledger.models import InboxStatus, WebhookInbox, utcnow
from settings import ConfigurationError, Settings

DAY = timedelta(days=1)


def _row(status: InboxStatus, received_days_ago: float, processed_days_ago: float | None = None) -> int:
    now = utcnow()
    processed = processed_days_ago if processed_days_ago is not None else received_days_ago
    with session_scope() as session:
        row = WebhookInbox(
            topic="orders/create",
            shop_domain="loja-teste.myshopify.com",
            raw_body=b'{"customer": {"email": "ana@example.com"}}',
            status=status.value,
            received_at=now - received_days_ago * DAY,
            processed_at=None
            if status in (InboxStatus.RECEIVED, InboxStatus.ENQUEUED)
            else now - processed * DAY,
        )
        session.add(row)
        session.flush()
        return row.id


def _left() -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(WebhookInbox.id)))


def test_only_processed_deliveries_past_the_retention_are_deleted(jobs_env) -> None:
    old = _row(InboxStatus.PROCESSED, 31)
    kept = {
        _row(InboxStatus.PROCESSED, 29),  # within the retention
        _row(InboxStatus.PROCESSED, 40, processed_days_ago=10),  # waited long, done lately
        _row(InboxStatus.FAILED, 90),  # a person's: the Failed jobs page
        _row(InboxStatus.REJECTED, 90),  # malformed, kept with its reason
        _row(InboxStatus.RECEIVED, 90),  # the sweeper's
        _row(InboxStatus.ENQUEUED, 90),
    }
    assert inbox_retention.forget_processed(30) == 1
    assert _left() == kept and old not in _left()
    assert inbox_retention.forget_processed(30) == 0
    assert inbox_retention.forget_processed(0) == 0  # 0 keeps all
    assert inbox_retention.forget_processed(28) == 1  # the 29-day one
    assert len(_left()) == len(kept) - 1


def test_a_long_backlog_goes_in_chunks_and_continues_in_the_next_run(jobs_env) -> None:
    rows = [_row(InboxStatus.PROCESSED, 60) for _ in range(7)]
    assert inbox_retention.forget_processed(30, chunk=3, max_chunks=2) == 6
    assert _left() == {rows[-1]}  # oldest first
    assert inbox_retention.forget_processed(30, chunk=3, max_chunks=2) == 1
    assert _left() == set()


def test_the_tick_runs_it_once_an_hour_with_the_configured_days(jobs_env, rconn) -> None:
    jobs_env.setenv("INBOX_RETENTION_DAYS", "10")
    first = _row(InboxStatus.PROCESSED, 11)
    young = _row(InboxStatus.PROCESSED, 9)
    scheduler.tick()
    assert _left() == {young}
    assert 0 < rconn.ttl(inbox_retention.RAN_KEY) <= inbox_retention.RUN_EVERY

    second = _row(InboxStatus.PROCESSED, 11)
    scheduler.tick()  # within the hour: not this tick's turn
    assert _left() == {young, second}
    rconn.delete(inbox_retention.RAN_KEY)  # the hour has passed
    scheduler.tick()
    assert _left() == {young} and first not in _left()


def test_keep_all_with_zero(jobs_env) -> None:
    jobs_env.setenv("INBOX_RETENTION_DAYS", "0")
    row = _row(InboxStatus.PROCESSED, 400)
    assert inbox_retention.run_if_due() == 0
    assert _left() == {row}


@pytest.mark.parametrize("value", ["-1", "0.5", "thirty", "inf"])
def test_a_retention_shorter_than_shopifys_redeliveries_or_a_typo_is_refused(jobs_env, value: str) -> None:
    jobs_env.setenv("INBOX_RETENTION_DAYS", value)
    with pytest.raises(ConfigurationError, match="INBOX_RETENTION_DAYS must be a number of days, 1 or more"):
        Settings.from_env()
