"""The reconciliation checks the markets' price lists (jobs.reconcile_price_lists): a fixed price
edited or removed by hand in the admin is drift named with its market, list and both sides, and is
sent again by the next prices pass, after which the report finds the list in step; a list deleted
in Shopify is drift too, forgotten so the next pass makes it again with every price; a list in step
reports nothing, and a shop with no market mapped has no such part."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobs import prices, reconcile, reconcile_price_lists
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.mappings import delete_mapping
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update
from .test_list_deleted import DELETE, _admin
from .test_price_lists import _beyond_the_overlap, _list_market


def _catalog(chain, shop) -> dict[str, Any]:
    erp, client = chain.erp(), for_shop(shop.domain)
    try:
        return reconcile._catalog(shop.shop_id, client, erp, 1000)
    finally:
        client.close()
        erp.close()


def _list(chain, shop) -> dict[str, Any]:
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return price_list


def _no_promotion_at_the_markets_pair(chain) -> None:
    erp_update(chain, t.mrl_prodempseg, {"nroempresa": 2}, precovalidpromoc=0, dtainicioprom=None,
               dtafimprom=None)  # fmt: skip


def test_list_prices_changed_or_removed_by_hand_are_drift_and_sent_again_by_the_next_pass(chain, monkeypatch):
    _beyond_the_overlap(monkeypatch)  # the ERP rows behind the watermark: only the check sends them
    shop = chain.install("lista-conferida", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotion_at_the_markets_pair(chain)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    price_list = _list(chain, shop)
    in_step = _catalog(chain, shop)
    assert in_step["list_prices_checked"] == len(catalog)
    assert (in_step["list_prices_differ"], in_step["list_prices_differ_count"]) == ([], 0)
    assert reconcile.summary({"catalog": in_step})["list_prices_differ_in_shopify"] == 0

    plain = sorted(s for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    edited, removed = plain[:2]
    erp_price = {s: price_list["prices"][catalog[s]["variant_id"]] for s in (edited, removed)}
    client = for_shop(shop.domain)  # a person edits one fixed price and removes another in the admin
    client.price_list_fixed_prices_add(
        price_list["id"],
        [{"variantId": catalog[edited]["variant_id"], "price": {"amount": "0.99", "currencyCode": "BRL"}}],
    )
    client.price_list_fixed_prices_delete(price_list["id"], [catalog[removed]["variant_id"]])
    client.close()
    prices.run(shop.shop_id)  # the ERP did not change: the pass alone does not see it
    assert _list(chain, shop)["prices"][catalog[edited]["variant_id"]] == "0.99"

    found = _catalog(chain, shop)

    assert found["list_prices_differ_count"] == 2
    rows = {row["sku"]: row for row in found["list_prices_differ"]}
    assert (rows[edited]["market"], rows[edited]["price_list"]) == ("Brasil", price_list["id"])
    assert (rows[edited]["shopify"], Decimal(rows[edited]["erp"])) == ("0.99", Decimal(erp_price[edited]))
    assert "price in Shopify 0.99" in rows[edited]["why"]
    assert rows[removed]["shopify"] == "none" and "shows the base price" in rows[removed]["why"]
    assert all(r["fix"].endswith("by the next prices pass") for r in rows.values())
    assert "message" not in rows[edited]  # no Replay to point to: the pass sends it by itself
    assert reconcile.summary({"catalog": found})["list_prices_differ_in_shopify"] == 2

    prices.run(shop.shop_id)  # the next pass sends both again
    listed = _list(chain, shop)["prices"]
    assert {s: listed.get(catalog[s]["variant_id"]) for s in (edited, removed)} == erp_price
    assert _catalog(chain, shop)["list_prices_differ_count"] == 0
    assert market


def test_a_prices_pass_sending_a_newer_erp_price_while_the_check_reads_is_not_undone(chain, monkeypatch):
    """The check reads drift, a scheduled pass meanwhile stores and sends the ERP's newer price: the
    check must not write its older copy back (the next pass would send the old price to the market)."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-corrida", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _no_promotion_at_the_markets_pair(chain)
    _list_market(shop)
    prices.run(shop.shop_id)
    price_list = _list(chain, shop)
    sku = sorted(s for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)[0]
    variant = catalog[sku]["variant_id"]
    newer = Decimal(price_list["prices"][variant]) + Decimal("3.00")
    client = for_shop(shop.domain)  # a person edits the fixed price in the admin
    client.price_list_fixed_prices_add(
        price_list["id"], [{"variantId": variant, "price": {"amount": "0.99", "currencyCode": "BRL"}}]
    )
    client.close()
    real = reconcile_price_lists.fixed_prices

    def read_then_a_pass_runs(*args: Any, **kwargs: Any) -> Any:
        held = real(*args, **kwargs)  # the check read 0.99: drift
        erp_update(chain, t.mrl_prodempseg, {"seqproduto": int(catalog[sku]["seq_produto"]), "nroempresa": 2},
                   precovalidnormal=float(newer))  # fmt: skip
        prices.run(shop.shop_id)  # the 5-minute pass sends the ERP's newer price
        return held

    monkeypatch.setattr(reconcile_price_lists, "fixed_prices", read_then_a_pass_runs)
    found = _catalog(chain, shop)
    monkeypatch.setattr(reconcile_price_lists, "fixed_prices", real)

    assert found["list_prices_differ_count"] == 1  # what it read then, reported
    assert Decimal(_list(chain, shop)["prices"][variant]) == newer
    prices.run(shop.shop_id)
    assert Decimal(_list(chain, shop)["prices"][variant]) == newer  # not the older price sent back
    assert _catalog(chain, shop)["list_prices_differ_count"] == 0


def test_a_list_deleted_in_shopify_is_drift_and_made_again_by_the_next_pass(chain):
    shop = chain.install("lista-apagada-conferida", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    prices.run(shop.shop_id)
    gone = _list(chain, shop)["id"]
    assert _admin(chain, shop, DELETE, {"id": gone})["priceListDelete"]["userErrors"] == []  # in the admin

    found = _catalog(chain, shop)

    [row] = found["list_prices_differ"]
    assert (row["price_list"], row["pair"]) == (gone, "2:2") and "deleted in Shopify" in row["why"]
    assert "made again by the next prices pass" in row["fix"]
    prices.run(shop.shop_id, today=erp_today(get_settings().erp_timezone))
    made = _list(chain, shop)
    assert made["id"] != gone and len(made["prices"]) == len(catalog)
    assert _catalog(chain, shop)["list_prices_differ_count"] == 0


def test_no_market_mapped_no_list_part_and_an_unmapped_list_is_not_checked(chain):
    shop = chain.install("lista-sem-mercado", 1, 1, [1])
    chain.load_catalog(shop)
    assert "list_prices_checked" not in _catalog(chain, shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    with session_scope() as session:  # the pair unmapped: its list is the prices flow's to empty
        assert delete_mapping(session, shop.shop_id, "segment_market", market)
    assert "list_prices_checked" not in _catalog(chain, shop)
