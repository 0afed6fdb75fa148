"""Two markets sharing one catalog (and so one price list) in Shopify, mapped to different ERP
pairs: the pair bound to it first keeps it; the other is refused, named, instead of both writing
their prices over each other's every pass."""

from __future__ import annotations

from decimal import Decimal

from jobs import price_list_preview, prices
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.mappings import delete_mapping, upsert_mapping
from ledger.models import MessageStatus
from sandbox.shopify.resolvers.pricing import currency_settings
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import messages


def _two_markets_one_catalog(chain, shop) -> list[str]:
    """A second market beside the shop's, both on one catalog of the merchant's with its list."""
    store = chain.shopify.sandbox.store
    rio = store.new_gid("Market")
    market = {"__typename": "Market", "id": rio, "name": "Rio", "handle": "rio", "enabled": True,
              "primary": False, "status": "ACTIVE", "type": "REGION", "assignedCustomization": False,
              "currencySettings": currency_settings()}  # fmt: skip
    store.put(shop.name, market, keys={"kind": "market"})
    client = for_shop(shop.domain)
    markets = [m.id for m in client.markets()]
    shared = client.catalog_create("Merchant shared", markets)
    client.price_list_create("Merchant list", "BRL", catalog_id=shared.id)
    client.close()
    return markets


def test_two_markets_sharing_a_list_mapped_to_the_same_pair_share_it(chain, calls) -> None:
    """As the refusal of two pairs advises: both markets mapped to one pair take its list (they
    were refused all the same, every pass), the second sending nothing the first sent; one of them
    unmapped leaves the list's prices to the other (emptying it would take them from both)."""
    shop = chain.install("dois-mercados-um-par", 1, 1, [1])
    chain.load_catalog(shop)
    markets = _two_markets_one_catalog(chain, shop)
    today = erp_today(get_settings().erp_timezone)
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", markets[0], "2:1", "A")
    prices.run(shop.shop_id, today=today)
    (listed,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    before = dict(listed["prices"])
    assert before
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", markets[1], "2:1", "B")
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert "PriceListFixedPricesAdd" not in calls.mutations(mark)
    assert [m.unit_key for m in messages(shop.shop_id, "prices") if m.status != "done"] == []

    with session_scope() as session:
        delete_mapping(session, shop.shop_id, "segment_market", markets[0])
    assert price_list_preview._retiring(shop.shop_id, {f"2:1@{markets[1]}"}) == []  # the dry run says so
    mark = calls.mark()
    prices.run(shop.shop_id, today=today)
    assert "PriceListFixedPricesDelete" not in calls.mutations(mark)
    (listed,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert listed["prices"] == before
    assert [m.unit_key for m in messages(shop.shop_id, "prices") if m.status != "done"] == []


def test_a_list_two_mapped_markets_share_is_kept_by_one_pair_and_refused_to_the_other(chain, calls) -> None:
    shop = chain.install("dois-mercados", 1, 1, [1])
    chain.load_catalog(shop)
    markets = _two_markets_one_catalog(chain, shop)
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", markets[0], "2:1", "A")
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)  # pair 2:1 takes the market's list
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", markets[1], "3:1", "B")
    (listed,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    before = dict(listed["prices"])

    for _ in range(2):
        mark = calls.mark()
        prices.run(shop.shop_id, today=today)
        assert "PriceListFixedPricesAdd" not in calls.mutations(mark)  # nobody overwrites anybody

    (listed,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert listed["prices"] == before and all(Decimal(p) > 0 for p in before.values())
    refused = [
        m
        for m in messages(shop.shop_id, "prices")
        if (m.error_detail or {}).get("code") == "MARKET_LIST_SHARED"
    ]
    assert len(refused) == 1 and refused[0].status == MessageStatus.FAILED.value
    assert "2:1" in (refused[0].error_text or "") and markets[1] in (refused[0].error_text or "")
