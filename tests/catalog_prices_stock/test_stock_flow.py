"""The stock flow against both sandboxes: levels by the formula, zero calls when nothing changed,
an unmapped company refused then resumed, CAS stale retry keeping a sale, pending orders,
crash mid-batch then resume, weighed items and items without stock control."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from sqlalchemy import delete, select, update

from jobs import prices, stock, stock_pending, stock_writer
from jobs.stock_map import pending_base_by_product
from ledger import trace, watermarks
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.errors import MappingMissing, Transient
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import (
    Binding,
    ErpConnection,
    LocationMapping,
    Message,
    MessageStatus,
    Shop,
    ShopStatus,
    utcnow,
)
from sandbox.consinco import tables as t
from shopify_app.admin_api import for_shop

from .chain import ERP_PASSWORD, ERP_USER, erp_update, messages


def erp_stock(chain, company):
    """What the ERP sandbox itself says each SKU may sell (its own convenience figure)."""
    erp = chain.erp()
    try:
        return {s.id_sku: (row, s) for row in erp.stock(None, company) for s in row.skus}
    finally:
        erp.close()


def expected(row, sku, pending=Decimal(0), unit_kg=Decimal(1), weighed=False):
    if not row.controlled:
        return None
    base = max(Decimal(0), row.available - row.safety - pending)
    per = unit_kg if weighed else sku.qtd_embalagem
    return int((base / per).to_integral_value(rounding=ROUND_FLOOR))


def add_pending_order(shop, order_id, company, lines, sold_at=None):
    request = {"nro_empresa": company, "lines": lines}
    if sold_at is not None:  # Shopify's createdAt, as the orders flow keeps it
        request["sold_at"] = sold_at.isoformat()
    with session_scope() as session:
        trace.begin(session, shop.shop_id, "orders", f"order:{order_id}", SHOPIFY_TO_ERP, request=request)


def pick(catalog, chain, shop, company, *, minimum=3):
    """A whole-unit SKU (qtd 1, not weighed, controlled) with at least `minimum` to sell."""
    rows = erp_stock(chain, company)
    for sku, data in catalog.items():
        row, s = rows[sku]
        if not data["weighed"] and s.qtd_embalagem == 1 and row.controlled and expected(row, s) >= minimum:
            return sku, data
    raise AssertionError("no suitable SKU in the generated chain")


def test_levels_follow_the_formula_and_a_rerun_costs_nothing(chain, calls):
    shop = chain.install("estoque", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    first = stock.run(shop.shop_id)
    assert first.companies == [1, 2, 3] and first.refused == [4]
    for company in (1, 2, 3):
        rows = erp_stock(chain, company)
        for sku, data in catalog.items():
            row, s = rows[sku]
            want = expected(row, s, weighed=data["weighed"])
            if want is not None:
                assert chain.level(shop, data["inventory_item_id"], company) == want, (sku, company)
                if not data["weighed"]:
                    assert want == int(s.available_ecommerce)  # agrees with the ERP's own figure
    mark = calls.mark()
    again = stock.run(shop.shop_id)
    assert calls.names(mark) == []  # unchanged levels cost no call at all
    assert again.levels_sent == 0


def test_a_stock_record_without_its_sku_list_is_set_on_the_packagings_the_shop_sells(chain, monkeypatch):
    """ProdutoEstoque's per-SKU list is an [assumed] convenience: an ERP that sends none still gets
    every level written, for the packagings the shop sells of the product (its variant bindings)."""
    import sandbox.consinco.catalogue as erp_catalogue

    shop = chain.install("estoque-sem-lista", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    rows = erp_stock(chain, 1)  # read with the list, to know what to expect
    real = erp_catalogue.stock_record

    def without_list(*args, **kwargs):
        record = real(*args, **kwargs)
        record.pop("skus")
        return record

    monkeypatch.setattr(erp_catalogue, "stock_record", without_list)
    first = stock.run(shop.shop_id)
    assert first.levels_sent > 0
    for sku, data in catalog.items():
        row, s = rows[sku]
        want = expected(row, s, weighed=data["weighed"])
        if want is not None:
            assert chain.level(shop, data["inventory_item_id"], 1) == want, sku


def test_unmapped_company_is_refused_by_name_and_resumes_on_replay(chain):
    shop = chain.install("sem-local", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    refused = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"]
    assert len(refused) == 1 and refused[0].status == MessageStatus.PARKED.value
    assert "company 4" in refused[0].error_text
    assert refused[0].error_detail["mapping"] == {"kind": "location", "code": "4"}
    chain.map_location(shop, 4, 3)
    stock.replay(refused[0].id)
    rows = erp_stock(chain, 4)
    sku, data = next((k, d) for k, d in catalog.items() if rows[k][0].controlled and not d["weighed"])
    assert chain.level(shop, data["inventory_item_id"], 4) == expected(*rows[sku])
    assert [m.status for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"] == ["done"]


def _set_ignored(shop, companies):
    with session_scope() as session:
        row = session.get(Shop, shop.shop_id)
        row.settings = {**(row.settings or {}), "ignored_companies": companies}


def test_a_company_not_sold_in_this_store_is_neither_synced_nor_refused(chain, calls):
    """A chain's ERP holds many stores; a Shopify store sells few. A company the merchant marked not
    sold in this store (ignored_companies) parked a refusal on every pass, for ever: now its open
    refusal ends done saying why, and no pass refuses it again."""
    shop = chain.install("so-algumas", 1, 1, [1, 2, 3])
    chain.load_catalog(shop, priced=True)
    first = stock.run(shop.shop_id)
    assert first.refused == [4]
    (refused,) = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"]
    assert refused.status == MessageStatus.PARKED.value
    _set_ignored(shop, [4])
    stock.replay(refused.id)  # what saving the setting enqueues (shopify_app.api_settings)
    (closed,) = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"]
    assert closed.status == MessageStatus.DONE.value
    assert closed.response_payload == {"resumed": "not sold in this store (setting ignored_companies)"}
    mark = calls.mark()
    again = stock.run(shop.shop_id)
    assert again.refused == [] and again.ignored == [4] and again.companies == [1, 2, 3]
    assert calls.names(mark) == []  # nothing read nor written for it at Shopify
    assert [m.status for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location"] == ["done"]


def test_a_company_ignored_from_the_start_never_parks_a_message(chain):
    shop = chain.install("so-tres", 1, 1, [1, 2, 3])
    chain.load_catalog(shop, priced=True)
    _set_ignored(shop, [4, 99])  # 99: a company the ERP does not list, harmless
    result = stock.run(shop.shop_id)
    assert result.refused == [] and result.ignored == [4]
    assert [m for m in messages(shop.shop_id, "stock") if m.unit_key.endswith(":location")] == []


def test_a_company_mapped_to_a_location_is_synced_though_marked_not_sold(chain):
    """The mapping is the more explicit statement: a mapped company's stock is sent whatever
    ignored_companies says (the list matters only while a company has no location)."""
    shop = chain.install("mapeada-e-ignorada", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    _set_ignored(shop, [3, 4])
    result = stock.run(shop.shop_id)
    assert result.companies == [1, 2, 3] and result.ignored == [4] and result.refused == []
    rows = erp_stock(chain, 3)
    sku, data = next((k, d) for k, d in catalog.items() if rows[k][0].controlled and not d["weighed"])
    assert chain.level(shop, data["inventory_item_id"], 3) == expected(*rows[sku])


def test_a_pass_parked_on_the_erp_connection_is_done_once_its_replay_runs_connected(chain):
    """Saving the ERP connection enqueues the parked message's replay: the pass it runs must close
    that message, or it stays parked for ever."""
    shop = chain.install("sem-erp", 1, 1, [1])
    chain.load_catalog(shop, priced=True)
    with session_scope() as session:
        session.execute(delete(ErpConnection).where(ErpConnection.shop_id == shop.shop_id))
    stock.run(shop.shop_id)
    [parked] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == stock.ERP_CONNECTION_UNIT]
    assert parked.status == MessageStatus.PARKED.value
    with session_scope() as session:
        session.add(ErpConnection(shop_id=shop.shop_id, base_url=chain.consinco.url, username=ERP_USER,
                                  password_enc=encrypt(ERP_PASSWORD)))  # fmt: skip
    assert stock.replay(parked.id).companies == [1]
    [after] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == stock.ERP_CONNECTION_UNIT]
    assert after.status == MessageStatus.DONE.value and after.response_payload == {"resumed": True}


def _stale_between_read_and_write(chain, monkeypatch, name: str, order: int, answer=None) -> None:
    """A customer buys 2 between the pass's read and its write (the write answered stale, `answer`
    turning Shopify's answer as a test needs): the level is re-read and sent again, the sale kept."""
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    item = data["inventory_item_id"]
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)  # the ERP received goods
    real = stock_writer.set_available
    sent: list[list[dict]] = []

    def sale_in_between(client, quantities, **kwargs):
        if not sent:  # a customer buys 2 between our read and our write
            chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)
            add_pending_order(shop, order, 1, [{"sku": sku, "quantity": 2}])
        sent.append(list(quantities))
        if answer is None:
            return real(client, quantities, **kwargs)
        return answer(lambda: real(client, quantities, **kwargs))

    monkeypatch.setattr(stock_writer, "set_available", sale_in_between)
    result = stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert len(sent) == 2  # stale, re-read, sent again
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(2))
    assert result.failed == []


def test_stale_level_is_reread_and_the_sale_is_kept(chain, monkeypatch):
    _stale_between_read_and_write(chain, monkeypatch, "cas", 5001)


def test_a_stale_answer_naming_no_entry_rereads_the_batch_and_keeps_the_sale(chain, monkeypatch):
    """Shopify's field path of a CHANGE_FROM_QUANTITY_STALE error is not documented: one that names
    no quantity's index has every entry read again and recomputed (the sale kept), not the batch
    refused as the app's own mistake."""
    from dataclasses import replace

    from shopify_app.admin_api.errors import ShopifyUserErrors

    def without_index(write):
        try:
            return write()
        except ShopifyUserErrors as exc:  # the same answer, its path without the quantity's index
            errors = [replace(e, field=("input", "quantities")) for e in exc.errors]
            raise ShopifyUserErrors(exc.detail["operation"], errors) from None

    _stale_between_read_and_write(chain, monkeypatch, "cas-sem-indice", 5002, without_index)


def test_orders_not_in_the_erp_yet_are_subtracted(chain):
    shop = chain.install("pendentes", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    add_pending_order(shop, 7001, 1, [{"sku": sku, "quantity": 3}])
    with session_scope() as session:  # an order already in the ERP no longer counts
        done = trace.begin(
            session,
            shop.shop_id,
            "orders",
            "order:7002",
            SHOPIFY_TO_ERP,
            request={"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 50}]},
        )
        trace.succeed(session, done)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s, pending=Decimal(3))


class Crash(BaseException):
    """The worker dying: not an Exception, so nothing in the flow records it."""


def test_a_transient_batch_failure_keeps_the_stock_watermark(chain, monkeypatch):
    """Shopify down while the levels are written: the watermark stays where it was, so the retry
    reads the same stock rows again and writes them."""
    from ledger.errors import Transient

    shop = chain.install("estoque-queda", 1, 1, [1])
    chain.load_catalog(shop, priced=True)

    def down(*args, **kwargs):
        raise Transient("Shopify answered 503")

    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", down)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    with session_scope() as session:
        assert watermarks.read(session, shop.shop_id, "stock", "1").last_changed_at is None
    stock.run(shop.shop_id)
    with session_scope() as session:
        assert watermarks.read(session, shop.shop_id, "stock", "1").last_changed_at is not None


def test_crash_mid_batch_then_resume_duplicates_nothing_and_misses_nothing(chain, monkeypatch):
    shop = chain.install("queda", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    monkeypatch.setattr(stock, "BATCH_SIZE", 4)
    real = stock_writer.set_available
    written: list[set[str]] = []

    def crash_after_second(client, quantities, **kwargs):
        answer = real(client, quantities, **kwargs)
        written.append({q["inventoryItemId"] for q in quantities})
        if len(written) == 2:
            raise Crash("worker killed after Shopify accepted batch 2")
        return answer

    monkeypatch.setattr(stock_writer, "set_available", crash_after_second)
    with pytest.raises(Crash):
        stock.run(shop.shop_id)
    with session_scope() as session:
        assert watermarks.read(session, shop.shop_id, "stock", "1").last_changed_at is None
    before = len(written)
    stock.run(shop.shop_id)
    again = written[before:]
    assert not any(batch & written[1] for batch in again)  # the accepted batch is not sent again
    rows = erp_stock(chain, 1)
    for sku, data in catalog.items():
        want = expected(*rows[sku], weighed=data["weighed"])
        if want is not None:
            assert chain.level(shop, data["inventory_item_id"], 1) == want
    statuses = {m.status for m in messages(shop.shop_id, "stock") if not m.unit_key.endswith(":location")}
    assert statuses == {MessageStatus.DONE.value}


@pytest.mark.parametrize("unit_kg", [None, "0.1"])
def test_weighed_item_in_the_variant_unit(chain, unit_kg):
    shop = chain.install("pesaveis", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg=unit_kg, priced=True)
    stock.run(shop.shop_id)
    prices.run(shop.shop_id)
    sku, data = next((k, d) for k, d in catalog.items() if d["weighed"])
    row, s = erp_stock(chain, 1)[sku]
    unit = Decimal(unit_kg or "1")
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s, unit_kg=unit, weighed=True)
    erp = chain.erp()
    item = {i.id_sku: i for i in erp.price_items(None, 1, 1)}[sku]
    erp.close()
    per_kg = item.promotional if item.promotion_running else item.normal
    shown = Decimal(str(chain.variant(shop, data["variant_id"])["price"]))
    assert shown == (per_kg * unit).quantize(Decimal("0.01"))


def test_item_without_stock_control_sells_on_and_comes_back(chain, calls):
    shop = chain.install("sem-controle", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    where = {"nroempresa": 1, "seqproduto": data["seq_produto"]}
    erp_update(chain, t.mrl_produtoempresa, where, indcontrolaestoqueecomm="N")
    before = chain.level(shop, data["inventory_item_id"], 1)
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE"
    assert chain.level(shop, data["inventory_item_id"], 1) == before  # level left as it was
    mark = calls.mark()
    stock.run(shop.shop_id)
    assert calls.names(mark) == []
    erp_update(chain, t.mrl_produtoempresa, where, indcontrolaestoqueecomm="S")
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(*erp_stock(chain, 1)[sku])


def _erp_level(chain, company, seq, qty):
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": company, "seqproduto": seq},
               estqloja=qty, estqdeposito=0, estqterceiro=0, qtdreservadavda=0, qtdreservadareceb=0,
               qtdreservadafixa=0, estqsegurancaecommerce=0, indcontrolaestoqueecomm="S")  # fmt: skip


def test_a_level_going_back_to_an_earlier_value_is_written_each_time(chain):
    """10 -> 5 -> 10 -> 5: the second "5 from 10" is the same write as the first, but a new
    operation; its idempotency key differs (the batch message's attempt), so Shopify applies it
    instead of replaying the first answer (which would leave 10 and a ledger saying 5)."""
    shop = chain.install("oscillating", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = next((s, d) for s, d in catalog.items() if not d["weighed"] and d["qtd_embalagem"] == "1")
    seen = []
    for qty in (10, 5, 10, 5):
        _erp_level(chain, 1, data["seq_produto"], qty)
        stock.run(shop.shop_id)
        seen.append(chain.level(shop, data["inventory_item_id"], 1))
    assert seen == [10, 5, 10, 5], sku


def test_a_variant_the_prices_flow_has_not_priced_is_not_sold_until_it_is(chain):
    """productSet leaves the price out, so a new variant sits at R$ 0.00 until the prices flow
    prices it (or forever, when the ERP has no price for the linked company/segment): the stock
    flow holds it at 0 and DENY; its first price asks for a recheck that stocks it."""
    shop = chain.install("sem-preco", 1, 1, [1])
    catalog = chain.load_catalog(shop)  # in Shopify, not priced yet
    sku, data = pick(catalog, chain, shop, 1)
    row, s = erp_stock(chain, 1)[sku]
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"

    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s) > 0


def test_reconciliation_reads_stock_drift_by_the_stock_flows_own_rule(chain):
    """Right after a stock pass, nothing differs (weighed items in whole kg, orders not in the ERP
    yet subtracted); a level changed by hand in Shopify is reported with what it should be."""
    from erp.factory import for_shop as erp_for_shop
    from jobs import reconcile
    from shopify_app.admin_api import for_shop

    shop = chain.install("reconcilia", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg="1", priced=True)
    sku, data = pick(catalog, chain, shop, 1)
    add_pending_order(shop, "7001", 1, [{"sku": sku, "quantity": 1}])
    stock.run(shop.shop_id)
    client, erp = for_shop(shop.domain), erp_for_shop(shop.shop_id)
    try:
        [location] = reconcile._stock(shop.shop_id, client, erp, 1000)["locations"]
        assert location["checked"] == location["bound_with_stock"] > 0 and location["differ"] == []
        should = chain.level(shop, data["inventory_item_id"], 1)
        chain.set_level(shop, data["inventory_item_id"], 1, should + 5)
        [location] = reconcile._stock(shop.shop_id, client, erp, 1000)["locations"]
        assert location["differ"] == [{"sku": sku, "erp": str(should), "shopify": should + 5}]
    finally:
        client.close()
        erp.close()


def test_reconciliation_moves_its_stock_window_each_day_so_the_whole_catalog_is_checked(chain):
    """A sample smaller than the catalog is a window that moves on each day: drift on the last
    SKU (never among the first `sample` sorted ones) is found within ceil(SKUs / sample) days."""
    from datetime import date, timedelta

    from erp.factory import for_shop as erp_for_shop
    from jobs import reconcile
    from shopify_app.admin_api import for_shop

    shop = chain.install("reconcilia-janela", 1, 1, [1])
    chain.load_catalog(shop, unit_kg="1", priced=True)
    stock.run(shop.shop_id)
    client, erp = for_shop(shop.domain), erp_for_shop(shop.shop_id)
    try:
        [whole] = reconcile._stock(shop.shop_id, client, erp, 10_000)["locations"]
        total = whole["bound_with_stock"]
        assert whole["checked"] == total > 4 and whole["differ"] == []
        with session_scope() as session:
            bound = {b.erp_id: b.data for b in session.scalars(select(Binding).where(
                Binding.shop_id == shop.shop_id, Binding.kind == "variant"))}  # fmt: skip
        last = max(s for s, d in bound.items() if d.get("inventory_item_id"))
        item = bound[last]["inventory_item_id"]
        chain.set_level(shop, item, 1, chain.level(shop, item, 1) + 3)
        sample, seen, found_on = 2, set(), []
        days = -(-total // sample)
        for n in range(days):
            day = date(2026, 12, 1) + timedelta(days=n)
            [location] = reconcile._stock(shop.shop_id, client, erp, sample, day)["locations"]
            assert location["checked"] == sample
            seen.add(location["from_sku"])
            if location["differ"]:
                assert [d["sku"] for d in location["differ"]] == [last]
                found_on.append(day)
        assert len(found_on) >= 1 and len(seen) == days  # each day a new window; the drift caught
    finally:
        client.close()
        erp.close()


def test_without_a_location_for_the_linked_company_the_policy_follows_a_company_that_has_one(chain):
    """Prices from company 1, stock shipped only from company 2's location: an item without stock
    control at company 2 still sells on (its policy was only ever decided from company 1's rows,
    which are never read without a location)."""
    shop = chain.install("so-cd", 1, 1, [2])  # the only location is company 2's
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2)
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 2, "seqproduto": data["seq_produto"]},
               indcontrolaestoqueecomm="N")  # fmt: skip
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE", sku


def test_two_stores_selling_one_company_see_each_others_pending_orders(chain):
    """Stores A and B both sell company 1's stock. A sold 3 units the ERP has not reserved yet:
    B's level must not offer those 3 units again (pending orders count per company, every shop)."""
    a = chain.install("loja-a", 1, 1, [1])
    b = chain.install("loja-b", 1, 2, [1])
    cat_a = chain.load_catalog(a, priced=True)
    cat_b = chain.load_catalog(b, priced=True)
    stock.run(a.shop_id)
    stock.run(b.shop_id)
    sku, data_a = pick(cat_a, chain, a, 1, minimum=5)
    item_a, item_b = data_a["inventory_item_id"], cat_b[sku]["inventory_item_id"]
    chain.set_level(a, item_a, 1, chain.level(a, item_a, 1) - 3)  # the sale in store A
    add_pending_order(a, 9201, 1, [{"sku": sku, "quantity": 3}])
    chain.consinco.erp.simulator.move_stock(1, data_a["seq_produto"], 12)  # the row is read again
    stock.run(a.shop_id)
    stock.run(b.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    want = expected(row, s, pending=Decimal(3))
    assert (chain.level(a, item_a, 1), chain.level(b, item_b, 1)) == (want, want)


def test_an_open_order_counts_whatever_its_age(chain):
    """An order parked for 8 days (its payment gateway unmapped) is still taken in Shopify and not
    in the ERP: its state, not its age, decides that it is subtracted."""
    shop = chain.install("antigo", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    add_pending_order(shop, 9001, 1, [{"sku": sku, "quantity": 3}])
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "order:9001")).one()
        trace.fail(session, message, MappingMissing("payment_method", "pix-gw", "gateway pix-gw not mapped"))
        eight_days_ago = utcnow() - timedelta(days=8)
        session.execute(update(Message).where(Message.id == message.id).values(created_at=eight_days_ago))
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(3))
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)  # the row is read again
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(3))


def test_a_pending_order_stored_without_its_company_counts_at_the_store_links(chain):
    """An order parked for a missing setting before the orders flow named its company (nro_empresa
    None in its payload) still holds its units, at the company the store is linked to."""
    shop = chain.install("sem-empresa", 2, 1, [1, 2])
    add_pending_order(shop, 9301, None, [{"sku": "P4E1", "quantity": 2}])
    assert pending_base_by_product(stock_pending.pending_payloads(shop.shop_id), {}) == {(2, 4): Decimal(2)}


def test_an_order_of_a_shop_on_another_erp_does_not_hold_this_erps_stock(chain):
    """Pending orders count per ERP company among the shops connected to the same ERP only: shop A
    reaches another Consinco (its own ErpConnection), whose company 1 is not shop B's company 1,
    so A's open order must not take units off B's level."""
    a = chain.install("outro-erp", 1, 1, [1])
    b = chain.install("este-erp", 1, 1, [1])
    with session_scope() as session:
        session.execute(
            update(ErpConnection)
            .where(ErpConnection.shop_id == a.shop_id)
            .values(base_url="https://erp.another-merchant.example/api")
        )
    cat_b = chain.load_catalog(b, priced=True)
    stock.run(b.shop_id)
    sku, data = pick(cat_b, chain, b, 1, minimum=5)
    add_pending_order(a, 9401, 1, [{"sku": sku, "quantity": 3}])  # A's sale, in its own ERP
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)  # B's row is read again
    stock.run(b.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(b, data["inventory_item_id"], 1) == expected(row, s)


def test_an_uninstalled_shops_order_and_the_same_erp_written_otherwise_are_told_apart(chain):
    """The ERP is compared by the address its client would use (a trailing slash is the same ERP),
    and a shop that uninstalled the app holds no stock with its orders left open."""
    a = chain.install("mesmo-erp", 1, 1, [1])
    b = chain.install("desinstalada", 1, 1, [1])
    c = chain.install("com-barra", 1, 1, [1])
    with session_scope() as session:
        session.execute(update(Shop).where(Shop.id == b.shop_id).values(status=ShopStatus.UNINSTALLED.value))
        session.execute(
            update(ErpConnection)
            .where(ErpConnection.shop_id == c.shop_id)
            .values(base_url=ErpConnection.base_url + "/", verified_at=utcnow())  # (its login's)
        )
    add_pending_order(b, 9402, 1, [{"sku": "P4E1", "quantity": 2}])
    add_pending_order(c, 9403, 1, [{"sku": "P4E1", "quantity": 5}])
    assert pending_base_by_product(stock_pending.pending_payloads(a.shop_id), {}) == {(1, 4): Decimal(5)}


def _age_erp_row(chain, company, seq, minutes=5):
    """The ERP row's change time moved back, as time passing would (beyond the reads' overlap)."""
    pe = t.mrl_produtoempresa
    with chain.consinco.erp.store.write() as (conn, now):
        conn.execute(
            pe.update()
            .where(pe.c.nroempresa == company, pe.c.seqproduto == seq)
            .values(dtaalteracao=now - timedelta(minutes=minutes))
        )


def test_an_order_the_erp_reserved_before_its_message_closed_is_given_back_once_it_closes(chain):
    """The ERP reserved the order but its orders message is still open (the ERP's answer lost, the
    RQ retry minutes away): a pass then counts it twice (reserved and pending). Once the message
    closes, the level must come back to the ERP figure, though the ERP row does not move again."""
    from sandbox.consinco.order_records import move_stock as erp_move_stock

    shop = chain.install("duplo", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale in Shopify
    add_pending_order(shop, 9101, 1, [{"sku": sku, "quantity": 2}])
    with chain.consinco.erp.store.write() as (conn, now):  # what the ERP's PedidoVenda insert does
        erp_move_stock(conn, now, 1, data["seq_produto"], reserva=2.0)
    stock.run(shop.shop_id)  # the message still open: the order counted twice
    _age_erp_row(chain, 1, data["seq_produto"])
    stock.run(shop.shop_id)
    with session_scope() as session:  # the retry learns the ERP's number: the message is done
        message = session.scalars(select(Message).where(Message.unit_key == "order:9101")).one()
        trace.succeed(session, message)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s)


def test_a_company_moved_to_another_location_gets_its_stock_there(chain, calls):
    """The location mappings page moves a company to another location (or swaps two): its next
    pass writes every level at the location mapped to it now, though no ERP row moved; the pass
    after costs nothing again."""
    shop = chain.install("muda-local", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    chain.map_location(shop, 1, 1)  # company 1 now ships from the second location
    stock.run(shop.shop_id)
    rows = erp_stock(chain, 1)
    wrong = {}
    for sku, data in catalog.items():
        want = expected(*rows[sku]) if not data["weighed"] else None
        if want is not None and chain.level(shop, data["inventory_item_id"], 1) != want:
            wrong[sku] = (want, chain.level(shop, data["inventory_item_id"], 1))
    assert wrong == {}
    mark = calls.mark()
    assert stock.run(shop.shop_id).levels_sent == 0 and calls.names(mark) == []


def test_a_sale_racing_the_write_is_kept_before_its_order_message_exists(chain, monkeypatch):
    """CAS stale: a sale happened between our read and our write, and its orders/create webhook is
    not processed yet (no orders message). The retry must not give the sale back: the drop
    Shopify shows that no newly known order explains is subtracted. Once the order's message
    appears, the level stays the ERP figure less the order (not less it twice)."""
    shop = chain.install("cas-lag", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    item = data["inventory_item_id"]
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)  # the ERP received goods
    real = stock_writer.set_available
    sent: list[list[dict]] = []

    def sale_in_between(client, quantities, **kwargs):
        if not sent:  # a customer buys 2; the webhook is not processed yet
            chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)
        sent.append(list(quantities))
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_writer, "set_available", sale_in_between)
    stock.run(shop.shop_id)
    assert len(sent) == 2  # stale, re-read, sent again
    row, s = erp_stock(chain, 1)[sku]
    want = expected(row, s, pending=Decimal(2))
    after_race = chain.level(shop, item, 1)
    _age_erp_row(chain, 1, data["seq_produto"])  # the orders job lands minutes later
    add_pending_order(shop, 5002, 1, [{"sku": sku, "quantity": 2}])
    stock.run(shop.shop_id)
    assert (after_race, chain.level(shop, item, 1)) == (want, want)


@pytest.mark.parametrize("company", [1, None], ids=["named", "store_link"])
def test_a_sale_whose_order_came_since_the_last_pass_is_not_subtracted_twice_on_a_stale_retry(chain, company):
    """Shopify sold 2 since our last write and the order's message exists: the next pass (the ERP
    row moved) finds the level stale; the drop is explained by that order, so the level is the
    ERP figure less the order once. An order naming no company (parked before the orders flow named
    it) counts as pending at the store link's company, and explains the drop there too, or the same
    2 units are subtracted as pending and again as a drop no order explains."""
    shop = chain.install("cas-explicado" if company else "cas-sem-empresa", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)
    add_pending_order(shop, 5003, company, [{"sku": sku, "quantity": 2}])
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(2))


def test_a_sale_kept_out_before_its_order_came_does_not_explain_a_later_unknown_sale(chain, monkeypatch):
    """A sale races our write (its webhook not processed yet): the retry keeps it out. Its orders
    message appears after our write, but its sale (Shopify's createdAt) is older: when a second
    sale, not known yet, drops the level and the ERP row moves, the first order must not explain
    that drop, or the second sale's unit is handed back (oversold) until its webhook comes."""
    shop = chain.install("cas-tardio", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    chain.consinco.erp.simulator.move_stock(1, seq, 12)
    real = stock_writer.set_available
    sold: list = []

    def sale_in_between(client, quantities, **kwargs):
        if not sold:  # sale 1: 2 units between our read and our write
            chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)
            sold.append(utcnow())
        return real(client, quantities, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", sale_in_between)
        stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(2))  # kept out
    _age_erp_row(chain, 1, seq)
    add_pending_order(shop, 6001, 1, [{"sku": sku, "quantity": 2}], sold_at=sold[0])  # its webhook now
    stock.run(shop.shop_id)
    level = chain.level(shop, item, 1)
    assert level == expected(row, s, pending=Decimal(2))  # nothing to write
    chain.set_level(shop, item, 1, level - 1)  # sale 2: 1 unit, its webhook not processed yet
    chain.consinco.erp.simulator.move_stock(1, seq, 1)  # the ERP row moves (a unit received)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(2)) - 1


def _applied_then_lost(monkeypatch, shop):
    """One stock pass whose write Shopify applies but whose answer is lost (a read timeout after
    the commit, the client's retries spent: Transient): the pass fails, as RQ would see it."""
    real = stock_writer.set_available

    def applied_then_lost(client, quantities, **kwargs):
        real(client, quantities, **kwargs)
        raise Transient("read timeout after Shopify applied the batch")

    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", applied_then_lost)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)


def test_a_write_whose_answer_was_lost_is_not_subtracted_twice_on_the_retry(chain, monkeypatch):
    """The ERP lost 5 units and the pass's write of the lower level is applied, its answer lost.
    The retry still holds the old level as Shopify's (changeFromQuantity), Shopify answers stale,
    and the drop it shows ends exactly at the level the write tried: that is our own write, not a
    sale nobody knows of, so it is not subtracted again. The level is the ERP figure, for good."""
    shop = chain.install("resposta-perdida", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=20)
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], -5)  # the ERP lost 5
    _applied_then_lost(monkeypatch, shop)
    stock.run(shop.shop_id)  # RQ's retry
    _age_erp_row(chain, 1, data["seq_produto"])  # later passes read nothing new
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s)


def test_a_write_whose_answer_was_lost_is_undone_when_the_erp_goes_back(chain, monkeypatch):
    """A write applied with its answer lost, then the ERP figure goes back to the level last
    confirmed: the binding's level equals the target, but Shopify may show the lost write, so the
    level is written (compare-and-swap from the confirmed one) rather than taken as unchanged."""
    shop = chain.install("resposta-volta", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=20)
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], -5)
    _applied_then_lost(monkeypatch, shop)
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 5)  # back where it was
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s)


def test_a_company_mapped_back_to_a_location_another_company_wrote_meanwhile_gets_its_stock_there(chain):
    """Company 1 is unmapped (its levels stay at L1), company 2 is moved to L1 and writes its own
    levels there, then the merchant puts things back (1 -> L1, 2 -> L2). Company 1's levels must
    be company 1's again: where its levels were written is forgotten when it is refused for want
    of a location and when another company writes at that location, so its next pass is full and
    compares every level with what Shopify shows."""
    shop = chain.install("volta-local", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    with session_scope() as session:  # the mappings page saved without company 1
        session.execute(
            delete(LocationMapping).where(
                LocationMapping.shop_id == shop.shop_id, LocationMapping.nro_empresa == 1
            )
        )
    shop.locations.pop(1)
    chain.map_location(shop, 2, 0)  # company 2 now ships from L1
    stock.run(shop.shop_id)
    chain.map_location(shop, 2, 1)  # put back: company 2 at L2 ...
    chain.map_location(shop, 1, 0)  # ... and company 1 at L1 again
    stock.run(shop.shop_id)
    wrong = {}
    for company in (1, 2):
        rows = erp_stock(chain, company)
        for sku, data in catalog.items():
            want = expected(*rows[sku]) if not data["weighed"] else None
            got = chain.level(shop, data["inventory_item_id"], company)
            if want is not None and got != want:
                wrong[(company, sku)] = (want, got)
    assert wrong == {}


def _level_at(shop, item_id, location):
    client = for_shop(shop.domain)
    try:
        found = client.inventory_level(item_id, location, names=["available"])
    finally:
        client.close()
    return None if found is None else found.quantities.get("available")


def _stocked(catalog, chain, shop, company):
    rows = erp_stock(chain, company)
    return {
        sku: data for sku, data in catalog.items() if not data["weighed"] and (expected(*rows[sku]) or 0) > 0
    }


def test_a_moved_company_leaves_no_sellable_stock_at_its_former_location(chain, calls):
    """The company moves to another location: once its levels are in there, the ones it had written
    at the old location (no longer mapped to any company) are set to 0, so the same units are not
    sold twice; a level a person raised there since is left and named; the next pass costs nothing."""
    shop = chain.install("sai-do-local", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    assert len(stocked) >= 3
    raised_sku, raised = next(iter(stocked.items()))
    item = raised["inventory_item_id"]
    chain.set_level(shop, item, 1, _level_at(shop, item, former) + 5)
    before = [d for d in catalog.values() if (_level_at(shop, d["inventory_item_id"], former) or 0) > 0]
    new = chain.map_location(shop, 1, 1)
    run = stock.run(shop.shop_id)
    left = {
        sku: _level_at(shop, d["inventory_item_id"], former)
        for sku, d in stocked.items()
        if sku != raised_sku and _level_at(shop, d["inventory_item_id"], former) != 0
    }
    assert left == {}
    assert run.vacated == len(before) - 1
    assert _level_at(shop, raised["inventory_item_id"], former) > 0  # a person's, left as it is
    rows = erp_stock(chain, 1)
    for sku, d in stocked.items():
        assert _level_at(shop, d["inventory_item_id"], new) == expected(*rows[sku]), sku
    vacate = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:vacate:")]
    assert [m.status for m in vacate] == [MessageStatus.DONE]
    assert raised["inventory_item_id"] in vacate[0].response_payload["left_raised_by_a_person"]
    mark = calls.mark()
    assert stock.run(shop.shop_id).levels_sent == 0 and calls.names(mark) == []


def test_a_former_location_mapped_to_another_company_keeps_what_that_company_writes(chain):
    """Company 1 moves away and company 2 takes its old location over: nothing is zeroed there, the
    levels are company 2's; the location company 2 left, mapped to nobody now, is cleared."""
    shop = chain.install("troca-local", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former, left_by_2 = shop.locations[1], shop.locations[2]
    chain.map_location(shop, 1, 2)
    chain.map_location(shop, 2, 0)  # company 2 ships from company 1's old location now
    stock.run(shop.shop_id)
    rows = erp_stock(chain, 2)
    stocked = _stocked(catalog, chain, shop, 2)
    assert stocked
    for sku, d in stocked.items():
        assert _level_at(shop, d["inventory_item_id"], former) == expected(*rows[sku]), sku
        assert _level_at(shop, d["inventory_item_id"], left_by_2) == 0, sku
    with session_scope() as session:
        assert session.scalars(select(Binding).where(Binding.kind == "stock_vacate")).all() == []


def test_a_move_interrupted_by_shopify_clears_the_former_location_once_the_new_one_is_complete(
    chain, monkeypatch
):
    """The first pass after the move fails part-way (Shopify unreachable): the old location is not
    cleared while the new one is incomplete, and the next pass writes the rest and then clears
    every level the company had left there, including those already rewritten at the new one."""
    shop = chain.install("muda-interrompida", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    former = shop.locations[1]
    stocked = _stocked(catalog, chain, shop, 1)
    chain.map_location(shop, 1, 1)
    real = stock_writer.set_available
    sent = []

    def second_batch_fails(client, quantities, **kwargs):
        sent.append(len(quantities))
        if len(sent) > 1:
            raise Transient("Shopify unreachable")
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_writer, "BATCH_SIZE", 5, raising=False)
    monkeypatch.setattr(stock, "BATCH_SIZE", 5)
    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", second_batch_fails)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    assert all(_level_at(shop, d["inventory_item_id"], former) > 0 for d in stocked.values())
    stock.run(shop.shop_id)
    assert {sku: _level_at(shop, d["inventory_item_id"], former) for sku, d in stocked.items()} == {
        sku: 0 for sku in stocked
    }
