"""A write Shopify never answered, at a location its company no longer writes (a stray note of
jobs.stock_in_flight), that cannot be asked about again for a reason that is not transient: it
holds nothing and no pass for ever, and a failed message says so, its Retry asking again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import stock, stock_in_flight
from ledger import handled
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.models import Binding, Message, MessageStatus
from shopify_app.admin_api.errors import ShopifyServerError, UnexpectedResponse

from .chain import messages
from .test_stock_flow import _level_at, erp_stock, expected, pick
from .test_stock_in_flight_notes import _note, _notes, _unmap

FAILURES = {
    "rejected": lambda: Rejected("quantities[0].locationId: location not found", system="shopify"),
    "unexpected": lambda: UnexpectedResponse("inventorySetQuantities: no inventoryAdjustmentGroup"),
    "bug": lambda: KeyError("quantities"),
}


def _failing(monkeypatch, target, make):
    real = stock_in_flight.set_available

    def cannot_ask(client, quantities, *, key, **kwargs):
        if key == target:
            raise make()
        return real(client, quantities, key=key, **kwargs)

    monkeypatch.setattr(stock_in_flight, "set_available", cannot_ask)


def _stray(shop, company, key):
    [found] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == f"stock:stray:{company}:{key}"]
    return found


def _marker(shop, company):
    with session_scope() as session:
        return session.scalars(
            select(Binding.shopify_id).where(
                Binding.shop_id == shop.shop_id,
                Binding.kind == stock.LOCATION_KIND,
                Binding.erp_id == str(company),
            )
        ).one()


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_stray_write_that_cannot_be_asked_about_fails_a_message_and_holds_nothing(
    chain, monkeypatch, failure
):
    """Company 1's write at L1 (was -> was+50) landed, its answer lost; company 1 moves to L2. Asking
    about it fails for a reason no retry in a few minutes cures (Shopify or the app refusing it, an
    answer the client cannot read, a bug): the pass is not transient for it, every company's levels
    are written, what it may have applied is put right (set to 0 at L1), and a failed message names
    the company, the location, the SKU and the error. Later passes leave it to that message; its
    Retry asks again and, answered, ends done and drops the note."""
    shop = chain.install(f"voo-preso-{failure}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    old, item = shop.locations[1], data["inventory_item_id"]
    was = _level_at(shop, item, old)
    entry = {"inventoryItemId": item, "locationId": old, "quantity": was + 50, "changeFromQuantity": was}
    reference = "consinco://estoque/1/lote"
    with session_scope() as session:
        stock_in_flight.note(session, shop.shop_id, 1, "stuck-key", [entry], reference, [sku])
    client = stock.shopify_for_shop(shop.domain)
    try:  # the original request: applied, its answer lost
        stock_in_flight.set_available(client, [entry], key="stuck-key", reference_document_uri=reference)
    finally:
        client.close()
    new = chain.map_location(shop, 1, 2)
    with monkeypatch.context() as patched:
        _failing(patched, "stuck-key", FAILURES[failure])
        run = stock.run(shop.shop_id)  # not transient: nothing waits for it
        assert sorted(run.companies) == [1, 2] and run.unfinished == []
        assert _marker(shop, 1) == new, "company 1's pass held by its stray write"
        assert _level_at(shop, item, new) == expected(*erp_stock(chain, 1)[sku])
        assert _level_at(shop, item, old) == 0, "what the write may have applied left selling at L1"
        assert _notes(shop) == ["1:stuck-key"]  # never lose track of it
        message = _stray(shop, 1, "stuck-key")
        assert message.status == MessageStatus.FAILED.value
        for words in ("company 1", old, sku, "retry"):
            assert words.lower() in message.error_text.lower()
        if failure != "bug":
            assert str(FAILURES[failure]().message) in message.error_text
        assert sku.lower() in message.search_text
        attempts = message.attempts
        stock.run(shop.shop_id)  # a scheduled pass leaves it to the message's Retry
        assert _stray(shop, 1, "stuck-key").attempts == attempts
        stock.replay(message.id)  # still failing: failed again, kept
        assert _stray(shop, 1, "stuck-key").status == MessageStatus.FAILED.value
        assert _notes(shop) == ["1:stuck-key"]
    stock.replay(message.id)  # the cause fixed: answered
    assert _stray(shop, 1, "stuck-key").status == MessageStatus.DONE.value
    assert _notes(shop) == []
    assert _level_at(shop, item, old) == 0


def test_a_stuck_stray_write_at_another_companys_location_does_not_hold_its_skus(chain, monkeypatch):
    """Company 1's call at L1 (never answered) cannot be asked about (refused by the app, not by
    Shopify); L1 is company 2's now. Company 2 does not wait for it: it reads and writes its own
    level of that SKU, its pass ends clean. The Retry, once the cause is fixed, applies the call at
    last and company 2's level is put back by the pass the Retry runs."""
    shop = chain.install("voo-preso-outra", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 2)
    first, item = shop.locations[1], data["inventory_item_id"]
    _note(shop, 1, "stuck-at-l1", item, first, 999, sku)
    _unmap(shop, 1)
    chain.map_location(shop, 2, 0)  # company 2 ships from L1 now
    want = expected(*erp_stock(chain, 2)[sku])
    with monkeypatch.context() as patched:
        _failing(patched, "stuck-at-l1", FAILURES["rejected"])
        run = stock.run(shop.shop_id)
    assert 2 in run.companies and run.unfinished == []
    assert chain.level(shop, item, 2) == want
    message = _stray(shop, 1, "stuck-at-l1")
    assert message.status == MessageStatus.FAILED.value and first in message.error_text
    stock.replay(message.id)
    assert _stray(shop, 1, "stuck-at-l1").status == MessageStatus.DONE.value
    assert chain.level(shop, item, 2) == want, "company 2's level left at company 1's late 999"
    assert _notes(shop) == []


def test_a_stray_write_no_answer_for_pass_after_pass_is_shown_retrying(chain, monkeypatch):
    """Shopify answers 5xx every time the stray call is asked about: the pass is transient as
    before (RQ and the next pass ask again), and a message names the company, the location, the SKU
    and the error, retrying, its attempts counting the passes; once answered it ends done."""
    shop = chain.install("voo-5xx", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    old, item = shop.locations[1], data["inventory_item_id"]
    _note(shop, 1, "no-answer", item, old, 10, sku)
    chain.map_location(shop, 1, 2)
    with monkeypatch.context() as patched:
        _failing(patched, "no-answer", lambda: ShopifyServerError("Shopify answered HTTP 503", status=503))
        for _ in range(2):
            with pytest.raises(Transient):
                stock.run(shop.shop_id)
    message = _stray(shop, 1, "no-answer")
    assert message.status == MessageStatus.RETRYING.value and message.attempts == 2
    for words in ("company 1", old, sku, "503"):
        assert words.lower() in message.error_text.lower()
    assert _notes(shop) == ["1:no-answer"]
    stock.run(shop.shop_id)
    assert _stray(shop, 1, "no-answer").status == MessageStatus.DONE.value
    assert _notes(shop) == [] and (_level_at(shop, item, old) or 0) == 0


def test_a_stuck_note_record_is_kept_until_answered(chain, monkeypatch):
    """The note of a stuck write is marked so (the scheduled passes leave it), never dropped."""
    shop = chain.install("voo-marcado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    _note(shop, 1, "marked", data["inventory_item_id"], shop.locations[1], 10, sku)
    chain.map_location(shop, 1, 2)
    with monkeypatch.context() as patched:
        _failing(patched, "marked", FAILURES["unexpected"])
        stock.run(shop.shop_id)
    with session_scope() as session:
        [note] = session.scalars(
            select(Binding.data).where(Binding.shop_id == shop.shop_id, Binding.kind == stock_in_flight.KIND)
        ).all()
    assert note.get("stuck") and note["quantities"] and note["skus"] == [sku]


def test_a_stuck_write_whose_retry_gets_no_answer_is_asked_again_by_later_passes(chain, monkeypatch):
    """A stuck note's Retry meets a 503: its message says it is retrying and that every stock pass
    asks again, so the note is stuck no more and the scheduled passes ask about it; once Shopify
    answers, the note goes and the message ends done (never left retrying for ever)."""
    shop = chain.install("voo-preso-503", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    _note(shop, 1, "k503", data["inventory_item_id"], shop.locations[1], 10, sku)
    chain.map_location(shop, 1, 2)
    with monkeypatch.context() as patched:
        _failing(patched, "k503", FAILURES["rejected"])
        stock.run(shop.shop_id)
    message = _stray(shop, 1, "k503")
    assert message.status == MessageStatus.FAILED.value
    with monkeypatch.context() as patched:
        _failing(patched, "k503", lambda: ShopifyServerError("Shopify answered HTTP 503", status=503))
        with pytest.raises(Transient):
            stock.replay(message.id)
        shown = _stray(shop, 1, "k503")
        assert shown.status == MessageStatus.RETRYING.value
        assert "every stock pass asks again" in shown.error_text
        with pytest.raises(Transient):  # a scheduled pass asks again (still no answer)
            stock.run(shop.shop_id)
        assert _stray(shop, 1, "k503").attempts == shown.attempts + 1
    stock.run(shop.shop_id)  # Shopify answers again
    assert _notes(shop) == []
    assert _stray(shop, 1, "k503").status == MessageStatus.DONE.value


def test_a_stuck_write_closed_as_handled_is_dropped_and_never_asked_again(chain, monkeypatch):
    """A person closes the stuck note's message with "Mark as handled": they settled it. The next
    pass drops the note (nothing asks about it again, nothing holds for it), the message stays
    closed as handled, and a Retry queued before ends without running."""
    shop = chain.install("voo-preso-tratado", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    _note(shop, 1, "settled", data["inventory_item_id"], shop.locations[1], 10, sku)
    chain.map_location(shop, 1, 2)
    asked: list[str] = []
    real = stock_in_flight.set_available

    def counting(client, quantities, *, key, **kwargs):
        if key == "settled":
            asked.append(key)
            raise FAILURES["rejected"]()
        return real(client, quantities, key=key, **kwargs)

    monkeypatch.setattr(stock_in_flight, "set_available", counting)
    stock.run(shop.shop_id)
    message = _stray(shop, 1, "settled")
    assert message.status == MessageStatus.FAILED.value and asked == ["settled"]
    with session_scope() as session:
        handled.mark(session, session.get(Message, message.id), by="1", note="checked the levels by hand")
    run = stock.run(shop.shop_id)
    assert run.unfinished == [] and 1 in run.companies
    assert _notes(shop) == [], "the note of a message closed as handled is kept for ever"
    assert asked == ["settled"]
    assert stock.replay(message.id) == handled.KEY
    closed = _stray(shop, 1, "settled")
    assert closed.status == MessageStatus.SKIPPED.value and handled.info(closed) is not None
