"""First passes and big deltas (issue 6): prices above the shop's bulk_threshold go as one bulk
operation and end in the same Shopify state and ledger as the direct calls; the first stock pass
stocks items at their locations with inventorySetQuantities batches, no inventoryActivate."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from sqlalchemy import select

from jobs import prices, stock
from jobs.price_map import erp_today
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, MessageStatus, Shop
from sandbox.consinco import tables as t
from settings import get_settings

from .chain import erp_update, messages
from .test_stock_flow import erp_stock, expected

GONE = "gid://shopify/ProductVariant/999999999"


def set_threshold(shop_id: int, threshold: int) -> None:
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        shop.settings = {**(shop.settings or {}), "bulk_threshold": threshold}


def shown(chain, shop, catalog):
    out = {}
    for sku, data in catalog.items():
        doc = chain.variant(shop, data["variant_id"])
        out[sku] = (str(doc["price"]), doc.get("compareAtPrice"), doc.get("inventoryPolicy"))
    return out


def ledger_of(shop_id):
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind.in_(["price", "stock_recheck"]))
        ).all()
        return {(b.kind, b.erp_id): (b.digest, b.data) for b in rows}


def test_bulk_prices_end_like_direct_calls_and_a_rerun_costs_nothing(chain, calls):
    direct = chain.install("precos-diretos", 1, 1, [1])
    bulk = chain.install("precos-bulk", 1, 1, [1])
    set_threshold(bulk.shop_id, 1)
    direct_catalog = chain.load_catalog(direct)
    bulk_catalog = chain.load_catalog(bulk)
    products = {d["product_id"] for d in bulk_catalog.values()}
    assert len(products) > 1
    today = erp_today(get_settings().erp_timezone)  # the ERP sandbox's day (its promotions)

    first_direct = prices.run(direct.shop_id, today=today)
    mark = calls.mark()
    first_bulk = prices.run(bulk.shop_id, today=today)
    assert not first_direct.bulk and first_bulk.bulk
    bulk_mutations = calls.mutations(mark, shop=bulk.name)
    assert "ProductVariantsBulkUpdate" not in bulk_mutations  # no direct call per product
    assert bulk_mutations.count("BulkOperationRunMutation") == 1
    assert first_bulk.variants_sent == first_direct.variants_sent == len(bulk_catalog)
    assert first_bulk.products_sent == len(products) and first_bulk.failed == []

    assert shown(chain, bulk, bulk_catalog) == shown(chain, direct, direct_catalog)
    assert ledger_of(bulk.shop_id) == ledger_of(direct.shop_id)
    done = messages(bulk.shop_id, "prices")
    assert len(done) == len(products) and {m.status for m in done} == {MessageStatus.DONE.value}

    mark = calls.mark()
    again = prices.run(bulk.shop_id, today=today)
    assert calls.names(mark) == []  # zero mutations, zero reads
    assert again.variants_sent == 0 and again.unchanged == len(bulk_catalog)


def test_bulk_prices_name_a_refused_sku_and_land_its_siblings(chain):
    shop = chain.install("precos-bulk-recusa", 1, 1, [1])
    set_threshold(shop.shop_id, 0)
    catalog = chain.load_catalog(shop)
    product = next(
        p
        for p in {d["product_id"] for d in catalog.values()}
        if sum(d["product_id"] == p for d in catalog.values()) > 1
    )
    bad, good = [s for s, d in catalog.items() if d["product_id"] == product][:2]
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    result = prices.run(shop.shop_id)
    assert result.bulk and result.failed == [bad]
    assert result.variants_sent == len(catalog) - 1
    assert chain.variant(shop, catalog[good]["variant_id"])["price"] != "1.00"
    failed = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    assert len(failed) == 1 and failed[0].error_class == "rejected"
    assert failed[0].error_detail["user_errors"][0]["sku"] == bad


def test_first_stock_pass_stocks_items_without_activation_calls(chain, calls):
    shop = chain.install("estoque-inicial", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, stocked=False, priced=True)  # no level anywhere yet
    mark = calls.mark()
    first = stock.run(shop.shop_id)
    names = calls.names(mark)
    assert "InventoryActivate" not in names
    writes = names.count("InventorySetAvailable")
    assert writes == first.batches == 3  # one batch of <= 250 levels per company
    assert first.levels_sent > 0 and first.failed == []
    for company in (1, 2, 3):
        rows = erp_stock(chain, company)
        for sku, data in catalog.items():
            row, s = rows[sku]
            want = expected(row, s, weighed=data["weighed"])
            if want is not None:
                assert chain.level(shop, data["inventory_item_id"], company) == want, (sku, company)
    mark = calls.mark()
    again = stock.run(shop.shop_id)
    assert calls.names(mark) == [] and again.levels_sent == 0


def test_policies_above_the_threshold_go_as_one_bulk_operation(chain, calls):
    shop = chain.install("politica-bulk", 1, 1, [1])
    set_threshold(shop.shop_id, 0)
    catalog = chain.load_catalog(shop, priced=True)
    seqs = sorted({d["seq_produto"] for d in catalog.values()})[:3]
    for seq in seqs:  # three products without stock control in the linked company
        erp_update(
            chain, t.mrl_produtoempresa, {"nroempresa": 1, "seqproduto": seq}, indcontrolaestoqueecomm="N"
        )
    mark = calls.mark()
    first = stock.run(shop.shop_id)
    names = calls.names(mark)
    assert "ProductVariantsBulkUpdate" not in names and names.count("BulkOperationRunMutation") == 1
    assert first.policies_sent == len(seqs) and first.failed == []
    for data in catalog.values():
        want = "CONTINUE" if data["seq_produto"] in seqs else "DENY"
        assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == want
    policy = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:policy:")]
    assert len(policy) == len(seqs) and {m.status for m in policy} == {MessageStatus.DONE.value}
    mark = calls.mark()
    stock.run(shop.shop_id)
    assert calls.names(mark) == []


def _shopify_side_failure(chain, mutation: str) -> Any:
    """Make the sandbox's bulk operation fail line 0 of `mutation` on Shopify's side (top-level
    errors, INTERNAL_SERVER_ERROR); returns the undo."""
    sandbox_bulk = chain.shopify.sandbox.bulk
    original = sandbox_bulk._line

    def hiccup(executor: Any, shop_: str, op: dict, raw: str, number: int) -> Any:
        if number == 0 and mutation in op["query"]:
            error = {"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
            return {"errors": [error], "data": {mutation: None}, "__lineNumber": 0}
        return original(executor, shop_, op, raw, number)

    sandbox_bulk._line = hiccup
    return lambda: setattr(sandbox_bulk, "_line", original)


def test_a_bulk_price_line_shopify_failed_on_its_side_is_retried_not_refused(chain):
    """What a direct call raises as transient (Shopify's INTERNAL_SERVER_ERROR) is transient on
    the bulk path too: the product's message retries and its prices are not marked refused."""
    shop = chain.install("precos-bulk-500", 1, 1, [1])
    set_threshold(shop.shop_id, 0)
    catalog = chain.load_catalog(shop)
    undo = _shopify_side_failure(chain, "productVariantsBulkUpdate")
    try:
        with pytest.raises(Transient, match="on Shopify's side"):
            prices.run(shop.shop_id)
    finally:
        undo()
    retrying = [m for m in messages(shop.shop_id, "prices") if m.status != MessageStatus.DONE.value]
    assert [m.status for m in retrying] == [MessageStatus.RETRYING.value]
    assert retrying[0].error_class == "transient"
    prices.run(shop.shop_id)
    assert all(str(chain.variant(shop, d["variant_id"])["price"]) != "0.00" for d in catalog.values())
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_a_bulk_policy_line_shopify_failed_on_its_side_is_retried_not_refused(chain):
    shop = chain.install("politica-bulk-500", 1, 1, [1])
    set_threshold(shop.shop_id, 0)
    catalog = chain.load_catalog(shop, priced=True)
    seqs = sorted({d["seq_produto"] for d in catalog.values()})[:3]
    for seq in seqs:
        erp_update(
            chain, t.mrl_produtoempresa, {"nroempresa": 1, "seqproduto": seq}, indcontrolaestoqueecomm="N"
        )
    undo = _shopify_side_failure(chain, "productVariantsBulkUpdate")
    try:
        with contextlib.suppress(Transient):
            stock.run(shop.shop_id)
    finally:
        undo()
    policy = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:policy:")]
    assert sorted(m.error_class or "" for m in policy) == ["", "", "transient"]
