"""A write Shopify never answered at the location its company still writes (jobs.stock_in_flight,
resolved by the company's own pass) that cannot be asked about again for a reason that is not
transient: its SKUs stay held, but the pass is not transient for ever, a failed message names it,
and its Retry asks again."""

from __future__ import annotations

import pytest

from jobs import stock, stock_in_flight, stock_writer
from ledger import handled
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api.errors import ShopifyServerError

from .chain import erp_update
from .test_stock_flow import _level_at, erp_stock, expected, pick
from .test_stock_in_flight_notes import _notes
from .test_stock_stray_stuck import FAILURES, _failing, _stray


def _landed(chain, shop, catalog, key):
    """Company 1's write at its own location (was -> was+50) applied, its answer lost."""
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    location, item = shop.locations[1], data["inventory_item_id"]
    was = _level_at(shop, item, location)
    entry = {"inventoryItemId": item, "locationId": location, "quantity": was + 50, "changeFromQuantity": was}
    reference = "consinco://estoque/1/lote"
    with session_scope() as session:
        stock_in_flight.note(session, shop.shop_id, 1, key, [entry], reference, [sku])
    client = stock.shopify_for_shop(shop.domain)
    try:
        stock_in_flight.set_available(client, [entry], key=key, reference_document_uri=reference)
    finally:
        client.close()
    return sku, item, location, was + 50


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_an_own_write_that_cannot_be_asked_about_fails_a_message_not_every_pass(chain, monkeypatch, failure):
    """Asking about company 1's own unanswered write fails for a reason no retry in minutes cures:
    the pass ends clean (not transient), its SKU stays held (not written over what the write may
    have applied), the note is kept, and a failed message names company, location, SKU and the
    error. Scheduled passes leave it to that message; its Retry, answered, ends it done and the SKU
    is written again."""
    shop = chain.install(f"proprio-preso-{failure}", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    sku, item, location, landed = _landed(chain, shop, catalog, "own-stuck")
    with monkeypatch.context() as patched:
        _failing(patched, "own-stuck", FAILURES[failure])
        run = stock.run(shop.shop_id)  # not transient
        assert sorted(run.companies) == [1, 2] and run.unfinished == []
        assert _level_at(shop, item, location) == landed, "held SKU written while its write is unknown"
        assert _notes(shop) == ["1:own-stuck"]
        message = _stray(shop, 1, "own-stuck")
        assert message.status == MessageStatus.FAILED.value
        for words in ("company 1", location, sku, "retry"):
            assert words.lower() in message.error_text.lower()
        if failure != "bug":
            assert str(FAILURES[failure]().message) in message.error_text
        attempts = message.attempts
        stock.run(shop.shop_id)  # a scheduled pass leaves it to the message's Retry
        assert _stray(shop, 1, "own-stuck").attempts == attempts
        assert _notes(shop) == ["1:own-stuck"]
        stock.replay(message.id)  # still failing: failed again, kept
        assert _stray(shop, 1, "own-stuck").status == MessageStatus.FAILED.value
        assert _notes(shop) == ["1:own-stuck"]
    stock.replay(message.id)  # the cause fixed: answered, the SKU written again in that pass
    assert _stray(shop, 1, "own-stuck").status == MessageStatus.DONE.value
    assert _notes(shop) == []
    assert _level_at(shop, item, location) == expected(*erp_stock(chain, 1)[sku])


def test_an_own_stuck_write_whose_retry_gets_no_answer_is_asked_again_by_later_passes(chain, monkeypatch):
    """The Retry meets a 503: transient, the message retrying, every pass asks again (the SKU held,
    the pass transient); once answered the note goes, the message ends done and the SKU is written."""
    shop = chain.install("proprio-503", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, item, location, _ = _landed(chain, shop, catalog, "own-503")
    with monkeypatch.context() as patched:
        _failing(patched, "own-503", FAILURES["rejected"])
        stock.run(shop.shop_id)
    message = _stray(shop, 1, "own-503")
    with monkeypatch.context() as patched:
        _failing(patched, "own-503", lambda: ShopifyServerError("Shopify answered HTTP 503", status=503))
        with pytest.raises(Transient):
            stock.replay(message.id)
        assert _stray(shop, 1, "own-503").status == MessageStatus.RETRYING.value
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    for _ in range(2):  # answered, then the SKU read again and written
        stock.run(shop.shop_id)
    assert _notes(shop) == []
    assert _stray(shop, 1, "own-503").status == MessageStatus.DONE.value
    assert _level_at(shop, item, location) == expected(*erp_stock(chain, 1)[sku])


def test_an_own_stuck_write_closed_as_handled_is_dropped_and_its_sku_written(chain, monkeypatch):
    """A person closes the message with "Mark as handled": the note goes and the SKU, held until
    then, is read and written again."""
    shop = chain.install("proprio-tratado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, item, location, _ = _landed(chain, shop, catalog, "own-handled")
    with monkeypatch.context() as patched:
        _failing(patched, "own-handled", FAILURES["rejected"])
        stock.run(shop.shop_id)
        message = _stray(shop, 1, "own-handled")
        with session_scope() as session:
            handled.mark(session, session.get(Message, message.id), by="1", note="checked by hand")
        for _ in range(2):
            run = stock.run(shop.shop_id)
    assert run.unfinished == [] and _notes(shop) == []
    assert _level_at(shop, item, location) == expected(*erp_stock(chain, 1)[sku])


def test_a_sku_held_by_a_stuck_write_is_written_from_the_erps_figure_read_meanwhile(chain, env, monkeypatch):
    """Held while its write cannot be asked about, the pass is clean and its watermark passes the
    SKU's ERP change: once the write is answered, the SKU is written from the figure read while it
    was held, not from the older one its binding kept (which would give back units the ERP sold)."""
    env.setenv("ERP_READ_OVERLAP", "0.000001")  # no overlap: a row behind the watermark is not read again
    shop = chain.install("preso-base", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=20)
    item, location = data["inventory_item_id"], shop.locations[1]
    row, _ = erp_stock(chain, 1)[sku]
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 1, "seqproduto": data["seq_produto"]},
               estqloja=row.store - 10)  # fmt: skip
    lower = expected(*erp_stock(chain, 1)[sku])
    real = stock_writer.set_available

    def answer_lost(client, quantities, **kwargs):  # applied in Shopify, its answer lost
        real(client, quantities, **kwargs)
        raise Transient("read timeout")

    with monkeypatch.context() as patch:
        patch.setattr(stock_writer, "set_available", answer_lost)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    assert _level_at(shop, item, location) == lower
    [note] = _notes(shop)
    key = note.split(":", 1)[1]
    with monkeypatch.context() as patch:  # asking about it fails for a reason no retry soon cures
        _failing(patch, key, FAILURES["unexpected"])
        assert stock.run(shop.shop_id).unfinished == []  # held, the pass clean: the watermark moves on
    stock.replay(_stray(shop, 1, key).id)  # the person's Retry: answered now
    stock.run(shop.shop_id)

    assert _notes(shop) == []
    assert _level_at(shop, item, location) == lower
