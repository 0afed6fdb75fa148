"""Writes Shopify never answered (jobs.stock_in_flight) whose location their company no longer
writes, answers other than "still running", and one company's unanswered write among others.

A note stands for a call the worker sent (or died sending) without an answer: it is inserted here
as the stock writer notes it, and the real pass asks about it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from jobs import stock, stock_in_flight, stock_writer
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import Rejected, Transient
from ledger.models import Binding, LocationMapping, MessageStatus
from sandbox.consinco import tables as t

from .chain import erp_update, messages
from .test_stock_flow import _level_at, _set_ignored, _stocked, erp_stock, expected, pick


def _note(shop, company, key, item, location, quantity, sku, *, was=None, **extra):
    """The call a pass of `company` noted before sending it (its answer never came)."""
    entry = {"inventoryItemId": item, "locationId": location, "quantity": quantity, **extra}
    if "compareQuantity" not in extra:
        entry["changeFromQuantity"] = was
    with session_scope() as session:
        stock_in_flight.note(
            session, shop.shop_id, company, key, [entry], f"consinco://estoque/{company}/lote", [sku]
        )


def _notes(shop):
    with session_scope() as session:
        return list(
            session.scalars(
                select(Binding.erp_id).where(
                    Binding.shop_id == shop.shop_id, Binding.kind == stock_in_flight.KIND
                )
            )
        )


def _unmap(shop, company):
    with session_scope() as session:
        session.execute(
            delete(LocationMapping).where(
                LocationMapping.shop_id == shop.shop_id, LocationMapping.nro_empresa == company
            )
        )
    shop.locations.pop(company)


def test_a_write_never_sent_is_not_left_selling_at_the_location_its_company_moved_from(chain):
    """The first pass died sending its call (noted, never reached Shopify); the merchant then moves
    the company to another location. Asking about the call applies it at the old location, which
    no company writes now: it is set to 0 there once the company's levels are in at the new one."""
    shop = chain.install("voo-mudou", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    old, item = shop.locations[1], data["inventory_item_id"]
    _note(shop, 1, "never-sent-1", item, old, 10, sku)
    new = chain.map_location(shop, 1, 2)
    stock.run(shop.shop_id)
    assert _level_at(shop, item, old) == 0
    assert _level_at(shop, item, new) == expected(*erp_stock(chain, 1)[sku])
    assert _notes(shop) == []


def test_a_late_write_over_the_level_of_the_company_mapped_there_now_is_read_and_corrected(chain):
    """Company 1's call at L1 never reached Shopify; L1 is given to company 2, which writes its
    levels there. Company 1, mapped again elsewhere, must not leave its old call's level over
    company 2's: the call is asked about before any company writes, and company 2 reads the level
    before writing it, whatever its binding says."""
    shop = chain.install("voo-outra", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 2)
    first, item = shop.locations[1], data["inventory_item_id"]
    _note(shop, 1, "never-sent-2", item, first, 999, sku)
    _unmap(shop, 1)
    chain.map_location(shop, 2, 0)  # company 2 ships from L1 now
    stock.run(shop.shop_id)
    want = expected(*erp_stock(chain, 2)[sku])
    assert chain.level(shop, item, 2) == want
    chain.map_location(shop, 1, 2)
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 2) == want, "company 2's level at L1 overwritten by company 1's call"


def test_a_late_write_at_a_location_given_to_another_company_is_corrected_by_it(chain):
    """Company 2 already writes at L1 when company 1's call there (noted, never sent) is asked
    about once company 1 is mapped again, to L3: it lands over company 2's level, and company 2
    reads it and writes its own again."""
    shop = chain.install("voo-tomada", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2)
    first, item = shop.locations[1], data["inventory_item_id"]
    _unmap(shop, 1)
    chain.map_location(shop, 2, 0)
    stock.run(shop.shop_id)
    want = expected(*erp_stock(chain, 2)[sku])
    assert chain.level(shop, item, 2) == want
    _note(shop, 1, "never-sent-3", item, first, want + 40, sku, was=want)
    chain.map_location(shop, 1, 2)  # company 1 ships from L3 now: its own pass runs again
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 2) == want


def test_a_late_write_at_a_former_location_is_cleared_not_taken_for_a_persons_raise(chain):
    """A later pass's compare-and-swap call (noted, the worker gone before sending) raised the level
    above the one the company's binding says it sent: that raise is the company's own write, set
    to 0 with the rest when it moves away, not left selling as a person's."""
    shop = chain.install("voo-ergueu", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    old, item = shop.locations[1], data["inventory_item_id"]
    was = _level_at(shop, item, old)
    _note(shop, 1, "never-sent-4", item, old, was + 50, sku, was=was)
    chain.map_location(shop, 1, 2)
    stock.run(shop.shop_id)
    assert _level_at(shop, item, old) == 0


@pytest.mark.parametrize("state", ["refused", "ignored", "closed"])
def test_a_write_of_a_company_no_pass_writes_is_asked_about_and_cleared(chain, state):
    """Company 2's call at L2 never reached Shopify. Company 2 is then left without a location
    (refused), marked not sold in this store, or closed in the ERP: no pass of its own asks about
    the call, yet the call is asked about. Closed, its level is set to 0 at once; mapped nowhere,
    it is left alone as all the company's levels are, and set to 0 once it ships from elsewhere."""
    shop = chain.install(f"voo-{state}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 2)
    second, item = shop.locations[2], data["inventory_item_id"]
    _note(shop, 2, f"never-sent-{state}", item, second, 10, sku)
    if state == "closed":
        erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")
    else:
        _unmap(shop, 2)
        if state == "ignored":
            _set_ignored(shop, [2, 3, 4])
    stock.run(shop.shop_id)
    assert _notes(shop) == []
    if state != "closed":
        assert _level_at(shop, item, second) == 10  # left alone while company 2 is mapped nowhere
        chain.map_location(shop, 2, 2)
        stock.run(shop.shop_id)
    assert (_level_at(shop, item, second) or 0) == 0


@pytest.mark.parametrize("state", ["refused", "ignored"])
def test_an_unmapped_companys_stray_note_leaves_its_levels_alone(chain, state):
    """Company 2 synced at L2; one of its writes there was answered late (applied, the answer lost).
    Company 2 is then mapped nowhere (to be mapped again, or not sold in this store): the note is
    asked about, and every level company 2 wrote at L2, that SKU's included, is left alone (not
    that SKU alone set to 0 while the others stay on sale)."""
    shop = chain.install(f"voo-solto-{state}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    second = shop.locations[2]
    stocked = _stocked(catalog, chain, shop, 2)
    sku, data = pick(catalog, chain, shop, 2)
    now = _level_at(shop, data["inventory_item_id"], second)
    _note(shop, 2, f"late-answer-{state}", data["inventory_item_id"], second, now, sku, was=now)
    _unmap(shop, 2)
    if state == "ignored":
        _set_ignored(shop, [2, 3, 4])
    stock.run(shop.shop_id)
    assert _notes(shop) == []
    rows = erp_stock(chain, 2)
    levels = {s: _level_at(shop, d["inventory_item_id"], second) for s, d in stocked.items()}
    assert levels == {s: expected(*rows[s]) for s in stocked}


def test_a_write_refused_as_a_whole_when_asked_about_is_dropped_and_named(chain):
    """The call under the key is refused as a whole (a GraphQL error: an input an older version
    built, a field the API no longer has): nothing of it ran, nothing under the key still runs. The
    batch's message fails naming its SKU; the same pass then writes that SKU's level, so the message
    is closed as superseded (jobs.stock_superseded), the refusal kept in its detail. Its replay ends
    done."""
    shop = chain.install("voo-recusado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    item = data["inventory_item_id"]
    _note(shop, 1, "old-version-key", item, shop.locations[1], 10, sku, compareQuantity=0)
    run = stock.run(shop.shop_id)  # no Transient: nothing is held
    assert 1 in run.companies and _notes(shop) == []
    assert chain.level(shop, item, 1) == expected(*erp_stock(chain, 1)[sku])
    [named] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == f"stock:1:{digest([sku])[:16]}"]
    assert (
        named.status == MessageStatus.SKIPPED.value
        and named.error_detail["skip"]["key"] == "stock_superseded"
    )
    refusal = named.error_detail["superseded"]
    assert (refusal["status"], refusal["error_class"]) == (MessageStatus.FAILED.value, "rejected")
    assert sku in refusal["error_text"] and named.error_detail["skus"] == [sku]
    assert sku.lower() in named.search_text
    stock.replay(named.id)
    named = next(m for m in messages(shop.shop_id, "stock") if m.id == named.id)
    assert named.status == MessageStatus.DONE.value


@pytest.mark.parametrize("state", ["refused", "ignored", "closed"])
def test_a_stray_write_refused_as_a_whole_of_a_company_writing_nowhere_ends_done_saying_why(chain, state):
    """Company 2's call at L2 is refused as a whole when asked about, company 2 being mapped
    nowhere now (or not sold here, or closed): there is nothing to write, so no failed message
    promises a Retry that sends them (its replay would change nothing); it is done, saying why."""
    shop = chain.install(f"voo-recusado-{state}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2)
    _note(
        shop,
        2,
        f"old-version-{state}",
        data["inventory_item_id"],
        shop.locations[2],
        10,
        sku,
        compareQuantity=0,
    )
    if state == "closed":
        erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")
    else:
        _unmap(shop, 2)
        if state == "ignored":
            _set_ignored(shop, [2, 3, 4])
    stock.run(shop.shop_id)
    assert _notes(shop) == []
    [named] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == f"stock:2:{digest([sku])[:16]}"]
    assert named.status == MessageStatus.DONE.value
    dropped = named.response_payload["dropped"]
    assert sku in dropped and "company 2" in dropped and "retry" not in dropped.lower()


@pytest.mark.parametrize("state", ["refused", "ignored"])
def test_replaying_a_batch_of_a_company_writing_nowhere_ends_it_done_saying_why(chain, monkeypatch, state):
    """A batch's message failed (a SKU's level refused as a whole, company 1 still mapped); company 1
    is then mapped nowhere, or marked not sold here. Its Retry has nothing to write: it ends done,
    saying why, not failed as it was."""
    shop = chain.install(f"voo-replay-{state}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    real = stock_writer.set_available

    def refuses_it(client, quantities, **kwargs):
        if any(q["inventoryItemId"] == data["inventory_item_id"] for q in quantities):
            raise Rejected("Shopify refused the request", system="shopify", code="REFUSED")
        return real(client, quantities, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", refuses_it)
        stock.run(shop.shop_id)
    [named] = [
        m
        for m in messages(shop.shop_id, "stock")
        if m.status == MessageStatus.FAILED.value and m.unit_key.startswith("stock:1:")
    ]
    assert sku in named.request_payload["skus"]
    _unmap(shop, 1)
    if state == "ignored":
        _set_ignored(shop, [1, 3, 4])
    stock.run(shop.shop_id)
    stock.replay(named.id)
    named = next(m for m in messages(shop.shop_id, "stock") if m.id == named.id)
    assert named.status == MessageStatus.DONE.value
    why = named.response_payload["settled"]
    assert "company 1" in why and ("not sold in this store" if state == "ignored" else "location") in why


@pytest.mark.parametrize("failure", ["reauth", "unauthorized"])
def test_a_stray_write_that_landed_is_put_right_after_a_pass_that_could_not_ask_about_it(
    chain, monkeypatch, failure
):
    """Company 1's write at L1 (was -> was+50) landed, its answer lost (noted); company 1 moves to
    L2. The next pass cannot ask about it: no usable token (raised before any HTTP call), a 401.
    Neither says the call was refused: the note is kept (not dropped as "none of it applied", its
    level at L1 then taken for a person's raise and left selling), and a later pass asks about it
    and sets the level company 1 left at L1 to 0. (Failures no later pass cures: test_stock_stray_stuck.)"""
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.errors import ShopifyUnauthorized
    from shopify_app.tokens import ShopNeedsReauth

    shop = chain.install(f"voo-sem-token-{failure}", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    old, item = shop.locations[1], data["inventory_item_id"]
    was = _level_at(shop, item, old)
    entry = {"inventoryItemId": item, "locationId": old, "quantity": was + 50, "changeFromQuantity": was}
    reference = "consinco://estoque/1/lote"
    with session_scope() as session:
        stock_in_flight.note(session, shop.shop_id, 1, "landed-key", [entry], reference, [sku])
    client = for_shop(shop.domain)
    try:  # the original request: applied, its answer lost
        stock_in_flight.set_available(client, [entry], key="landed-key", reference_document_uri=reference)
    finally:
        client.close()
    assert _level_at(shop, item, old) == was + 50
    chain.map_location(shop, 1, 1)
    raised = {
        "reauth": ShopNeedsReauth(shop.domain, "needs_reauth", "token revoked"),
        "unauthorized": ShopifyUnauthorized(401, "[API] Invalid API key or access token"),
    }[failure]
    real = stock_in_flight.set_available

    def cannot_ask(client, quantities, *, key, **kwargs):
        if key == "landed-key":
            raise raised
        return real(client, quantities, key=key, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(stock_in_flight, "set_available", cannot_ask)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    assert _notes(shop) == ["1:landed-key"]
    assert not [m for m in messages(shop.shop_id, "stock") if m.unit_key == f"stock:1:{digest([sku])[:16]}"]
    stock.run(shop.shop_id)
    assert _level_at(shop, item, old) == 0, "company 1's own write left selling at L1 it moved from"
    assert _notes(shop) == []


def test_one_companys_unanswered_write_does_not_hold_another_companys_pass(chain, monkeypatch):
    """Company 1's call is still running in Shopify (asked about: no answer yet), so its pass ends
    transient; company 2, moved L2 -> L3 in the same pass, finishes its own: its watermark and
    location marker are recorded and the levels it left at L2 set to 0."""
    shop = chain.install("voo-vizinho", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    _note(shop, 1, "still-running", data["inventory_item_id"], shop.locations[1], 10, sku, was=0)
    real = stock_in_flight.set_available

    def still_running(client, quantities, *, key, **kwargs):
        if key == "still-running":
            raise Transient("IDEMPOTENCY_CONCURRENT_REQUEST: still in progress")
        return real(client, quantities, key=key, **kwargs)

    monkeypatch.setattr(stock_in_flight, "set_available", still_running)
    former = shop.locations[2]
    stocked = _stocked(catalog, chain, shop, 2)
    assert stocked
    chain.map_location(shop, 2, 2)
    with pytest.raises(Transient):
        stock.run(shop.shop_id)
    left = {s: _level_at(shop, d["inventory_item_id"], former) for s, d in stocked.items()}
    assert {s: q for s, q in left.items() if q} == {}
    with session_scope() as session:
        marker = session.scalars(
            select(Binding.shopify_id).where(
                Binding.shop_id == shop.shop_id, Binding.kind == stock.LOCATION_KIND, Binding.erp_id == "2"
            )
        ).one()
    assert marker == shop.locations[2]
    assert _notes(shop) == ["1:still-running"]


def test_a_late_write_still_running_at_another_companys_location_holds_that_sku_there(chain, monkeypatch):
    """Company 1's call at L1 is still running when asked about (no answer yet); L1 is company 2's
    now. Company 2 writes nothing for that SKU there while it may still apply (it would overwrite
    company 2's level), and the pass ends transient; once answered, company 2's level is put back."""
    shop = chain.install("voo-ainda", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 2)
    first, item = shop.locations[1], data["inventory_item_id"]
    _note(shop, 1, "running-at-l1", item, first, 999, sku)
    _unmap(shop, 1)
    chain.map_location(shop, 2, 0)
    real = stock_in_flight.set_available

    def still_running(client, quantities, *, key, **kwargs):
        if key == "running-at-l1":
            raise Transient("IDEMPOTENCY_CONCURRENT_REQUEST: still in progress")
        return real(client, quantities, key=key, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(stock_in_flight, "set_available", still_running)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    assert chain.level(shop, item, 2) == 0  # left as it was (stocked at 0): nothing sent beside the call
    assert _notes(shop) == ["1:running-at-l1"]
    stock.run(shop.shop_id)  # answered now: 999 landed, company 2 reads it and writes its own
    assert chain.level(shop, item, 2) == expected(*erp_stock(chain, 2)[sku])
    assert _notes(shop) == []
