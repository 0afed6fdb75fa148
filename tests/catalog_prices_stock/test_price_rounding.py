"""Consinco keeps prices with 4 decimals, Shopify takes cents: the price decisions (is there a price,
is there a promotion) are made on the amounts Shopify gets, rounded to the cent, or a price under
half a centavo (a typing slip for 4.00, a token price) was sold at R$ 0.00, and a promotion that
rounds away showed a strike-through equal to the price ("de R$ 10,00 por R$ 10,00")."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, update

from jobs import prices, reconcile, stock
from jobs.price_map import PriceState, VariantPrice, erp_today, target_price, variant_input
from jobs.reconcile_prices import expected_prices
from ledger import bindings
from ledger.db import get_engine, session_scope
from ledger.mappings import upsert_mapping
from ledger.models import Binding, MessageStatus, Watermark, utcnow
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages

TODAY = date(2026, 11, 25)
MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0014_price_bindings_under_a_cent_due.py"


def _state(normal: str, promotional: str | None = None, sale_active: bool = True) -> PriceState:
    return PriceState.from_data(
        {"id_sku": "P919E1", "seq_produto": 919, "normal": normal, "promotional": promotional,
         "promo_start": "2026-11-20", "promo_end": "2026-12-05", "promotion_flag": True,
         "sale_active": sale_active}
    )  # fmt: skip


def test_a_normal_price_under_half_a_centavo_is_no_price_and_not_for_sale():
    for normal in ("0.0040", "0.0049", "0", "-0.0040"):
        state = _state(normal)
        assert not state.priced and not state.sale_active, normal
        assert target_price(state, TODAY) == VariantPrice(None, None, False), normal
        assert "price" not in variant_input("gid://shopify/ProductVariant/1", target_price(state, TODAY))
    state = _state("0.0050")  # half a centavo rounds up: R$ 0.01 is a price
    assert state.priced and target_price(state, TODAY) == VariantPrice(D("0.01"), None, True)


def test_a_promotion_is_decided_on_the_amounts_shopify_gets():
    # a promotional price under half a centavo is none: the normal price stands, no strike-through
    assert target_price(_state("9.99", "0.0040"), TODAY) == VariantPrice(D("9.99"), None, True)
    # a promotion that rounds to the normal price is none: no compare-at equal to the price
    assert target_price(_state("10.0000", "9.9960"), TODAY) == VariantPrice(D("10.00"), None, True)
    # one that still lowers the price by a centavo once rounded runs
    assert target_price(_state("10.0000", "9.9940"), TODAY) == VariantPrice(D("9.99"), D("10.00"), True)


def test_a_kg_variant_decides_on_its_unit_price_once_rounded():
    kg = D("0.1")  # a weighed item sold in steps of 100 g
    # 12.99 and 12.95 per kg are both R$ 1.30 a step: no promotion
    assert target_price(_state("12.99", "12.95"), TODAY, kg) == VariantPrice(D("1.30"), None, True)
    assert target_price(_state("12.99", "12.90"), TODAY, kg) == VariantPrice(D("1.29"), D("1.30"), True)
    # 0.04 per kg is R$ 0.004 a step: no price, not for sale
    assert target_price(_state("0.04"), TODAY, kg) == VariantPrice(None, None, False)


def _shown(chain, shop, variant_id) -> tuple[D, D | None]:
    doc = chain.variant(shop, variant_id)
    compare = doc.get("compareAtPrice")
    return D(str(doc["price"])), None if compare is None else D(str(compare))


def _plain_sku(catalog) -> tuple[str, dict[str, Any]]:
    return next((s, d) for s, d in catalog.items() if D(d["qtd_embalagem"]) == 1 and not d["weighed"])


def _where(data, company: int = 1, segment: int = 1) -> dict[str, Any]:
    """The SKU's price row at (company, segment): its packaging's quantity (1, or 1 kg)."""
    qtd = int(D(data["qtd_embalagem"]))
    return {
        "nroempresa": company,
        "nrosegmento": segment,
        "seqproduto": data["seq_produto"],
        "qtdembalagem": qtd,
    }


def _no_promotions(chain) -> None:
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)


def test_a_store_price_under_half_a_centavo_is_held_off_sale_not_sold_at_zero(chain, calls):
    """Normal 0.0040: as a normal price of 0 (Consinco's "no price"), nothing is sent, the SKU goes
    off sale (DENY, stock 0) and a failed message of its own names it; a re-run costs nothing."""
    shop = chain.install("normal-centavo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d)
        for s, d in catalog.items()
        if D(d["qtd_embalagem"]) == 1 and not d["weighed"]
        and (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )  # fmt: skip
    before = _shown(chain, shop, data["variant_id"])
    erp_update(chain, t.mrl_prodempseg, _where(data), precovalidnormal=0.004, statusvenda="A")
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)

    assert _shown(chain, shop, data["variant_id"]) == before  # its last price kept, never R$ 0.00
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    unit = f"price:{data['seq_produto']}:{sku}"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    assert said.status == MessageStatus.FAILED.value and said.error_detail["code"] == "NO_PRICE"
    assert said.error_text.startswith(f"{sku}: the ERP's price 0.004 for company 1 segment 1 is R$ 0.00")
    mark = calls.mark()
    assert prices.run(shop.shop_id, today=today).variants_sent == 0
    assert calls.mutations(mark) == []

    erp_update(chain, t.mrl_prodempseg, _where(data), precovalidnormal=4.0)  # the slip corrected
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)
    assert _shown(chain, shop, data["variant_id"]) == (D("4.00"), None)
    assert chain.level(shop, data["inventory_item_id"], 1) > 0
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_a_promotional_price_under_half_a_centavo_leaves_the_normal_price(chain):
    shop = chain.install("promo-centavo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    sku, data = _plain_sku(catalog)
    erp_update(chain, t.mrl_prodempseg, _where(data), precovalidnormal=9.99, precovalidpromoc=0.004,
               dtainicioprom=today, dtafimprom=today + timedelta(days=3))  # fmt: skip
    prices.run(shop.shop_id, today=today)
    assert _shown(chain, shop, data["variant_id"]) == (D("9.99"), None), sku


def test_a_promotion_that_rounds_to_the_normal_price_shows_no_strike_through_nor_drift(chain, calls):
    """Normal 10.0000, promotional 9.9960: the same R$ 10.00 once rounded, so no promotion; the
    reconciliation expects what was decided (no compare-at), and a compare-at put back by hand is
    drift."""
    shop = chain.install("promo-arredonda", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    sku, data = _plain_sku(catalog)
    erp_update(chain, t.mrl_prodempseg, _where(data), precovalidnormal=10.0, precovalidpromoc=9.996,
               dtainicioprom=today, dtafimprom=today + timedelta(days=3))  # fmt: skip
    prices.run(shop.shop_id, today=today)
    assert _shown(chain, shop, data["variant_id"]) == (D("10.00"), None), sku
    mark = calls.mark()
    prices.run(shop.shop_id, today=today + timedelta(days=4))  # its end date passes: nothing changes
    assert calls.mutations(mark) == []

    assert _catalog(chain, shop)["prices_differ"] == []
    _set_by_hand(shop, data, compareAtPrice="10.00")
    (row,) = _catalog(chain, shop)["prices_differ"]
    assert (row["sku"], row["shopify_compare_at"], row["erp_compare_at"]) == (sku, "10.00", "none"), row


def test_a_kg_variant_whose_unit_price_rounds_to_zero_is_off_sale(chain):
    """A weighed item sold in steps of 100 g at 0.04 per kg: R$ 0.00 a step, so no price and off
    sale, as its price binding tells the stock flow; 12.99 on promotion at 12.95 per kg is R$ 1.30
    a step either way: no strike-through."""
    shop = chain.install("kg-centavo", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg="0.1")
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    kg = [(s, d) for s, d in catalog.items() if d["weighed"]]
    assert len(kg) >= 2, "the sandbox catalog has weighed items"
    (cheap, cheap_data), (promo, promo_data) = kg[:2]
    erp_update(chain, t.mrl_prodempseg, _where(cheap_data), precovalidnormal=0.04, statusvenda="A")
    erp_update(chain, t.mrl_prodempseg, _where(promo_data), precovalidnormal=12.99, precovalidpromoc=12.95,
               dtainicioprom=today, dtafimprom=today + timedelta(days=3))  # fmt: skip
    prices.run(shop.shop_id, today=today)
    stock.run(shop.shop_id)

    assert _shown(chain, shop, promo_data["variant_id"]) == (D("1.30"), None), promo
    assert chain.variant(shop, cheap_data["variant_id"])["inventoryPolicy"] == "DENY", cheap
    assert chain.level(shop, cheap_data["inventory_item_id"], 1) == 0
    with session_scope() as session:
        bound = bindings.get_many(session, shop.shop_id, bindings.PRICE_KIND, [cheap])[cheap]
        assert bound.data["sale_active"] is False
    unit = f"price:{cheap_data['seq_produto']}:{cheap}"
    assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key == unit] == [
        MessageStatus.FAILED.value
    ]


def test_a_market_price_under_half_a_centavo_is_no_fixed_price(chain, calls):
    """Normal 0.0031 at a market's pair: no fixed price of R$ 0.00; the one sent before is removed
    (the market falls back to the base price) and the SKU's LIST_NO_PRICE message says so."""
    shop = chain.install("lista-centavo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2")
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    sku, data = _plain_sku(catalog)
    assert data["variant_id"] in _list_prices(chain, shop)
    erp_update(chain, t.mrl_prodempseg, _where(data, 2, 2), precovalidnormal=0.0031)
    prices.run(shop.shop_id, today=today)

    assert data["variant_id"] not in _list_prices(chain, shop), sku
    unit = f"pricelist:{market.id.rsplit('/', 1)[-1]}:sku:{sku}"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    assert said.status == MessageStatus.FAILED.value and said.error_detail["code"] == "LIST_NO_PRICE"
    assert said.error_text.startswith(f"{sku}: the ERP's price 0.0031 for company 2 segment 2 is R$ 0.00")
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert calls.mutations(mark) == []


def test_a_price_decided_by_the_earlier_rule_is_sent_again_once(chain, calls):
    """After the upgrade (migration 0014), a SKU the earlier rule sold at R$ 0.00, or showed with a
    compare-at equal to its price, is decided again by the next pass, although its ERP row does not
    change: sent once, the pass after costs nothing. A price whole to the cent is not looked at."""
    shop = chain.install("regra-antiga", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotions(chain)
    today = erp_today(get_settings().erp_timezone)
    plain = [(s, d) for s, d in catalog.items() if D(d["qtd_embalagem"]) == 1 and not d["weighed"]]
    (zero, zero_data), (even, even_data) = plain[0], plain[1]
    erp_update(chain, t.mrl_prodempseg, _where(zero_data), precovalidnormal=0.004, statusvenda="A")
    erp_update(chain, t.mrl_prodempseg, _where(even_data), precovalidnormal=10.0, precovalidpromoc=9.996,
               dtainicioprom=today - timedelta(days=1), dtafimprom=today + timedelta(days=3))  # fmt: skip
    prices.run(shop.shop_id, today=today)
    # What the earlier rule sent and remembered: R$ 0.00 for sale, and 10.00 struck through at 10.00.
    earlier = {zero: VariantPrice(D("0.00"), None, True), even: VariantPrice(D("10.00"), D("10.00"), True)}
    with session_scope() as session:
        for sku, sent in earlier.items():
            row = bindings.get_many(session, shop.shop_id, bindings.PRICE_KIND, [sku])[sku]
            row.digest = sent.digest()
            row.data = {**row.data, "sale_active": True, "recheck_on": None}
    _set_by_hand(shop, zero_data, price="0.00", compareAtPrice=None, inventoryPolicy="CONTINUE")
    _set_by_hand(shop, even_data, compareAtPrice="10.00")
    with session_scope() as session:  # the ERP rows are long read: behind the watermark
        session.execute(update(Watermark).where(Watermark.shop_id == shop.shop_id, Watermark.flow == "prices")
                        .values(last_changed_at=utcnow() + timedelta(hours=1), boundary=[]))  # fmt: skip
    mark = calls.mark()
    assert prices.run(shop.shop_id, today=today).read == 0
    assert calls.mutations(mark) == []  # without the upgrade, nothing would ever send them again

    _upgrade_0014()
    with session_scope() as session:
        due = session.scalars(
            select(Binding.erp_id).where(
                Binding.shop_id == shop.shop_id,
                Binding.kind == bindings.PRICE_KIND,
                Binding.data["recheck_on"].as_string() <= today.isoformat(),
            )
        ).all()
    assert set(due) == {zero, even}, due
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert calls.mutations(mark) == ["ProductVariantsBulkUpdate"] * len(
        {zero_data["product_id"], even_data["product_id"]}
    )
    assert _shown(chain, shop, even_data["variant_id"]) == (D("10.00"), None)
    assert chain.variant(shop, zero_data["variant_id"])["inventoryPolicy"] == "DENY"
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert calls.mutations(mark) == []
    with session_scope() as session:
        assert set(expected_prices(session, shop.shop_id, _variants(shop.shop_id), today)) >= {even}


def _upgrade_0014() -> None:
    """The migration's data step, run on the test database (its schema is already at head)."""
    spec = importlib.util.spec_from_file_location("migration_0014", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with get_engine().begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module.upgrade()


def _variants(shop_id: int) -> dict[str, tuple[str, dict[str, Any]]]:
    with session_scope() as session:
        rows = session.scalars(select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "variant"))
        return {b.erp_id: (b.shopify_id, dict(b.data or {})) for b in rows}


def _list_prices(chain, shop) -> dict[str, Any]:
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return price_list["prices"]


def _catalog(chain, shop) -> dict[str, Any]:
    erp = chain.erp()
    client = for_shop(shop.domain)
    try:
        return reconcile._catalog(shop.shop_id, client, erp, 1000)
    finally:
        client.close()
        erp.close()


def _set_by_hand(shop, data: dict[str, Any], **fields: Any) -> None:
    client = for_shop(shop.domain)
    try:
        client.variants_bulk_update(data["product_id"], [{"id": data["variant_id"], **fields}])
    finally:
        client.close()
