"""jobs.retention: processed webhook deliveries (their raw bodies carry the customer's data) and
finished stock batch messages are deleted once old (INBOX_RETENTION_DAYS, STOCK_BATCH_RETENTION_DAYS),
from the scheduler's tick at most once an hour; failed, rejected, open and handled ones stay."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import retention, scheduler
from ledger.db import session_scope
from ledger.models import InboxStatus, Message, MessageStatus, Shop, WebhookInbox, utcnow
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
    assert retention.forget_processed_deliveries(30).gone == 1
    assert _left() == kept and old not in _left()
    assert retention.forget_processed_deliveries(30).gone == 0
    assert retention.forget_processed_deliveries(0).gone == 0  # 0 keeps all
    assert retention.forget_processed_deliveries(28).gone == 1  # the 29-day one
    assert len(_left()) == len(kept) - 1


def test_a_backlog_goes_in_chunks_and_stops_at_the_deadline(jobs_env) -> None:
    rows = [_row(InboxStatus.PROCESSED, 60) for _ in range(7)]
    past = time.monotonic() - 1
    assert retention.forget_processed_deliveries(30, chunk=3, until=past) == retention.Outcome(0, done=False)
    assert _left() == set(rows)
    assert retention.forget_processed_deliveries(30, chunk=3) == retention.Outcome(7, done=True)
    assert _left() == set()


def test_the_tick_runs_it_once_an_hour_with_the_configured_days(jobs_env, rconn) -> None:
    jobs_env.setenv("INBOX_RETENTION_DAYS", "10")
    jobs_env.setenv("STOCK_BATCH_RETENTION_DAYS", "5")
    first = _row(InboxStatus.PROCESSED, 11)
    young = _row(InboxStatus.PROCESSED, 9)
    batch, recent = (
        _message("stock:1:0123456789abcdef", MessageStatus.DONE, 6),
        _message("stock:1:1111111111111111", MessageStatus.DONE, 4),
    )
    scheduler.tick()
    assert _left() == {young} and _messages() == {recent} and batch not in _messages()
    assert 0 < rconn.ttl(retention.RAN_KEY) <= retention.RUN_EVERY

    second = _row(InboxStatus.PROCESSED, 11)
    scheduler.tick()  # within the hour: not this tick's turn
    assert _left() == {young, second}
    rconn.delete(retention.RAN_KEY)  # the hour has passed
    scheduler.tick()
    assert _left() == {young} and first not in _left()


def test_keep_all_with_zero(jobs_env) -> None:
    jobs_env.setenv("INBOX_RETENTION_DAYS", "0")
    jobs_env.setenv("STOCK_BATCH_RETENTION_DAYS", "0")
    jobs_env.setenv("UNLINKED_EVENT_RETENTION_DAYS", "0")
    row = _row(InboxStatus.PROCESSED, 400)
    batch = _message("stock:1:0123456789abcdef", MessageStatus.DONE, 400)
    assert retention.run_if_due() == {"webhook_deliveries": 0, "stock_batches": 0, "unlinked_events": 0}
    assert _left() == {row} and _messages() == {batch}


@pytest.mark.parametrize(
    "name", ["INBOX_RETENTION_DAYS", "STOCK_BATCH_RETENTION_DAYS", "UNLINKED_EVENT_RETENTION_DAYS"]
)
@pytest.mark.parametrize("value", ["-1", "0.5", "thirty", "inf"])
def test_a_retention_shorter_than_shopifys_redeliveries_or_a_typo_is_refused(
    jobs_env, name: str, value: str
) -> None:
    jobs_env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{name} must be a number of days, 1 or more"):
        Settings.from_env()


# ---------------------------------------------------------------- stock batch messages


def _message(unit_key: str, status: MessageStatus, days_ago: float, flow: str = "stock", **more) -> int:
    with session_scope() as session:
        shop_id = session.scalar(select(Shop.id).where(Shop.domain == "loja-teste.myshopify.com"))
        if shop_id is None:
            shop = Shop(domain="loja-teste.myshopify.com", settings={})
            session.add(shop)
            session.flush()
            shop_id = shop.id
        when = utcnow() - days_ago * DAY
        row = Message(shop_id=shop_id, flow=flow, direction="erp_to_shopify", unit_key=unit_key,
                      status=status.value, updated_at=when, created_at=when,
                      request_payload={"levels": [{"sku": "P1E1", "quantity": 3}]}, **more)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _messages() -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(Message.id)))


def test_only_finished_stock_batches_past_the_retention_are_deleted(jobs_env) -> None:
    old = {
        _message("stock:1:0123456789abcdef", MessageStatus.DONE, 31),
        _message("stock:12:fedcba9876543210", MessageStatus.SKIPPED, 45),  # superseded by later passes
    }
    handled = {"handled": {"by": "1", "at": "2026-10-01T00:00:00+00:00", "note": "set by hand"}}
    kept = {
        _message("stock:1:1111111111111111", MessageStatus.DONE, 29),  # within the retention
        _message("stock:1:2222222222222222", MessageStatus.FAILED, 90),  # a person's
        _message("stock:1:3333333333333333", MessageStatus.RETRYING, 90),
        _message("stock:1:4444444444444444", MessageStatus.PARKED, 90),
        _message("stock:1:5555555555555555", MessageStatus.PENDING, 90),
        _message("stock:1:6666666666666666", MessageStatus.SKIPPED, 90, error_detail=handled),
        _message("stock:1:location", MessageStatus.DONE, 90),  # a company's refusal, resolved
        _message("stock:control:1:P1E1", MessageStatus.SKIPPED, 90),
        _message("stock:policy:123", MessageStatus.DONE, 90),
        _message("stock:stray:1:0123456789abcdef", MessageStatus.DONE, 90),
        _message("stock:1:inactive", MessageStatus.DONE, 90),
        _message("product:1", MessageStatus.DONE, 90, flow="products"),
        _message("order:1", MessageStatus.DONE, 90, flow="orders"),
    }
    assert retention.forget_stock_batches(30).gone == 2
    assert _messages() == kept and not old & _messages()
    assert retention.forget_stock_batches(30).gone == 0
    assert retention.forget_stock_batches(0).gone == 0


def test_stock_batches_go_in_chunks_past_rows_that_stay(jobs_env) -> None:
    """A chunk of rows that all stay (other stock units) does not stop the walk."""
    stays = [_message(f"stock:control:1:P{n}E1", MessageStatus.SKIPPED, 90) for n in range(4)]
    goes = [_message(f"stock:2:{n:016x}", MessageStatus.DONE, 90) for n in range(5)]
    past = time.monotonic() - 1
    assert retention.forget_stock_batches(30, chunk=2, until=past) == retention.Outcome(0, done=False)
    assert retention.forget_stock_batches(30, chunk=2) == retention.Outcome(5, done=True)
    assert _messages() == set(stays) and not set(goes) & _messages()


def test_a_tick_out_of_budget_leaves_the_rest_to_the_next_minutes_tick(jobs_env, rconn) -> None:
    row = _row(InboxStatus.PROCESSED, 60)
    assert retention.run_if_due(budget=0) == {
        "webhook_deliveries": 0,
        "stock_batches": 0,
        "unlinked_events": 0,
    }
    assert _left() == {row}
    assert 0 < rconn.ttl(retention.RAN_KEY) <= retention.LEFT_FOR_NEXT_TICK  # gone before the next tick
    rconn.delete(retention.RAN_KEY)  # the next minute
    assert retention.run_if_due() == {"webhook_deliveries": 1, "stock_batches": 0, "unlinked_events": 0}
    assert rconn.ttl(retention.RAN_KEY) > retention.RUN_EVERY - 60  # done: the next run in an hour


def test_the_cli_deletes_everything_past_the_retention_now_and_says_how_much(jobs_env) -> None:
    import app as app_module

    jobs_env.setenv("STOCK_BATCH_RETENTION_DAYS", "0")
    rows = {_row(InboxStatus.PROCESSED, 40) for _ in range(3)}
    batch = _message("stock:1:0123456789abcdef", MessageStatus.DONE, 400)
    text = "ERP order 7 is not linked to any Shopify order of this shop (typed in the ERP, or from another)"
    event = _message("event:1", MessageStatus.SKIPPED, 100, flow="invoices", error_text=text)
    result = app_module.create_app().test_cli_runner().invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "processed webhook deliveries older than 30 days: 3 deleted" in result.output
    assert "finished stock batch messages: kept (retention 0)" in result.output
    assert "ERP events of unlinked orders older than 90 days: 1 deleted" in result.output
    assert not rows & _left() and _messages() == {batch} and event not in _messages()


# ---------------------------------------------------------------- ERP events of unlinked orders


def test_only_skipped_events_of_unlinked_orders_past_the_retention_are_deleted(jobs_env) -> None:
    from jobs import order_events

    def event(seq: int, flow: str, status: MessageStatus, days_ago: float, text: str, **more) -> int:
        return _message(f"event:{seq}", status, days_ago, flow=flow, error_text=text, erp_id="123", **more)

    unlinked = order_events.UNKNOWN_ORDER.format(nro=123)
    erased = order_events.UNKNOWN_ORDER_ERASED.format(nro=123, order="1", uninstalled="2026-01-01 00:00")
    other_erp = order_events.unit_key(9, 2)  # "event:9:erp2", of the ERP the shop was on before
    old = {
        event(1, "order_edits", MessageStatus.SKIPPED, 91, unlinked),
        event(2, "invoices", MessageStatus.SKIPPED, 120, unlinked),
        event(3, "cancellations", MessageStatus.SKIPPED, 100, erased),
        _message(other_erp, MessageStatus.SKIPPED, 95, flow="invoices", error_text=unlinked),
    }
    handled = {"handled": {"by": "1", "at": "2026-08-01T00:00:00+00:00", "note": "written by hand"}}
    unknown_kind = order_events.UNKNOWN_KIND.format(seq=5, nro=123, kind="X")
    kept = {
        event(4, "invoices", MessageStatus.SKIPPED, 89, unlinked),  # within the retention
        event(5, "order_edits", MessageStatus.SKIPPED, 200, unknown_kind),  # a kind the app does not know
        event(6, "invoices", MessageStatus.DONE, 200, None),  # applied to a linked order
        event(7, "invoices", MessageStatus.FAILED, 200, "the NF-e key is not valid"),
        event(8, "invoices", MessageStatus.SKIPPED, 200, unlinked, error_detail=handled),
        _message("order:123", MessageStatus.SKIPPED, 200, flow="orders", error_text=unlinked),
    }
    assert retention.forget_unlinked_events(90).gone == len(old)
    assert _messages() == kept
    assert retention.forget_unlinked_events(90).gone == 0 and retention.forget_unlinked_events(0).gone == 0


def test_every_part_runs_on_the_embedded_sqlite_ledger_too(jobs_env, sqlite_database_url) -> None:
    """The embedded default (the demo, a small store) keeps its ledger in SQLite: the handled
    check (a JSON path), the LIKEs and the chunked deletes work there as on PostgreSQL."""
    jobs_env.setenv("DATABASE_URL", sqlite_database_url)
    with session_scope() as session:
        assert session.get_bind().dialect.name == "sqlite"
    delivery = _row(InboxStatus.PROCESSED, 40)
    failed = _row(InboxStatus.FAILED, 40)
    handled = {"handled": {"by": "1", "at": "2026-10-01T00:00:00+00:00", "note": "set by hand"}}
    batch = _message("stock:1:0123456789abcdef", MessageStatus.DONE, 40)
    kept_batch = _message("stock:1:1111111111111111", MessageStatus.SKIPPED, 40, error_detail=handled)
    text = "ERP order 7 is not linked to any Shopify order of this shop (typed in the ERP, or from another)"
    event = _message("event:1", MessageStatus.SKIPPED, 100, flow="invoices", error_text=text)
    assert retention.run_if_due() == {"webhook_deliveries": 1, "stock_batches": 1, "unlinked_events": 1}
    assert _left() == {failed} and delivery not in _left()
    assert _messages() == {kept_batch} and not {batch, event} & _messages()


def _stock_message(shop_id: int, key: str, status: str, days: float) -> int:
    when = utcnow() - timedelta(days=days)
    with session_scope() as session:
        message = Message(shop_id=shop_id, flow="stock", direction="erp_to_shopify", unit_key=key,
                          status=status, updated_at=when, created_at=when)  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def _stock_shop() -> int:
    with session_scope() as session:
        shop = Shop(domain="loja-retencao.myshopify.com", settings={})
        session.add(shop)
        session.flush()
        return shop.id


def test_a_batch_a_pass_begins_again_between_the_read_and_the_delete_stays(jobs_env, monkeypatch) -> None:
    """The same SKUs sent again make the same unit: a pass that begins it anew (pending) between the
    retention's read and its delete keeps it; the delete checks what it read still holds."""
    from ledger import trace

    shop_id = _stock_shop()
    unit = "stock:1:0123456789abcdef"
    message_id = _stock_message(shop_id, unit, MessageStatus.DONE.value, 31)
    real = retention.STOCK_BATCH

    class BegunMeanwhile:
        def fullmatch(self, key: str):
            with session_scope() as other:  # a stock pass, between the read and the delete
                trace.begin(other, shop_id, "stock", unit, "erp_to_shopify")
            return real.fullmatch(key)

    monkeypatch.setattr(retention, "STOCK_BATCH", BegunMeanwhile())
    assert retention.forget_stock_batches(30).gone == 0
    with session_scope() as session:
        row = session.get(Message, message_id)
        assert row is not None and row.status == MessageStatus.PENDING.value


def test_rows_that_stay_are_not_read_again_by_every_run_before_the_batches(jobs_env, monkeypatch) -> None:
    """The stock flow's other finished units (a SKU's control, its policy) always stay: picked out in
    SQL, they cannot eat each run's budget and leave the old batches past them for ever."""
    import types
    from itertools import count

    shop_id = _stock_shop()
    for n in range(10):
        _stock_message(shop_id, f"stock:control:1:P{n}E1", MessageStatus.SKIPPED.value, 90)
    batch = _stock_message(shop_id, "stock:1:0123456789abcdef", MessageStatus.DONE.value, 90)
    ticks = count()
    monkeypatch.setattr(retention, "time", types.SimpleNamespace(monotonic=lambda: float(next(ticks))))

    retention.forget_stock_batches(30, chunk=2, until=4.0)  # a budget of 4 checks

    with session_scope() as session:
        assert session.get(Message, batch) is None
        assert len(session.scalars(select(Message.id)).all()) == 10
