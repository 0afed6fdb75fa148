"""A company mapped to a location that the ERP marks inactive (a store closed): never skipped
silently. Its levels are set to 0 and a failed message names it, until it is active again."""

from __future__ import annotations

import pytest

from jobs import stock, stock_reread, stock_vacate
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus, utcnow
from sandbox.consinco import tables as t
from shopify_app.api_explain import KNOWN_CODES

from .chain import erp_update, messages
from .test_stock_flow import _erp_level, erp_stock, expected, pick


def test_a_mapped_company_the_erp_deactivates_is_zeroed_and_named_until_it_is_active_again(chain):
    shop = chain.install("loja-fechada", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2, minimum=3)
    item = data["inventory_item_id"]
    assert chain.level(shop, item, 2) >= 3
    kept = chain.level(shop, item, 1)
    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")
    run = stock.run(shop.shop_id)
    assert run.closed == [2] and 2 not in run.companies and run.vacated > 0
    assert chain.level(shop, item, 2) == 0  # a closed store sells nothing
    assert chain.level(shop, item, 1) == kept  # the open store is untouched
    [shown] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:2:inactive"]
    assert shown.status == MessageStatus.FAILED.value
    assert (shown.error_detail or {}).get("code") == "COMPANY_INACTIVE" and "COMPANY_INACTIVE" in KNOWN_CODES
    assert "ERP company 2 is inactive" in shown.error_text and shop.locations[2] in shown.error_text
    again = stock.run(shop.shop_id)
    assert again.levels_sent == 0 and again.vacated == 0 and chain.level(shop, item, 2) == 0

    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="A")
    _erp_level(chain, 2, data["seq_produto"], 7)
    reopened = stock.run(shop.shop_id)
    assert reopened.closed == [] and 2 in reopened.companies
    row, s = erp_stock(chain, 2)[sku]
    assert chain.level(shop, item, 2) == expected(row, s) == 7  # every level written there again
    [shown] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:2:inactive"]
    assert shown.status == MessageStatus.DONE.value


def _stocked(chain, catalog, company):
    """The whole-unit SKUs (qtd 1, not weighed, controlled) the company has at least 3 of."""
    rows = erp_stock(chain, company)
    stocked = []
    for sku, data in catalog.items():
        row, s = rows[sku]
        if not data["weighed"] and s.qtd_embalagem == 1 and row.controlled and expected(row, s) >= 3:
            stocked.append((sku, data))
    return stocked


def _closed(chain, name):
    """A shop selling companies 1 and 2, company 2 then closed in the ERP (its levels set to 0);
    the shop, and the SKUs company 2 had at least 3 of."""
    shop = chain.install(name, 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    stocked = _stocked(chain, catalog, 2)
    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")
    run = stock.run(shop.shop_id)
    assert run.closed == [2] and all(chain.level(shop, d["inventory_item_id"], 2) == 0 for _s, d in stocked)
    return shop, stocked


def test_units_the_apps_own_cancel_restocks_at_a_closed_store_are_set_to_0_again(chain):
    """The ERP cancels an order of the closed store; the cancellation job's orderCancel(restock)
    gives its units back at the store's location and records the movement (how many units is
    not known there: jobs.stock_reread.cancelled). A closed store has no stock pass to read that
    level again: the pass sets it to 0 again, whatever came back being the app's."""
    shop, stocked = _closed(chain, "fechada-estorno")
    sku, data = stocked[0]
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 2, 2)  # the restock
    with session_scope() as session:
        stock_reread.note(session, shop.shop_id, 2, "cancel:991", {sku: 0}, utcnow())
    run = stock.run(shop.shop_id)
    assert chain.level(shop, item, 2) == 0 and run.vacated == 1
    again = stock.run(shop.shop_id)
    assert again.vacated == 0 and chain.level(shop, item, 2) == 0


def test_at_a_closed_store_only_what_the_apps_movements_put_back_is_the_apps_to_clear(chain):
    """A picking edit restocks 1 unit of two SKUs at the closed store's location (movements of +1).
    Where Shopify shows that 1, it is set to 0; where it shows more (a person stocked it there
    too), the level is a person's: left as it is and named."""
    shop, stocked = _closed(chain, "fechada-separacao")
    (app_sku, app_data), (person_sku, person_data) = stocked[:2]
    chain.set_level(shop, app_data["inventory_item_id"], 2, 1)
    chain.set_level(shop, person_data["inventory_item_id"], 2, 4)
    with session_scope() as session:
        stock_reread.note(session, shop.shop_id, 2, "event:77", {app_sku: 1, person_sku: 1}, utcnow())
    stock.run(shop.shop_id)
    assert chain.level(shop, app_data["inventory_item_id"], 2) == 0
    assert chain.level(shop, person_data["inventory_item_id"], 2) == 4
    [vacate] = [
        m for m in messages(shop.shop_id, "stock") if m.unit_key == f"stock:vacate:2@{shop.locations[2]}"
    ]
    assert vacate.response_payload["left_raised_by_a_person"] == [person_data["inventory_item_id"]]


def test_units_put_back_just_before_the_store_closed_count_once_though_the_pass_is_retried(
    chain, monkeypatch
):
    """A picking edit restocks 1 unit of two SKUs at company 2's location (movements of +1), then
    the ERP closes the company before a pass read them; the closing pass cannot reach Shopify to
    set the levels to 0 and is retried. Each level may be 1 above the one last written (the app's
    to clear), no more: the one Shopify shows 1 above is set to 0, the one 2 above (a person
    stocked it too) is left, the unit put back being counted once over both passes."""
    shop = chain.install("fechada-repetida", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    stocked = _stocked(chain, catalog, 2)
    (app_sku, app_data), (person_sku, person_data) = stocked[:2]
    app_item, person_item = app_data["inventory_item_id"], person_data["inventory_item_id"]
    app_level, person_level = chain.level(shop, app_item, 2), chain.level(shop, person_item, 2)
    chain.set_level(shop, app_item, 2, app_level + 1)
    chain.set_level(shop, person_item, 2, person_level + 2)
    with session_scope() as session:
        stock_reread.note(session, shop.shop_id, 2, "event:78", {app_sku: 1, person_sku: 1}, utcnow())
    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")

    def unreachable(*args, **kwargs):
        raise Transient("Shopify unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(stock_vacate, "set_available", unreachable)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    run = stock.run(shop.shop_id)
    assert run.closed == [2]
    assert chain.level(shop, app_item, 2) == 0
    assert chain.level(shop, person_item, 2) == person_level + 2


def test_a_refused_companys_message_ends_once_the_erp_closes_it_or_its_replay_finds_it_closed(chain):
    """A company refused for want of a location (parked "stock:<c>:location") that the ERP then
    lists inactive was never refused nor resumed again: its message waited for a location for
    ever, and its replay (a location saved meanwhile) skipped the closed company and left it so."""
    from sqlalchemy import select

    from ledger.models import Message

    def refusal(shop):
        return [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"]

    shop = chain.install("fecha-recusada", 1, 1, [1, 2, 3])
    chain.load_catalog(shop, priced=True)
    assert stock.run(shop.shop_id).refused == [4]
    [parked] = refusal(shop)
    assert parked.status == MessageStatus.PARKED.value
    erp_update(chain, t.max_empresa, {"nroempresa": 4}, status="I")
    run = stock.run(shop.shop_id)
    assert 4 not in run.refused and 4 not in run.companies
    [done] = refusal(shop)
    assert done.status == MessageStatus.DONE.value and "closed in the ERP" in done.response_payload["resumed"]

    erp_update(chain, t.max_empresa, {"nroempresa": 4}, status="A")  # open again: another store
    other = chain.install("fecha-mapeada", 1, 1, [1, 2, 3])
    chain.load_catalog(other, priced=True)
    stock.run(other.shop_id)
    [parked] = refusal(other)
    erp_update(chain, t.max_empresa, {"nroempresa": 4}, status="I")
    chain.map_location(other, 4, 3)
    stock.replay(parked.id)  # what saving the location line enqueues
    with session_scope() as session:
        status = session.scalars(select(Message.status).where(Message.id == parked.id)).one()
    assert status == MessageStatus.DONE.value


def test_a_held_gone_message_of_a_company_the_erp_closes_is_done(chain, monkeypatch):
    """A held "stock:gone:<c>" (levels kept while the ERP no longer lists them) of a company the
    ERP then closes: its levels are all zeroed by the closing, yet it stayed failed saying they keep
    their level, and its Retry (the closed company skipped) left it so."""
    from decimal import Decimal

    from sqlalchemy import select

    from jobs import absence, stock_full
    from ledger.models import Message

    from .test_stock_full import _stocked, _without_erp_row

    shop, _catalog, _sku, data, packagings = _stocked(chain, "fecha-sumidos")
    _without_erp_row(chain, 1, data["seq_produto"])
    monkeypatch.setattr(absence, "HELD_MIN", 0)
    monkeypatch.setattr(absence, "HELD_SHARE", Decimal(0))
    stock_full.run(shop.shop_id)

    def held():
        with session_scope() as session:
            return session.scalars(select(Message).where(
                Message.shop_id == shop.shop_id, Message.unit_key == "stock:gone:1")).one()  # fmt: skip

    assert held().status == MessageStatus.FAILED.value
    erp_update(chain, t.max_empresa, {"nroempresa": 1}, status="I")
    assert stock.run(shop.shop_id).closed == [1]
    assert all(chain.level(shop, d["inventory_item_id"], 1) == 0 for d in packagings.values())
    assert held().status == MessageStatus.DONE.value
