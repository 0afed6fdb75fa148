"""The prices flow against both sandboxes: idempotence, promotions by ERP change and by date,
inactive sale status, grouping per product, two stores on different (company, segment)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from jobs import prices, stock, stock_writer
from jobs.price_map import erp_today
from ledger import bindings
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import Binding, MessageStatus, StoreLink
from sandbox.consinco import tables as t
from settings import get_settings

from .chain import erp_update, messages


def erp_prices(chain, company, segment):
    erp = chain.erp()
    try:
        return {i.id_sku: i for i in erp.price_items(None, company, segment)}
    finally:
        erp.close()


def shown(chain, shop, variant_id):
    doc = chain.variant(shop, variant_id)
    compare = doc.get("compareAtPrice")
    return Decimal(str(doc["price"])), None if compare is None else Decimal(str(compare))


def test_prices_land_once_per_product_and_a_rerun_costs_nothing(chain, calls):
    shop = chain.install("precos", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop)
    items = erp_prices(chain, 1, 1)
    mark = calls.mark()
    today = erp_today(get_settings().erp_timezone)  # the ERP sandbox's day (its promotions)
    first = prices.run(shop.shop_id, today=today)
    products = {v["product_id"] for v in catalog.values()}
    assert first.variants_sent == len(catalog)
    assert calls.mutations(mark) == ["ProductVariantsBulkUpdate"] * len(products)  # one call per product
    for sku, data in catalog.items():
        item = items[sku]
        price, compare = shown(chain, shop, data["variant_id"])
        if item.promotional is not None and item.promotion_running:
            assert (price, compare) == (item.promotional, item.normal)
        else:
            assert (price, compare) == (item.normal, None)
    mark = calls.mark()
    again = prices.run(shop.shop_id, today=today)
    assert calls.names(mark) == []  # zero mutations, zero reads
    assert again.variants_sent == 0 and again.unchanged == len(catalog)
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_promotion_starts_ends_by_erp_and_ends_by_date(chain, calls):
    shop = chain.install("promo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    # Only this test's promotion runs (the generated chain has its own, ending on other dates).
    erp_update(
        chain, t.mrl_prodempseg, {"nroempresa": 1}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None
    )
    today = erp_today(get_settings().erp_timezone)  # the ERP sandbox's day (its promotions)
    prices.run(shop.shop_id, today=today)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    item = erp_prices(chain, 1, 1)[sku]
    key = (1, 1, item.seq_produto, int(item.qtd_embalagem))
    chain.consinco.erp.simulator.set_promotion(key, None)
    prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == (item.normal, None)

    chain.consinco.erp.simulator.set_promotion(key, 0.2, days=3)  # starts today, ends in 3 days
    promo = erp_prices(chain, 1, 1)[sku]
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == (promo.promotional, promo.normal)
    assert calls.mutations(mark) == ["ProductVariantsBulkUpdate"]  # only the touched product

    mark = calls.mark()
    prices.run(shop.shop_id, today=today + timedelta(days=2))  # still running: nothing to do
    assert calls.mutations(mark) == []
    prices.run(shop.shop_id, today=today + timedelta(days=4))  # ended by date, no ERP row changed
    assert shown(chain, shop, data["variant_id"]) == (promo.normal, None)
    assert calls.mutations(mark) == ["ProductVariantsBulkUpdate"]
    mark = calls.mark()
    prices.run(shop.shop_id, today=today + timedelta(days=5))
    assert calls.mutations(mark) == []

    chain.consinco.erp.simulator.set_promotion(key, 0.1, days=7)
    prices.run(shop.shop_id, today=today)
    chain.consinco.erp.simulator.set_promotion(key, None)  # ended early in the ERP
    prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == (promo.normal, None)


@pytest.mark.parametrize("start,end", [(-1, None), (None, 3)], ids=["start-only", "end-only"])
def test_a_promotion_with_only_one_of_its_dates_is_not_running(chain, start, end):
    """A promotional price runs when dtaInicioPromoc <= today <= dtaFimPromoc (consinco-api.md):
    with only a start or only an end date the ERP does not run it, so the store shows the normal
    price with no strike-through, not the promotional one."""
    shop = chain.install("promo-meia-data", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    today = erp_today(get_settings().erp_timezone)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    normal = erp_prices(chain, 1, 1)[sku].normal
    erp_update(
        chain,
        t.mrl_prodempseg,
        where,
        precovalidpromoc=float((normal / 2).quantize(Decimal("0.01"))),
        dtainicioprom=None if start is None else today + timedelta(days=start),
        dtafimprom=None if end is None else today + timedelta(days=end),
    )
    item = erp_prices(chain, 1, 1)[sku]
    assert item.promotional is not None and not item.promotion_running  # the ERP's own word
    prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == (normal, None)


def test_inactive_sale_status_denies_and_zeroes_stock_then_comes_back(chain, calls):
    shop = chain.install("inativo", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d)
        for s, d in catalog.items()
        if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
        and (chain.level(shop, d["inventory_item_id"], 2) or 0) > 0
    )
    seq, qtd = data["seq_produto"], int(Decimal(data["qtd_embalagem"]))
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": seq, "qtdembalagem": qtd}
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="I")
    prices.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    with session_scope() as session:
        assert bindings.get_many(session, shop.shop_id, "price", [sku])[sku].data["sale_active"] is False
    stock.run(shop.shop_id)  # no ERP stock row changed: the prices flow's recheck brings it in
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    assert chain.level(shop, data["inventory_item_id"], 2) == 0

    erp_update(chain, t.mrl_prodempseg, where, statusvenda="A")
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) > 0  # the remembered ERP figure is back
    mark = calls.mark()
    stock.run(shop.shop_id)
    prices.run(shop.shop_id)
    assert calls.names(mark) == []


def _stock_reads_from_its_watermark(monkeypatch) -> None:
    """Each stock pass reads the ERP rows changed since its watermark only (as when more than the
    reads' overlap passed): a level comes back by a recheck, not by the row read again."""
    real = stock.erp_for_shop
    monkeypatch.setattr(
        stock, "erp_for_shop", lambda shop_id, **o: real(shop_id, **{"overlap": timedelta(0), **o})
    )


def test_a_sale_status_flip_the_prices_flow_writes_during_a_stock_pass_is_taken_by_the_next(
    chain, monkeypatch
):
    """The prices flow runs under its own lock: a SKU put back on sale while a stock pass writes the
    0 it planned from the earlier flip asks for a recheck again. The pass forgets only the requests
    it read (same updated_at), so the next pass brings the level back, though no ERP stock row
    moved."""
    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("volta-durante", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d) for s, d in catalog.items() if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    had = chain.level(shop, data["inventory_item_id"], 1)
    seq, qtd = data["seq_produto"], int(Decimal(data["qtd_embalagem"]))
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": seq, "qtdembalagem": qtd}
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="I")
    prices.run(shop.shop_id)  # off sale: a recheck asks the stock flow for 0
    real_write = stock_writer.BatchWriter.write

    def write_while_the_prices_flow_runs(self, entries):
        monkeypatch.setattr(stock_writer.BatchWriter, "write", real_write)
        erp_update(chain, t.mrl_prodempseg, where, statusvenda="A")  # back on sale meanwhile
        prices.run(shop.shop_id)
        return real_write(self, entries)

    monkeypatch.setattr(stock_writer.BatchWriter, "write", write_while_the_prices_flow_runs)
    stock.run(shop.shop_id)  # writes the 0 planned before the flip back
    assert stock_writer.BatchWriter.write is real_write
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == had, sku


def test_a_replay_of_one_companys_stock_leaves_the_other_companies_rechecks(chain, monkeypatch):
    """Replaying one company's stock (its refusal, once its location is mapped) re-evaluates the
    prices flow's rechecks for that company only: they stay for the next scheduled pass, which
    zeroes the SKU gone off sale at the other companies' locations too (no ERP stock row moved)."""
    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("replay-recheck", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d) for s, d in catalog.items() if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    seq, qtd = data["seq_produto"], int(Decimal(data["qtd_embalagem"]))
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": seq, "qtdembalagem": qtd}
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="I")
    prices.run(shop.shop_id)  # off sale: a recheck asks the stock flow for 0
    refused = next(m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:4:location")
    chain.map_location(shop, 4, 3)
    stock.replay(refused.id)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0, sku


def test_a_zero_normal_price_is_not_sent_the_sku_is_off_sale_said_by_name_and_comes_back(chain, calls):
    """PRECOVALIDNORMAL 0 is Consinco's "no price" for the company and segment: it is never sent as
    R$ 0.00; the SKU goes off sale (DENY, stock 0) as with statusVenda 'I', a failed message of its
    own names it and why, a re-run costs nothing, and a real price later sells it again."""
    shop = chain.install("preco-zero", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d)
        for s, d in catalog.items()
        if Decimal(d["qtd_embalagem"]) == 1 and (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    before = shown(chain, shop, data["variant_id"])
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=0, statusvenda="A")
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    assert shown(chain, shop, data["variant_id"]) == before  # not R$ 0.00
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    unit = f"price:{data['seq_produto']}:{sku}"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    assert said.status == MessageStatus.FAILED.value and said.error_class == "rejected"
    assert said.error_text.startswith(f"{sku}: the ERP has no price (0) for company 1 segment 1")
    mark = calls.mark()
    assert prices.run(shop.shop_id, today=today).variants_sent == 0
    assert calls.mutations(mark) == []

    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=12.34)
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    assert shown(chain, shop, data["variant_id"]) == (Decimal("12.34"), None)
    assert chain.level(shop, data["inventory_item_id"], 1) > 0  # for sale again
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_two_stores_on_different_companies_and_segments(chain):
    a = chain.install("loja-a", 1, 1, [1])
    b = chain.install("loja-b", 2, 2, [2])
    cat_a, cat_b = chain.load_catalog(a), chain.load_catalog(b)
    for shop in (a, b):
        prices.run(shop.shop_id)
        stock.run(shop.shop_id)
    items_a, items_b = erp_prices(chain, 1, 1), erp_prices(chain, 2, 2)
    differing_prices = differing_levels = 0
    for sku in cat_a:
        price_a, _ = shown(chain, a, cat_a[sku]["variant_id"])
        price_b, _ = shown(chain, b, cat_b[sku]["variant_id"])
        assert price_a == (
            items_a[sku].promotional if items_a[sku].promotion_running else items_a[sku].normal
        )
        assert price_b == (
            items_b[sku].promotional if items_b[sku].promotion_running else items_b[sku].normal
        )
        differing_prices += price_a != price_b
        differing_levels += chain.level(a, cat_a[sku]["inventory_item_id"], 1) != chain.level(
            b, cat_b[sku]["inventory_item_id"], 2
        )
    assert differing_prices > len(cat_a) // 2
    assert differing_levels > len(cat_a) // 2


def test_missing_store_link_parks_and_variant_appearing_later_gets_priced(chain):
    shop = chain.install("sem-variante", 1, 1, [1])
    result = prices.run(shop.shop_id)  # no catalog in Shopify yet: every SKU waits for its variant
    assert result.waiting > 0 and result.variants_sent == 0
    parked = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.PARKED.value]
    assert parked and parked[0].error_detail["mapping"]["kind"] == "variant"
    catalog = chain.load_catalog(shop)
    again = prices.run(shop.shop_id)  # no ERP change: the waiting SKUs are priced now
    assert again.variants_sent == len(catalog)
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_a_pass_parked_on_the_store_link_is_done_once_its_replay_runs_with_the_link(chain):
    """Saving the store link enqueues the parked message's replay (shopify_app.enqueue.resume_parked),
    which runs the whole pass: the message it replays must close, or it stays parked for ever."""
    shop = chain.install("sem-vinculo", 1, 1, [1])
    chain.load_catalog(shop)
    with session_scope() as session:
        session.execute(delete(StoreLink).where(StoreLink.shop_id == shop.shop_id))
    prices.run(shop.shop_id)
    [parked] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == prices.STORE_LINK_UNIT]
    assert parked.status == MessageStatus.PARKED.value
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 1)
    assert prices.replay(parked.id).variants_sent > 0
    [after] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == prices.STORE_LINK_UNIT]
    assert after.status == MessageStatus.DONE.value and after.response_payload == {"resumed": True}


def test_a_variant_whose_price_was_read_before_it_existed_is_not_sold_until_it_is_priced(chain, monkeypatch):
    """The prices pass read the ERP prices before the products flow created the variants (a first
    install, a product whose price and product rows appear together): nothing was sent, and the
    new variants hold no price (productSet leaves it out: R$ 0.00 in Shopify). A stock pass run
    before the next prices pass must not stock them; that prices pass prices them and asks the
    stock flow for their levels, which come although no ERP stock row moved."""
    from jobs import catalog_flow
    from shopify_app.admin_api import for_shop

    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("preco-antes", 1, 1, [1])
    assert prices.run(shop.shop_id).waiting > 0  # no variant yet: remembered, nothing sent
    client = for_shop(shop.domain)
    catalog_flow.run_flow(shop.shop_id, "products", client=client)
    client.close()
    with session_scope() as session:
        variants = session.scalars(
            select(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == "variant")
        ).all()
        items = {b.erp_id: b.data["inventory_item_id"] for b in variants}
        ids = {b.erp_id: b.shopify_id for b in variants}
    assert items

    def for_sale():
        return {
            sku: (chain.variant(shop, ids[sku])["price"], level)
            for sku, item in items.items()
            if (level := chain.level(shop, item, 1) or 0) > 0
        }

    stock.run(shop.shop_id)  # before the next prices pass
    assert for_sale() == {}  # (sku: Shopify price, units) stocked before any price was sent
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sold = for_sale()
    assert sold and all(Decimal(str(price)) > 0 for price, _ in sold.values())


def test_inactive_packaging_is_zeroed_when_the_products_flow_marks_it(chain):
    """The products flow keeps an inactive packaging's variant (DENY) and marks its binding
    inactive, then asks the stock flow to recheck it: its levels go to 0 everywhere."""
    shop = chain.install("embalagem-inativa", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d) for s, d in catalog.items() if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    with session_scope() as session:
        variant = bindings.get_many(session, shop.shop_id, "variant", [sku])[sku]
        bindings.upsert_many(
            session,
            shop.shop_id,
            "variant",
            [bindings.BindingRow(sku, variant.shopify_id, variant.digest, {**variant.data, "active": False})],
        )
        bindings.upsert_many(session, shop.shop_id, "stock_recheck", [bindings.BindingRow(sku, None)])
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    assert chain.level(shop, data["inventory_item_id"], 2) == 0


def test_a_transient_failure_keeps_the_prices_watermark_and_the_retry_sends_them(chain, monkeypatch):
    """Shopify down mid-pass: the watermark stays, so the RQ retry reads the same rows again
    (moved past them, the prices would be lost for good)."""
    import pytest

    from ledger import watermarks
    from ledger.errors import Transient
    from shopify_app.admin_api.catalog_ops import CatalogOperations

    shop = chain.install("precos-queda", 1, 1, [1])
    chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)

    def down(self, *args, **kwargs):
        raise Transient("Shopify answered 503")

    with monkeypatch.context() as patched:
        patched.setattr(CatalogOperations, "variants_bulk_update", down)
        with pytest.raises(Transient):
            prices.run(shop.shop_id, today=today)
    with session_scope() as session:
        assert watermarks.read(session, shop.shop_id, "prices", "1:1").last_changed_at is None
    assert prices.run(shop.shop_id, today=today).variants_sent > 0


def test_a_sku_without_stock_control_off_sale_and_back_before_any_stock_pass_sells_again(chain):
    """The prices flow sends inventoryPolicy DENY for a SKU not for sale; the stock flow resends a
    policy only when it differs from the one it remembers. The DENY is remembered as the stock
    flow's own, so a SKU sold without stock control (CONTINUE) that goes off sale and comes back
    with no stock pass in between is CONTINUE again after the next stock pass, not stuck at DENY."""
    shop = chain.install("preco-volta", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    with chain.consinco.erp.store.write() as (conn, now):
        pe = t.mrl_produtoempresa
        conn.execute(
            pe.update()
            .where(pe.c.seqproduto == data["seq_produto"])
            .values(indcontrolaestoqueecomm="N", dtaalteracao=now)
        )
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE"
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="I")
    prices.run(shop.shop_id, today=today)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="A")
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE", sku
