"""The reconciliation's price check compares the compare-at (strike-through) price too: a promotion
shows price = promotional and compareAtPrice = normal, no promotion shows no compare-at. A
compare-at changed or removed by hand in Shopify, or one left after the ERP's promotion ended
(a write lost), is drift named with both sides; the Replay of the product's prices message it
points to sends the ERP's price and compare-at again, and the next report finds it in step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs import prices, reconcile
from jobs.price_map import erp_today
from jobs.reconcile_prices import Expected, price_differs
from ledger.db import session_scope
from ledger.models import Message
from sandbox.consinco import tables as t
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update


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


def _message_id(shop_id: int, unit_key: str) -> int:
    with session_scope() as session:
        return session.scalars(
            select(Message.id).where(
                Message.shop_id == shop_id, Message.flow == "prices", Message.unit_key == unit_key
            )
        ).one()


def test_a_compare_at_price_out_of_step_is_drift_and_the_replay_of_its_message_fixes_it(chain):
    shop = chain.install("compare-at", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    # Only this test's promotion runs (the generated chain has its own).
    erp_update(
        chain, t.mrl_prodempseg, {"nroempresa": 1}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None
    )
    plain = [s for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1 and not d["weighed"]]
    promo_sku, plain_sku = plain[0], next(s for s in plain[1:] if catalog[s]["seq_produto"]
                                           != catalog[plain[0]]["seq_produto"])  # fmt: skip
    promo, other = catalog[promo_sku], catalog[plain_sku]
    erp = chain.erp()
    item = next(i for i in erp.price_items(None, 1, 1) if i.id_sku == promo_sku)
    erp.close()
    key = (1, 1, item.seq_produto, int(item.qtd_embalagem))
    chain.consinco.erp.simulator.set_promotion(key, 0.2, days=3)
    prices.run(shop.shop_id, today=erp_today(get_settings().erp_timezone))
    normal = chain.variant(shop, promo["variant_id"])["compareAtPrice"]
    promotional = chain.variant(shop, promo["variant_id"])["price"]
    assert normal is not None and Decimal(promotional) < Decimal(normal)
    assert _catalog(chain, shop)["prices_differ"] == []  # as the prices flow set them

    # By hand in Shopify: the promotion's normal price changed, another SKU given a strike-through
    # the ERP has no promotion for (or a promotion ended in the ERP whose clearing write was lost).
    _set_by_hand(shop, promo, compareAtPrice="99.90")
    _set_by_hand(shop, other, compareAtPrice="123.45")
    other_price = chain.variant(shop, other["variant_id"])["price"]

    catalog_report = _catalog(chain, shop)

    rows = {row["sku"]: row for row in catalog_report["prices_differ"]}
    assert set(rows) == {promo_sku, plain_sku}, catalog_report["prices_differ"]
    assert catalog_report["prices_differ_count"] == 2
    row = rows[promo_sku]
    assert (row["shopify"], row["erp"]) == (promotional, promotional)
    assert (row["shopify_compare_at"], row["erp_compare_at"]) == ("99.90", normal)
    assert row["why"] == f"compare-at price in Shopify 99.90, ERP {normal}", row
    assert row["message"] == f"price:{promo['seq_produto']}"
    assert row["fix"] == (f"Replay the prices message price:{promo['seq_produto']} to send the ERP's "
                          "price and compare-at price again")  # fmt: skip
    row = rows[plain_sku]
    assert (row["shopify_compare_at"], row["erp_compare_at"]) == ("123.45", "none")
    assert row["why"] == "compare-at price in Shopify 123.45, ERP none (no promotion running in the ERP)"
    assert row["shopify"] == row["erp"] == other_price
    assert reconcile.summary({"catalog": catalog_report})["prices_differ_in_shopify"] == 2

    _set_by_hand(shop, promo, compareAtPrice=None)  # the strike-through removed by hand
    row = {r["sku"]: r for r in _catalog(chain, shop)["prices_differ"]}[promo_sku]
    assert (row["shopify_compare_at"], row["erp_compare_at"]) == ("none", normal), row
    assert row["why"] == f"compare-at price in Shopify none, ERP {normal} (a promotion is running in the ERP)"

    # The repair: a person's Replay of each product's prices message (the row names it).
    for row in _catalog(chain, shop)["prices_differ"]:
        prices.replay(_message_id(shop.shop_id, row["message"]), erp_price_back=True)

    assert chain.variant(shop, promo["variant_id"])["compareAtPrice"] == normal
    assert chain.variant(shop, other["variant_id"])["compareAtPrice"] is None
    assert _catalog(chain, shop)["prices_differ"] == []


def test_price_and_compare_at_are_equal_to_the_cent_and_null_against_a_value_differs():
    """Pure: amounts compare as amounts ("6.0" is 6.00); a compare-at on one side only differs,
    both sides named, and the row says which prices message's Replay sends the ERP's again."""
    promo = Expected(Decimal("4.80"), Decimal("6.00"), "price:12")
    plain = Expected(Decimal("6.00"), None, "price:12")
    v = "gid://shopify/ProductVariant/1"
    assert price_differs("P12E1", v, promo, "4.8", "6.0") is None
    assert price_differs("P12E1", v, plain, "6.00", None) is None
    assert price_differs("P12E1", v, plain, "6.00", "") is None
    assert price_differs("P12E1", v, None, "1.00", "9.00") is None  # not compared

    row = price_differs("P12E1", v, promo, "4.80", "6.01")
    assert row is not None and row["why"] == "compare-at price in Shopify 6.01, ERP 6.00"
    row = price_differs("P12E1", v, plain, "6.00", "7.50")
    assert (
        row is not None
        and row["why"] == "compare-at price in Shopify 7.50, ERP none (no promotion running in the ERP)"
    )
    row = price_differs("P12E1", v, promo, "6.00", None)  # the promotion's price and compare-at both lost
    assert row == {
        "sku": "P12E1",
        "variant": v,
        "shopify": "6.00",
        "erp": "4.80",
        "shopify_compare_at": "none",
        "erp_compare_at": "6.00",
        "why": "price in Shopify 6.00, ERP 4.80; compare-at price in Shopify none, ERP 6.00 "
        "(a promotion is running in the ERP)",
        "message": "price:12",
        "fix": "Replay the prices message price:12 to send the ERP's price and compare-at price again",
        # the texts' words, which the report's page says in the merchant's language
        "why_words": [
            {
                "key": "recon_price_differs",
                "params": {"shopify": {"money": "6.00"}, "erp": {"money": "4.80"}},
            },
            {
                "key": "recon_compare_at_differs",
                "params": {
                    "shopify": {"key": "recon_price_none", "params": {}},
                    "erp": {"money": "6.00"},
                    "meaning": {"key": "recon_promotion_running", "params": {}},
                },
            },
        ],
        "fix_words": [{"key": "recon_price_fix", "params": {"message": "price:12"}}],
    }
    row = price_differs("P12E1", v, plain, "0.99", None)  # the price alone: its words as before
    assert row is not None and row["why"] == "price in Shopify 0.99, ERP 6.00"
