"""A prices bulk operation left running by a dead worker (a deploy, out of memory) lands its older
prices over a newer price a Replay (or a small pass: direct calls) sent meanwhile: the flow lock
lapsed 60 s after the worker died, Shopify runs the operation for minutes to hours. The binding
held the newer price's digest, so no later pass nor the daily whole read sent it again: the store
kept the old price. Every pass and replay now waits for such an operation first
(jobs.price_send.settle_leftover), then sends its SKUs again."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from jobs import prices
from ledger.bindings import PRICE_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.kv import get_redis
from ledger.models import Binding, Message
from sandbox.consinco import tables as t
from sandbox.shopify import bulk as sandbox_bulk
from shopify_app.admin_api.bulk import STARTED_PREFIX, BulkRunner, BulkStillRunning
from tests.catalog_prices_stock.chain import erp_update
from tests.catalog_prices_stock.test_first_pass import set_threshold
from tests.catalog_prices_stock.test_price_lost_answer_put_back import _priced, shown
from tests.catalog_prices_stock.test_price_rounding import _catalog
from tests.catalog_prices_stock.worker_killed import WorkerKilled


def _short_leftover_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    real_init = BulkRunner.__init__

    def short(self: BulkRunner, *a: Any, **k: Any) -> None:
        real_init(self, *a, **k)
        self.leftover_wait = 0.3

    monkeypatch.setattr(BulkRunner, "__init__", short)


def test_a_replay_while_a_dead_passs_bulk_runs_waits_for_it_and_its_price_stays_the_newer(chain, monkeypatch):
    shop, today, data, where, before = _priced(chain, "price-leftover")
    older, newer = before[0] * 3, before[0] * 2
    _short_leftover_wait(monkeypatch)

    # Pass A goes bulk (a prices_full ending thousands of promotions, in real life) and its worker
    # dies while Shopify still runs the operation.
    set_threshold(shop.shop_id, 0)
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(older))
    release = threading.Event()
    real_line = sandbox_bulk.BulkRunner._line

    def slow_line(self: Any, *a: Any, **k: Any) -> Any:
        release.wait(60)
        return real_line(self, *a, **k)

    monkeypatch.setattr(sandbox_bulk.BulkRunner, "_line", slow_line)

    def worker_dies(self: BulkRunner, *a: Any, **k: Any) -> Any:
        raise WorkerKilled()

    try:
        with monkeypatch.context() as patched:
            patched.setattr(BulkRunner, "wait", worker_dies)
            with pytest.raises(WorkerKilled):
                prices.run(shop.shop_id, today=today)
        assert shown(chain, shop, data["variant_id"])[0] == before[0]  # nothing applied yet

        # The ERP moves on; a person replays the product's message: nothing is sent while the dead
        # pass's operation still runs, and the replay ends retrying, naming it.
        set_threshold(shop.shop_id, 250)
        erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(newer))
        with session_scope() as session:
            message_id = session.scalars(select(Message.id).where(
                Message.shop_id == shop.shop_id, Message.flow == "prices",
                Message.unit_key == f"price:{data['seq_produto']}")).one()  # fmt: skip
        with pytest.raises(BulkStillRunning) as caught:
            prices.replay(message_id)
        assert isinstance(caught.value, Transient) and "still RUNNING" in str(caught.value)
        assert shown(chain, shop, data["variant_id"])[0] == before[0]
    finally:
        release.set()  # Shopify finishes the dead pass's operation: its older line lands
        for op in list(chain.shopify.sandbox.bulk._threads):
            chain.shopify.sandbox.bulk.wait(op, 30)
    assert shown(chain, shop, data["variant_id"])[0] == older

    prices.replay(message_id)  # the retry: the operation is settled, the newer price sent
    assert shown(chain, shop, data["variant_id"])[0] == newer
    record = f"{STARTED_PREFIX}{shop.domain}:prices-{shop.shop_id}"
    assert get_redis().hget(record, "settled") == b"1"
    prices.run(shop.shop_id, today=today)
    prices.sweep(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"])[0] == newer


def test_the_leftovers_other_skus_are_sent_again_by_the_next_pass(chain, monkeypatch):
    """A replay of one product settles the operation for all its SKUs: the others, which a direct
    send may also have raced, are due on the next pass whatever their digest."""
    shop, today, data, _where, _before = _priced(chain, "price-leftover-others")
    set_threshold(shop.shop_id, 0)
    erp_update(chain, t.mrl_prodempseg, {"nroempresa": 1, "nrosegmento": 1}, precovalidnormal=77.7)

    real_wait = BulkRunner.wait

    def finished_then_dies(self: BulkRunner, *a: Any, **k: Any) -> Any:
        real_wait(self, *a, **k)
        raise WorkerKilled()

    with monkeypatch.context() as patched:
        patched.setattr(BulkRunner, "wait", finished_then_dies)
        with pytest.raises(WorkerKilled):
            prices.run(shop.shop_id, today=today)
    with session_scope() as session:
        message_id = session.scalars(select(Message.id).where(
            Message.shop_id == shop.shop_id, Message.flow == "prices",
            Message.unit_key == f"price:{data['seq_produto']}")).one()  # fmt: skip
    set_threshold(shop.shop_id, 250)
    prices.replay(message_id)
    with session_scope() as session:
        due = session.scalars(select(Binding).where(
            Binding.shop_id == shop.shop_id, Binding.kind == PRICE_KIND)).all()  # fmt: skip
        others = [b for b in due if b.data.get("seq_produto") != data["seq_produto"]]
        assert others and all(b.data["recheck_on"] <= today.isoformat() for b in others)
        assert all(b.digest in (None, "unknown-outcome") for b in others)
    run = prices.run(shop.shop_id, today=today)
    assert run.products_sent >= 1 and not run.failed
    with session_scope() as session:
        rows = session.scalars(select(Binding).where(
            Binding.shop_id == shop.shop_id, Binding.kind == PRICE_KIND)).all()  # fmt: skip
        assert all(b.digest not in (None, "unknown-outcome") for b in rows if b.shopify_id)


def test_the_reconciliation_does_not_compare_a_price_whose_bulk_outcome_is_unread(chain, monkeypatch):
    """A prices bulk pass marks the prices it sends unknown and keeps their bindings' old ERP state
    until it reads the results: the report read meanwhile (or after its worker died) listed the
    right price as "price in Shopify <new>, ERP <old>", pointing the team to a needless Replay."""
    shop, today, data, where, before = _priced(chain, "price-leftover-recon")
    set_threshold(shop.shop_id, 0)
    new_price = before[0] * 2
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(new_price))
    seen: dict[str, Any] = {}
    real_wait = BulkRunner.wait

    def reconcile_while_the_pass_waits(self: BulkRunner, *a: Any, **k: Any) -> Any:
        operation = real_wait(self, *a, **k)  # Shopify applied the lines; the pass has not read them
        seen["report"] = _catalog(chain, shop)
        return operation

    with monkeypatch.context() as patched:
        patched.setattr(BulkRunner, "wait", reconcile_while_the_pass_waits)
        prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"])[0] == new_price
    assert [r for r in seen["report"]["prices_differ"] if r["variant"] == data["variant_id"]] == []
    assert [r for r in _catalog(chain, shop)["prices_differ"] if r["variant"] == data["variant_id"]] == []
