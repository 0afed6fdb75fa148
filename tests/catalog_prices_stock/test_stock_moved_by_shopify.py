"""Levels Shopify moved by itself (jobs.stock_reread) and the passes that read them again.

A level set aside as "moving" (sold before each of its compare-and-swap rounds) is sent by the next
pass, which must still count the movements on that SKU: forgotten with the pass that set it aside,
the drop they explain read as a sale at the next pass, and its units stayed off sale until the
product's ERP row moved again. A level read again and found at its target is not written, nor
counted as written."""

from __future__ import annotations

import pytest
from by_hand import staff_api

from jobs import stock, stock_reread, stock_writer
from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import Message, Role, utcnow

from .test_reconcile_stock_fix import drifted_shop


@pytest.fixture
def drifted(chain):
    return drifted_shop(chain)


def _sold_before_each_write(monkeypatch, chain, shop, item):
    """An online sale lands just before each of the next three writes of `item` (its order not known
    yet): the writer sets the SKU aside as moving."""
    real = stock_writer.set_available
    sales = {"n": 0}

    def busy(client, quantities, **kwargs):
        if sales["n"] < 3 and any(q["inventoryItemId"] == item for q in quantities):
            sales["n"] += 1
            chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 1)
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_writer, "set_available", busy)
    return real


def _moves_left(shop_id: int) -> list[str]:
    with session_scope() as session:
        return [m.key for m in stock_reread.read(session, shop_id).found]


def test_a_fixs_moving_sku_keeps_the_persons_fix_for_the_next_pass(env, chain, drifted, monkeypatch):
    shop, [_, (lowered, low), _], targets, report = drifted
    item = low["inventory_item_id"]
    real = _sold_before_each_write(monkeypatch, chain, shop, item)
    client, auth = staff_api(env, shop, Role.OPERATOR)
    answer = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert answer.status_code == 202, answer.get_json()
    run_worker(burst=True, simple=True, with_scheduler=False)
    with session_scope() as session:
        fix = session.get(Message, answer.get_json()["message_id"])
        assert fix.response_payload["moving"] == [lowered], fix.response_payload
    assert [key.split("|")[0] for key in _moves_left(shop.shop_id)] == [lowered]  # kept for the next pass
    monkeypatch.setattr(stock_writer, "set_available", real)

    stock.run(shop.shop_id)  # "the next pass sends them"
    # the person confirmed the drop of 3 made by hand was no sale; the 3 drops since are sales
    assert chain.level(shop, item, 1) == targets[lowered] - 3
    assert _moves_left(shop.shop_id) == []  # that pass ended clean: done with


def test_a_pass_that_sets_a_moved_sku_aside_keeps_its_movement_for_the_next_pass(
    env, chain, drifted, monkeypatch
):
    """The same in the stock flow's own passes: Shopify lowered the level by 3 itself (a picking's
    substitute committed, say), the pass sets the SKU aside as moving, the next one still counts it."""
    shop, [_, (lowered, low), _], targets, _report = drifted
    item = low["inventory_item_id"]
    with session_scope() as session:  # the fixture's hand-made drop of 3, told as Shopify's own movement
        stock_reread.note(session, shop.shop_id, 1, "edit:test", {lowered: -3}, utcnow())
    real = _sold_before_each_write(monkeypatch, chain, shop, item)
    first = stock.run(shop.shop_id)
    assert first.moving == [lowered], first
    assert _moves_left(shop.shop_id) == [f"{lowered}|edit:test"]
    monkeypatch.setattr(stock_writer, "set_available", real)

    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == targets[lowered] - 3  # the 3 sales kept out, no more
    assert _moves_left(shop.shop_id) == []


def test_a_moved_level_found_at_its_target_is_read_and_not_counted_as_written(env, chain, calls):
    shop = chain.install("relido", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg="1", priced=True)
    stock.run(shop.shop_id)
    sku = next(s for s, data in sorted(catalog.items()) if not data["weighed"])
    with session_scope() as session:  # a restocking cancel of an unknown size: read it again
        stock_reread.note(session, shop.shop_id, 1, "cancel:test", {sku: 0}, utcnow())
    mark = calls.mark()
    again = stock.run(shop.shop_id)
    assert "inventorySetQuantities" not in " ".join(calls.names(mark)), calls.names(mark)
    assert again.levels_sent == 0, again  # (it said 1: the level Shopify showed already)
    assert _moves_left(shop.shop_id) == []
