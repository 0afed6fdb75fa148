"""A market's price list deleted by the merchant in the admin (priceListDelete): the pass that next
meets its PRICE_LIST_NOT_FOUND forgets it (its binding, its prices' bindings, its watermark), says
so, sets the market up again and sends every price of the pair, not only the changed one."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from jobs import prices
from ledger.db import session_scope
from ledger.mappings import upsert_mapping
from ledger.models import Binding, MessageStatus
from sandbox.shopify.state_dump import dump
from shopify_app.admin_api import for_shop
from tests.catalog_prices_stock.chain import Chain, Installed, messages

DELETE = "mutation($id: ID!) { priceListDelete(id: $id) { deletedId userErrors { code } } }"


def _admin(chain: Chain, shop: Installed, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The merchant's own call (the admin), not the app's client."""
    api_key = chain.shopify.sandbox.options.api_key
    token = chain.shopify.sandbox.tokens.issue_access_token(shop.name, api_key, expiring=False)
    answer = requests.post(
        f"{chain.shopify.url}/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables},
        headers={"Host": shop.domain, "X-Shopify-Access-Token": token["access_token"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _market_on_a_list(chain: Chain, name: str) -> tuple[Installed, dict[str, Any], dict[str, Any], Any]:
    """A store whose market is mapped to the pair 2:2, its price list filled: (store, catalog, list,
    market)."""
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2")
    prices.run(shop.shop_id)
    (plist,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return shop, catalog, plist, market


def test_a_deleted_price_list_is_set_up_again_with_every_price(chain):
    shop, catalog, plist, market = _market_on_a_list(chain, "lista-apagada")
    before = plist["prices"]
    assert len(before) > 1
    done = _admin(chain, shop, DELETE, {"id": plist["id"]})["priceListDelete"]
    assert done == {"deletedId": plist["id"], "userErrors": []}
    seq = next(iter(catalog.values()))["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 1.2, 2)  # a change of the pair's price
    prices.run(shop.shop_id)
    (again,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert again["id"] != plist["id"]
    assert set(again["prices"]) == set(before), "every fixed price the list lost is sent again"
    failing = [(m.unit_key, m.error_text) for m in messages(shop.shop_id, "prices")
               if m.status == MessageStatus.FAILED.value]  # fmt: skip
    assert not failing
    said = [m for m in messages(shop.shop_id, "prices") if ":gone:" in m.unit_key]
    assert [m.error_detail["skip"]["key"] for m in said] == ["price_list_recreated"]
    assert plist["id"].rsplit("/", 1)[-1] in said[0].unit_key
    with session_scope() as session:
        (binding,) = session.scalars(
            select(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == "price_list")
        )
        assert binding.shopify_id == again["id"]
    # the catalog the app made for the market got the new list: no second catalog for it
    catalogs = [c for c in chain.shopify.sandbox.store.scan(shop.name, "MarketCatalog")
                if market.id in c["marketIds"]]  # fmt: skip
    assert [c["priceListId"] for c in catalogs] == [again["id"]]
    prices.run(shop.shop_id)  # and the next pass finds nothing to do
    assert len(dump(chain.shopify.sandbox, shop.name)["priceLists"]) == 1


def test_a_list_gone_is_met_by_a_removal_too(chain):
    """The pass's only call for the list is removing a fixed price (the ERP price went to 0)."""
    shop, catalog, plist, _market = _market_on_a_list(chain, "lista-sem-preco")
    _admin(chain, shop, DELETE, {"id": plist["id"]})
    seq = next(iter(catalog.values()))["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 0, 2)  # no price any more: its fixed price goes
    prices.run(shop.shop_id)
    (again,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    unpriced = {d["variant_id"] for d in catalog.values() if d["seq_produto"] == seq}
    assert unpriced and set(again["prices"]) == set(plist["prices"]) - unpriced
    said = [m for m in messages(shop.shop_id, "prices") if ":gone:" in m.unit_key]
    assert len(said) == 1


def test_a_list_deleted_with_no_erp_change_after_is_made_again_by_the_daily_sweep(chain):
    """No price of the pair changes after the list is deleted: the incremental pass sends nothing, and
    the daily sweep found the list on no catalog and asked a catalog for it (PRICE_LIST_NOT_FOUND,
    the market's setup failing every day, the market at the store pair's prices): it is made again."""
    from jobs import prices_full

    shop, _catalog, plist, _market = _market_on_a_list(chain, "lista-apagada-sweep")
    before = plist["prices"]
    _admin(chain, shop, DELETE, {"id": plist["id"]})

    prices_full.run(shop.shop_id)

    (made,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert made["id"] != plist["id"] and made["prices"] == before
    failed = [m.unit_key for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    assert failed == []
