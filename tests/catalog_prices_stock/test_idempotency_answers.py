"""Shopify's answers to an idempotency key are no refusal of the stock: a resend after a timeout
that meets the first request still running (IDEMPOTENCY_CONCURRENT_REQUEST) waits for it under
the same key, and a retry after a request Shopify failed (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED)
goes again under a new key. Both come from the client's own retries, against the sandbox
answering as Shopify does (sandbox/shopify/idempotency.py)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from jobs import stock, stock_in_flight
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, MessageStatus
from sandbox.shopify import idempotency
from shopify_app.admin_api import client as client_module
from shopify_app.admin_api.executor import RetryPolicy
from shopify_app.admin_api.transport import AdminTransport

from .chain import messages
from .test_stock_flow import _applied_then_lost, _erp_level, erp_stock, expected, pick

FIELD = "inventorySetQuantities"


def _levels_as_the_erp_says(chain, shop, catalog) -> None:
    rows = erp_stock(chain, 1)
    for sku, data in catalog.items():
        want = expected(*rows[sku], weighed=data["weighed"])
        if want is not None:
            assert chain.level(shop, data["inventory_item_id"], 1) == want, sku


def _all_done(shop) -> None:
    """Company 1's messages all done (the others have no location: parked, as ever)."""
    ours = [m for m in messages(shop.shop_id, "stock") if not m.unit_key.endswith(":location")]
    open_ = [m for m in ours if m.status != MessageStatus.DONE.value]
    assert ours and open_ == [], [(m.unit_key, m.status, m.error_class, m.error_text) for m in open_]


def _short_timeout(monkeypatch) -> None:
    """Every client of the test waits 1 s for an answer (the client passes its own timeout to the
    transport, which this overrides), so a request Shopify holds longer times out."""

    def transport(*args, **kwargs):
        return AdminTransport(*args, **{**kwargs, "timeout": 1})

    monkeypatch.setattr(client_module, "AdminTransport", transport)


def test_a_resend_meeting_the_first_request_still_running_waits_for_it(chain, calls, monkeypatch):
    """Shopify takes longer than the client waits: the client's resend under the same key is
    answered 'in progress'; the batch waits and sends the same key again, which then answers
    the first request's result. Nothing is refused, nothing applied twice."""
    _short_timeout(monkeypatch)
    shop = chain.install("idem-concorrente", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    idempotency.hold_next(chain.shopify.sandbox, shop.name, FIELD, 3.0)
    mark = calls.mark()
    stock.run(shop.shop_id)
    _all_done(shop)
    writes = [n for n in calls.names(mark, shop.name) if n == "InventorySetAvailable"]
    assert len(writes) >= 3  # the held one, the resend after the timeout, the one answered
    _levels_as_the_erp_says(chain, shop, catalog)


def test_a_retry_after_shopify_failed_the_request_goes_under_a_new_key(chain, monkeypatch):
    """Shopify fails the write on its side (a 5xx); the client's retry under the same key is
    answered 'a previous request with this key failed, retry with a new key': the batch goes
    again under a new key and lands."""
    shop = chain.install("idem-anterior", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    keys: list[str] = []
    real = idempotency.run_idempotent

    def seen(fn, source, info, args):
        keys.append(idempotency._key(info))
        return real(fn, source, info, args)

    monkeypatch.setattr(idempotency, "run_idempotent", seen)
    idempotency.fail_next(chain.shopify.sandbox, shop.name, FIELD)
    stock.run(shop.shop_id)
    _all_done(shop)
    assert keys[0] == keys[1] != keys[2]  # failed, refused as failed before, renewed
    _levels_as_the_erp_says(chain, shop, catalog)


def _notes(shop) -> list[Binding]:
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == stock_in_flight.KIND)
        ).all()
        session.expunge_all()
        return list(rows)


def test_a_first_request_applied_late_does_not_undo_the_retry_of_an_item_not_stocked_yet(chain, monkeypatch):
    """R1 (target 10, no compare: the item has no level at the location yet) is still running when
    the executor's waits run out: the pass is transient. The ERP drops to 4. RQ's retry must not
    send a second request beside R1 (it would set 4 and R1, landing late, 10, with the ledger
    saying 4): it asks about R1 under R1's own key and leaves the item alone while R1 runs; the
    retry after R1 ended finds its 10 and writes 4 from it."""
    _short_timeout(monkeypatch)
    monkeypatch.setattr(
        RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.05
    )  # waits run out fast
    shop = chain.install("idem-tarde", 1, 1, [1])
    catalog = chain.load_catalog(shop, stocked=False, priced=True)  # first pass: nothing stocked yet
    sku, data = pick(catalog, chain, shop, 1)
    item = data["inventory_item_id"]
    _erp_level(chain, 1, data["seq_produto"], 10)
    release = threading.Event()  # a slow Shopify: R1 runs until the test lets it end
    idempotency.hold_next(chain.shopify.sandbox, shop.name, FIELD, release)
    try:
        with pytest.raises(Transient):  # still in progress after the executor's waits: RQ retries the pass
            stock.run(shop.shop_id)
        assert idempotency.running(chain.shopify.sandbox, shop.name, FIELD), "R1 must still be running"
        _erp_level(chain, 1, data["seq_produto"], 4)  # meanwhile the ERP sold 6 at the counter
        with pytest.raises(Transient):  # RQ's retry: R1 still runs, so nothing is sent for the item
            stock.run(shop.shop_id)
        assert idempotency.running(chain.shopify.sandbox, shop.name, FIELD), "the retry ran beside R1"
        assert chain.level(shop, item, 1) is None  # no second request beside R1
    finally:
        release.set()  # R1 ends: it sets 10
    deadline = time.monotonic() + 30
    while idempotency.running(chain.shopify.sandbox, shop.name, FIELD) and time.monotonic() < deadline:
        time.sleep(0.05)
    stock.run(shop.shop_id)  # RQ's next retry
    want = expected(*erp_stock(chain, 1)[sku])
    assert want == 4
    assert chain.level(shop, item, 1) == want, (
        f"Shopify shows {chain.level(shop, item, 1)}, the ERP has {want}"
    )
    _all_done(shop)
    assert _notes(shop) == []


def test_an_unanswered_write_is_asked_about_under_its_key_and_a_mismatch_ends_it(chain, monkeypatch):
    """A write applied with its answer lost is asked about by the next pass under its own key.
    A note that no longer matches what was sent under that key (an input built otherwise) is
    answered IDEMPOTENCY_KEY_PARAMETER_MISMATCH: a request under it finished, so the note ends and
    the pass writes the level from what Shopify shows, not holding the SKU for ever."""
    shop = chain.install("idem-divergente", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=20)
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], -5)
    _applied_then_lost(monkeypatch, shop)
    [note] = _notes(shop)
    assert sku in note.data["skus"]
    with session_scope() as session:  # as another version would have built the same call
        row = session.get(Binding, note.id)
        quantities = [{**q, "quantity": q["quantity"] + 1} for q in row.data["quantities"]]
        row.data = {**row.data, "quantities": quantities}
    keys: list[str] = []
    real = idempotency.run_idempotent

    def seen(fn, source, info, args):
        keys.append(idempotency._key(info))
        return real(fn, source, info, args)

    monkeypatch.setattr(idempotency, "run_idempotent", seen)
    stock.run(shop.shop_id)
    assert keys[0] == note.digest  # asked under its own key first
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s)
    assert _notes(shop) == []
    _all_done(shop)
