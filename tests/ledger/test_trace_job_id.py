"""A unit begun inside an RQ job names that job (trace.begin, trace_bulk.begin_many) when the flow
passes none: the Messages page calls a unit pending past STALE_AFTER_SECONDS stuck only when RQ
holds no job under its job_id, so a stock or price pass hours into a bulk operation is not shown
interrupted (nor offered a Retry)."""

from __future__ import annotations

from types import SimpleNamespace

from ledger import trace
from ledger.models import Message
from ledger.trace_bulk import UnitStart, begin_many

OUT = "erp_to_shopify"


def test_a_unit_begun_in_a_job_names_it_unless_given_one(session, shop, monkeypatch):
    monkeypatch.setattr(trace, "get_current_job", lambda: SimpleNamespace(id="flow-1-stock-202611281200"))
    assert trace.begin(session, shop.id, "stock", "stock:1", OUT).job_id == "flow-1-stock-202611281200"
    assert trace.begin(session, shop.id, "stock", "stock:2", OUT, job_id="replay-9").job_id == "replay-9"
    [bulk] = begin_many(session, shop.id, "prices", [UnitStart("price:1")])
    [given] = begin_many(session, shop.id, "prices", [UnitStart("price:2")], job_id="replay-10")
    session.commit()
    assert session.get(Message, bulk).job_id == "flow-1-stock-202611281200"
    assert session.get(Message, given).job_id == "replay-10"


def test_outside_a_job_a_unit_names_none_and_keeps_the_one_it_had(session, shop, monkeypatch):
    monkeypatch.setattr(trace, "get_current_job", lambda: None)
    assert trace.begin(session, shop.id, "stock", "stock:1", OUT).job_id is None
    trace.begin(session, shop.id, "stock", "stock:1", OUT, job_id="flow-1-stock-1")
    again = trace.begin(session, shop.id, "stock", "stock:1", OUT)  # a CLI re-run: the last job stays named
    assert (again.job_id, again.attempts) == ("flow-1-stock-1", 3)
