"""The Retry of the prices flow's held "price:unlisted" message is a person's confirmation of the
SKUs that message named, and of nothing else (jobs.absence): what the new whole read finds
missing besides follows the ordinary rule (unsure read, too many: held again, named); a message a
later read closed confirms nothing; and a Retry that could not act says so on its message."""

from __future__ import annotations

from erp import paging
from jobs import price_unlisted, prices
from ledger.db import session_scope
from ledger.mappings import set_store_link

from .test_price_records import price_item_served_with
from .test_price_unlisted import _drop_segment_2_rows, _message, _price
from .test_setup_moves import no_promotions, today


def _held_for_one_product(chain, monkeypatch, name: str):
    """The link moves to segment 2, which lists no price for the first product, on a read the
    client cannot prove whole: its SKUs are held on sale. Returns (shop, catalog, seqs, held SKUs)."""
    no_promotions(chain.consinco.erp.store)
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    seqs = sorted({data["seq_produto"] for data in catalog.values()})
    seen = sorted(sku for sku, data in catalog.items() if data["seq_produto"] == seqs[0])
    _drop_segment_2_rows(chain, seqs[:1])
    monkeypatch.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=today())
    held = _message(shop, price_unlisted.UNIT)
    assert held is not None and held.status == "failed" and held.error_detail["skus"] == seen
    return shop, catalog, seqs, seen


def test_a_confirmed_retry_takes_off_sale_only_the_skus_its_message_named(chain, monkeypatch):
    """Later a second product's price goes missing too, on a read still not provable whole; the
    person checked the first and clicks Retry: only the SKUs the message named go off sale, the
    second product's stay on sale and the message names them now."""
    shop, catalog, seqs, seen = _held_for_one_product(chain, monkeypatch, "confirma")
    unseen = sorted(sku for sku, data in catalog.items() if data["seq_produto"] == seqs[1])
    _drop_segment_2_rows(chain, seqs[1:2])

    prices.replay(_message(shop, price_unlisted.UNIT).id)
    assert all(_price(shop, sku).get("sale_active") is False for sku in seen)
    assert all(_price(shop, sku).get("sale_active") is True for sku in unseen), "SKUs no one was shown"
    again = _message(shop, price_unlisted.UNIT)
    assert again.status == "failed" and again.error_detail["skus"] == unseen
    assert f"the {len(seen)} SKU(s) confirmed by the Retry were taken off sale" in again.error_text


def test_replaying_a_held_message_already_closed_confirms_nothing(chain, monkeypatch):
    """The Retry took the named SKUs off sale and closed the message (done). Later an operator
    clicks Replay on it, a second product missing on a read still not provable whole: an ordinary
    whole read, which takes nothing off sale and holds the new ones for a person again."""
    shop, catalog, seqs, seen = _held_for_one_product(chain, monkeypatch, "fechada")
    prices.replay(_message(shop, price_unlisted.UNIT).id)
    done = _message(shop, price_unlisted.UNIT)
    assert done.status == "done" and all(_price(shop, sku).get("sale_active") is False for sku in seen)
    unseen = sorted(sku for sku, data in catalog.items() if data["seq_produto"] == seqs[1])
    _drop_segment_2_rows(chain, seqs[1:2])

    prices.replay(done.id)  # "Replay" of the done message
    assert all(_price(shop, sku).get("sale_active") is True for sku in unseen), "taken off on an unsure read"
    again = _message(shop, price_unlisted.UNIT)
    assert again.status == "failed" and again.error_detail["skus"] == unseen


def test_a_confirmed_retry_that_cannot_tell_says_why_nothing_was_taken_off_sale(chain, monkeypatch):
    """The Retry's whole read serves a price record without its SKU (unreadable, and whose it is
    cannot be told: any of the held SKUs may be it), so nothing goes off sale. The message says
    why this time instead of keeping its old text, still names the SKUs, and a later Retry acts."""
    shop, catalog, seqs, seen = _held_for_one_product(chain, monkeypatch, "ilegivel")
    before = _message(shop, price_unlisted.UNIT)
    other = next(sku for sku, data in sorted(catalog.items()) if data["seq_produto"] == seqs[-1])
    with price_item_served_with(other, 1, idSku=None):
        prices.replay(before.id)
    assert all(_price(shop, sku).get("sale_active") is True for sku in seen)
    after = _message(shop, price_unlisted.UNIT)
    assert after.status == "failed" and after.attempts == before.attempts + 1
    assert after.error_detail["code"] == "UNLISTED_HELD" and after.error_detail["skus"] == seen
    assert after.error_detail.get("retry_alone")
    assert "could not be read" in after.error_text and "none was taken off sale this time" in after.error_text

    prices.replay(after.id)  # the record reads again: the Retry acts
    assert all(_price(shop, sku).get("sale_active") is False for sku in seen)
    assert _message(shop, price_unlisted.UNIT).status == "done"
