"""A "promotional" price the ERP holds at or above the normal one (typed by mistake, or a stale one
kept) is no promotion: neither the store's price nor a market's list price goes up."""

from __future__ import annotations

from decimal import Decimal

from jobs import prices
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.mappings import upsert_mapping
from sandbox.consinco import tables as t
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update


def _erp_item(chain, company, segment, sku):
    erp = chain.erp()
    try:
        return {i.id_sku: i for i in erp.price_items(None, company, segment)}[sku]
    finally:
        erp.close()


def test_a_promotion_above_the_normal_price_raises_neither_the_store_nor_the_list_price(chain):
    shop = chain.install("promo-acima", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2")
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    for company, segment in ((1, 1), (2, 2)):  # 30% above the normal price, running today
        chain.consinco.erp.simulator.set_promotion((company, segment, data["seq_produto"], 1), -0.3)
    store_item, list_item = _erp_item(chain, 1, 1, sku), _erp_item(chain, 2, 2, sku)
    assert store_item.promotional > store_item.normal and list_item.promotional > list_item.normal

    prices.run(shop.shop_id, today=erp_today(get_settings().erp_timezone))

    variant = chain.variant(shop, data["variant_id"])
    assert Decimal(str(variant["price"])) == store_item.normal and variant.get("compareAtPrice") is None
    store = chain.shopify.sandbox.store
    (fixed,) = [p for p in store.scan(shop.name, "PriceListPrice") if p["variantId"] == data["variant_id"]]
    assert Decimal(fixed["price"]["amount"]) == list_item.normal and fixed["compareAtPrice"] is None
