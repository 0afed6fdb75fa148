"""Stock levels a company leaves at a location it no longer ships from (jobs.stock_vacate): a
location given to another company, a move interrupted and then undone or sent elsewhere, and the
levels Shopify refuses to set to 0."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import stock, stock_vacate, stock_writer
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.mappings import set_location_mapping
from ledger.models import Binding, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api.errors import ShopifyUserErrors, UnexpectedResponse, UserError

from .chain import messages
from .test_stock_flow import _level_at, _stocked, erp_stock, expected


def _without_erp_row(chain, company, seq):
    """The company carries no stock row of the product any more (its store does not sell it)."""
    with chain.consinco.erp.store.write() as (conn, _now):
        conn.execute(
            t.mrl_produtoempresa.delete().where(
                t.mrl_produtoempresa.c.nroempresa == company, t.mrl_produtoempresa.c.seqproduto == seq
            )
        )


def _vacate_records(shop):
    with session_scope() as session:
        found = session.scalars(
            select(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == stock_vacate.VACATE_KIND)
        )
        return {b.erp_id: dict(b.data or {}) for b in found}


def test_a_location_line_given_to_another_company_keeps_none_of_the_old_companys_levels(chain):
    """The De:Para line of a location edited from company 1 to company 2: company 1 is refused (no
    location), company 2's full pass writes its own levels there, and a level company 1 had
    written there for a SKU company 2 has no stock row of is set to 0, not left sellable at a
    location whose orders go to a company without it."""
    shop = chain.install("linha-muda", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    location = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    sku, data = next(iter(stocked.items()))
    assert _level_at(shop, data["inventory_item_id"], location) > 0
    _without_erp_row(chain, 2, data["seq_produto"])
    assert sku not in erp_stock(chain, 2)
    with session_scope() as session:  # the line of `location` edited: company 1 -> company 2
        set_location_mapping(session, shop.shop_id, 2, location)
    shop.locations.pop(1)
    shop.locations[2] = location
    run = stock.run(shop.shop_id)
    assert 2 in run.companies and 1 in run.refused
    assert _level_at(shop, data["inventory_item_id"], location) == 0
    rows = erp_stock(chain, 2)
    for other, d in stocked.items():
        if other in rows and expected(*rows[other]) is not None:
            assert _level_at(shop, d["inventory_item_id"], location) == expected(*rows[other]), other
    assert _vacate_records(shop) == {}


def test_a_level_the_new_company_has_no_stock_control_of_is_set_to_0_not_left_as_the_old_companys(chain):
    """The line given to company 2, whose ERP row of a product has no stock control: company 2
    writes no level of it there (its binding holds none), so company 1's level is vacated."""
    shop = chain.install("linha-sem-controle", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    location = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    sku, data = next(iter(stocked.items()))
    assert _level_at(shop, data["inventory_item_id"], location) > 0
    with chain.consinco.erp.store.write() as (conn, now):  # company 2 sells it without stock control
        rows = t.mrl_produtoempresa
        mine = (rows.c.nroempresa == 2) & (rows.c.seqproduto == data["seq_produto"])
        conn.execute(rows.update().where(mine).values(indcontrolaestoqueecomm="N", dtaalteracao=now))
    assert not erp_stock(chain, 2)[sku][0].controlled
    with session_scope() as session:  # the line of `location` edited: company 1 -> company 2
        set_location_mapping(session, shop.shop_id, 2, location)
    shop.locations.pop(1)
    shop.locations[2] = location

    stock.run(shop.shop_id)

    assert _level_at(shop, data["inventory_item_id"], location) == 0
    assert _vacate_records(shop) == {}


def test_two_companies_swapping_locations_leave_none_of_each_others_levels(chain):
    """Companies 1 and 2 swap locations: each location holds the levels of the company mapped to it
    now, and a SKU the new company has no stock row of is at 0 there, not at the other's level."""
    shop = chain.install("troca-dupla", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    first, second = shop.locations[1], shop.locations[2]
    sku, data = next(iter(_stocked(catalog, chain, shop, 1).items()))
    _without_erp_row(chain, 2, data["seq_produto"])
    chain.map_location(shop, 1, 2)  # through a third location: a company has one location
    chain.map_location(shop, 2, 0)
    chain.map_location(shop, 1, 1)
    stock.run(shop.shop_id)
    assert _level_at(shop, data["inventory_item_id"], first) == 0, sku
    for company, location in ((1, second), (2, first)):
        rows = erp_stock(chain, company)
        for other, d in catalog.items():
            if other in rows and not d["weighed"] and expected(*rows[other]) is not None:
                assert _level_at(shop, d["inventory_item_id"], location) == expected(*rows[other]), other
    assert _vacate_records(shop) == {}


def _first_pass_fails_after_one_batch(monkeypatch, shop):
    """The next pass writes one batch of 5 levels, then Shopify is unreachable."""
    real = stock_writer.set_available
    sent = []

    def second_batch_fails(client, quantities, **kwargs):
        sent.append(len(quantities))
        if len(sent) > 1:
            raise Transient("Shopify unreachable")
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock, "BATCH_SIZE", 5)
    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", second_batch_fails)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)


@pytest.mark.parametrize("then", ["undone", "moved on"])
def test_levels_an_interrupted_move_wrote_are_cleared_when_the_move_is_undone_or_goes_elsewhere(
    chain, monkeypatch, then
):
    """Company 1 is moved L1 -> L2 and the pass fails after one batch landed at L2 (its marker stays
    at L1). The merchant then maps it back to L1, or on to L3: L2, mapped to no company, keeps
    none of the levels that batch wrote; every level the company left anywhere but where it ships
    from now is recorded, not only those at its marker's location."""
    shop = chain.install("muda-e-volta", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    home = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    interrupted = chain.map_location(shop, 1, 1)
    _first_pass_fails_after_one_batch(monkeypatch, shop)
    written = {
        s: d for s, d in stocked.items() if (_level_at(shop, d["inventory_item_id"], interrupted) or 0) > 0
    }
    assert written
    now = chain.map_location(shop, 1, 0 if then == "undone" else 2)
    stock.run(shop.shop_id)
    left = {s: _level_at(shop, d["inventory_item_id"], interrupted) for s, d in written.items()}
    assert left == {s: 0 for s in written}
    rows = erp_stock(chain, 1)
    for sku, d in stocked.items():
        assert _level_at(shop, d["inventory_item_id"], now) == expected(*rows[sku]), sku
        if now != home:
            assert _level_at(shop, d["inventory_item_id"], home) == 0, sku
    assert _vacate_records(shop) == {}


def test_a_company_moved_then_unmapped_keeps_its_levels_at_its_former_location(chain, monkeypatch):
    """Company 1 is moved L1 -> L2, its pass there interrupted (its marker still at L1), and the
    merchant then removes its line (to map it again): a company with no location has its levels
    left alone, so L1 keeps selling what it had (not every level set to 0 at once). Mapped again
    elsewhere, its levels are in there and those it left at L1 and L2 are set to 0."""
    from .test_stock_in_flight_notes import _unmap

    shop = chain.install("muda-e-sai", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    home = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    interrupted = chain.map_location(shop, 1, 1)
    _first_pass_fails_after_one_batch(monkeypatch, shop)
    _unmap(shop, 1)
    stock.run(shop.shop_id)
    rows = erp_stock(chain, 1)
    want = {s: expected(*rows[s]) for s in stocked}
    assert {s: _level_at(shop, d["inventory_item_id"], home) for s, d in stocked.items()} == want
    now = chain.map_location(shop, 1, 2)
    stock.run(shop.shop_id)
    for sku, d in stocked.items():
        assert _level_at(shop, d["inventory_item_id"], now) == want[sku], sku
        assert _level_at(shop, d["inventory_item_id"], home) == 0, sku
        assert (_level_at(shop, d["inventory_item_id"], interrupted) or 0) == 0, sku
    assert _vacate_records(shop) == {}


def test_a_level_shopify_refuses_to_set_to_0_is_named_kept_and_retried_by_replaying_its_message(
    chain, monkeypatch
):
    """A level Shopify refuses to set to 0 at the former location (a userError other than stale)
    fails the vacate message naming the item; the rest are set to 0. The refused item is kept for
    that message alone: scheduled passes do not repeat the refusal, and replaying the message
    retries it, so the message can end done."""
    shop = chain.install("recusa-saida", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    chain.map_location(shop, 1, 1)
    real = stock_vacate.set_available
    refused_items = []

    def refuse_the_first(client, quantities, **kwargs):
        if not refused_items:
            refused_items.append(quantities[0]["inventoryItemId"])
            raise ShopifyUserErrors(
                "inventorySetQuantities",
                [UserError(("input", "quantities", "0"), "The location is not active", "INVALID_LOCATION")],
            )
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_vacate, "set_available", refuse_the_first)
    stock.run(shop.shop_id)
    item = refused_items[0]
    assert _level_at(shop, item, former) > 0
    others = [d["inventory_item_id"] for d in stocked.values() if d["inventory_item_id"] != item]
    assert all(_level_at(shop, i, former) == 0 for i in others)
    [message] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert message.status == MessageStatus.FAILED and item in message.error_text
    assert [set(r["items"]) for r in _vacate_records(shop).values()] == [{item}]

    stock.run(shop.shop_id)  # a scheduled pass leaves the refusal to the merchant's replay
    [again] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert again.status == MessageStatus.FAILED and again.attempts == message.attempts

    stock.replay(message.id)
    [done] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert done.status == MessageStatus.DONE
    assert _level_at(shop, item, former) == 0
    assert _vacate_records(shop) == {}


def test_every_level_of_a_group_refused_names_shopifys_reason_and_the_next_groups_are_still_set_to_0(
    chain, monkeypatch
):
    """Shopify refuses every level of a group at the former location (deactivated there: "The
    location is not active"): the vacate message fails naming Shopify's reason (rejected, not a
    bug of the app's own), the later groups of levels are still set to 0, the record keeps the
    refused ones alone, and the message's replay, the location active again, ends it done."""
    shop = chain.install("saida-inativa", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    assert len(stocked) > 4
    chain.map_location(shop, 1, 1)
    monkeypatch.setattr(stock_vacate, "MAX_ITEMS_PER_CALL", 4)  # groups of 4: the first one refused
    real = stock_vacate.set_available
    first_group: list[str] = []

    def location_not_active(client, quantities, **kwargs):
        if first_group and quantities[0]["inventoryItemId"] not in first_group:
            return real(client, quantities, **kwargs)
        first_group.extend(q["inventoryItemId"] for q in quantities)
        raise ShopifyUserErrors(
            "inventorySetQuantities",
            [
                UserError(("input", "quantities", str(i)), "The location is not active", "INVALID_LOCATION")
                for i in range(len(quantities))
            ],
        )

    with monkeypatch.context() as patched:
        patched.setattr(stock_vacate, "set_available", location_not_active)
        stock.run(shop.shop_id)
    [message] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert message.status == MessageStatus.FAILED and message.error_class == "rejected", message.error_text
    assert len(first_group) == 4 and all(item in message.error_text for item in first_group)
    assert message.error_text.count("The location is not active") == 1  # one reason, said once
    assert all(_level_at(shop, item, former) > 0 for item in first_group)
    later = [d["inventory_item_id"] for d in stocked.values() if d["inventory_item_id"] not in first_group]
    assert later and all(_level_at(shop, item, former) == 0 for item in later)
    assert [set(r["items"]) for r in _vacate_records(shop).values()] == [set(first_group)]

    stock.replay(message.id)  # the location active again: the merchant's Retry
    [done] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert done.status == MessageStatus.DONE
    assert all(_level_at(shop, item, former) == 0 for item in first_group)
    assert _vacate_records(shop) == {}


def test_levels_left_at_a_location_deleted_in_shopify_end_done_nothing_being_sold_there(chain):
    """The company's former location was deleted in Shopify and the company mapped to another one:
    Shopify refuses every level there ("The specified location could not be found."). Nothing is
    sold at a location that no longer exists and no person can put anything right there, so the
    vacate message ends done saying so (not failed as a bug, nor left failing every Retry), and
    the record is dropped."""
    shop = chain.install("local-apagado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    assert _stocked(catalog, chain, shop, 1)
    chain.shopify.sandbox.store.delete(shop.name, former)  # the location deleted in Shopify
    now = chain.map_location(shop, 1, 1)  # the merchant maps company 1 to another location
    assert now != former
    run = stock.run(shop.shop_id)
    assert run.bug is None
    [message] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert message.status == MessageStatus.DONE, message.error_text
    assert "no longer exists in Shopify" in message.response_payload["settled"]
    assert _vacate_records(shop) == {}
    assert not [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED]


@pytest.mark.parametrize("failure", ["unexpected", "bug"])
def test_levels_left_that_cannot_be_read_fail_their_message_once_not_every_pass(chain, monkeypatch, failure):
    """Reading the levels a company left at its former location fails for a reason no retry in
    minutes cures (an answer the client cannot read, a bug): the vacate message fails saying so and
    the record is kept for its replay; the pass is not failed by it, nor the next one, and the
    replay, the cause fixed, sets the levels to 0 and ends the message done."""
    shop = chain.install(f"saida-ilegivel-{failure}", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    chain.map_location(shop, 1, 1)
    raised = {
        "unexpected": UnexpectedResponse("InventoryItemsAt: no nodes"),
        "bug": KeyError("inventoryLevel"),
    }[failure]

    def unreadable(*args, **kwargs):
        raise raised

    with monkeypatch.context() as patched:
        patched.setattr(stock_vacate, "item_levels_at", unreadable)
        stock.run(shop.shop_id)
        [message] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
        assert message.status == MessageStatus.FAILED and message.error_class == "bug"
        assert _vacate_records(shop)
        stock.run(shop.shop_id)  # left to the message's replay: not failed again every pass
        [again] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
        assert again.attempts == message.attempts
    stock.replay(message.id)
    [done] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert done.status == MessageStatus.DONE
    assert all((_level_at(shop, d["inventory_item_id"], former) or 0) == 0 for d in stocked.values())
    assert _vacate_records(shop) == {}
