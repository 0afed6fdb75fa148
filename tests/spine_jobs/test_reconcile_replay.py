"""Replay of a reconciliation report message parked on an earlier day."""

from __future__ import annotations

import pytest

from jobs import reconcile
from jobs.locks import flow_lock
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Transient
from ledger.models import Message, MessageStatus


def test_replaying_a_report_parked_on_an_earlier_day_closes_it_pointing_to_todays(shop_id, monkeypatch):
    """06:00 the day after install, no ERP connection yet: the report parks on it. Saving the
    connection the next day replays it: the report written is today's, and the parked one closes."""
    with session_scope() as session:
        parked = trace.begin(session, shop_id, "reconcile", "report:2026-11-27", "both")
        trace.fail(session, parked, MappingMissing("erp_connection", str(shop_id)))
        parked_id = parked.id
    monkeypatch.setattr(reconcile, "for_shop", lambda domain, lane=None: object())
    monkeypatch.setattr(reconcile.erp, "for_shop", lambda shop_id: object())
    for section in ("_orders", "_stock", "_catalog"):
        monkeypatch.setattr(reconcile, section, lambda *a, **k: {})
    report = reconcile.replay(parked_id)
    today = reconcile.report_key(reconcile.utcnow())
    with session_scope() as session:
        replayed = session.get(Message, parked_id)
        assert replayed.status == MessageStatus.DONE.value
        assert replayed.response_payload["replaced_by"] == today
        written = session.query(Message).filter_by(shop_id=shop_id, unit_key=today).one()
        assert written.status == MessageStatus.DONE.value and written.response_payload == report
    reconcile.kv.get_redis().delete(reconcile.redis_key(shop_id))
    assert reconcile.latest(shop_id) == report  # the stored report, not the pointer to it


def test_a_report_replayed_while_another_runs_is_tried_again_not_left_parked(shop_id) -> None:
    """The connection saved just as the day's report runs: the replay found the flow busy and
    returned, the earlier day's message parked for ever on a setting that is there now (nothing
    resumes it again). It raises a Transient: RQ's Retry runs it once the report is done."""
    with session_scope() as session:
        parked = trace.begin(session, shop_id, "reconcile", "report:2026-11-27", "both")
        trace.fail(session, parked, MappingMissing("erp_connection", str(shop_id)))
        parked_id = parked.id
    with flow_lock(shop_id, reconcile.FLOW), pytest.raises(Transient, match="is running"):  # the day's report
        reconcile.replay(parked_id)
