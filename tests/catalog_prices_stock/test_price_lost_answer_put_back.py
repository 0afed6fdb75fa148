"""A price write Shopify applied with its answer lost (Transient), then the ERP put back to the price
Shopify held before (a typing error corrected before the retry, a promotion cancelled): the binding
kept the old price's digest, which the ERP's price matched, so nothing was sent again and the store
kept the lost write's price for good (the daily sweep too). An unsure write's digest is now UNKNOWN
(jobs.price_send.record_unknown): the next pass sends the ERP's price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from jobs import prices
from jobs.price_map import erp_today
from ledger.errors import Transient
from sandbox.consinco import tables as t
from settings import get_settings
from shopify_app.admin_api.catalog_ops import CatalogOperations
from tests.catalog_prices_stock.chain import erp_update
from tests.catalog_prices_stock.worker_killed import killed_once_the_bulk_finished


def shown(chain, shop, variant_id):
    doc = chain.variant(shop, variant_id)
    c = doc.get("compareAtPrice")
    return Decimal(str(doc["price"])), None if c is None else Decimal(str(c))


def _lost_answer(monkeypatch, method: str, run) -> None:
    """`run` with Shopify applying `method`'s write and its answer lost (Transient)."""
    real = getattr(CatalogOperations, method)

    def applied_then_lost(self, *a, **k):
        real(self, *a, **k)
        raise Transient("read timeout after Shopify applied the write")

    with monkeypatch.context() as patched:
        patched.setattr(CatalogOperations, method, applied_then_lost)
        with pytest.raises(Transient):
            run()


def _priced(chain, name: str) -> tuple[Any, date, dict[str, Any], dict[str, Any], tuple]:
    """A store priced by a first pass, no promotion running: (shop, the ERP's today, a plain SKU's
    catalog data, its price row's key, what Shopify shows for it)."""
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    _sku, data = next(
        (s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1 and not d.get("weighed")
    )
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    return shop, today, data, where, shown(chain, shop, data["variant_id"])


def test_a_lost_answers_price_put_back_in_the_erp_is_sent_again(chain, monkeypatch):
    shop, today, data, where, before = _priced(chain, "perdida-volta")
    # the operator types a wrong price
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(before[0] * 10))
    _lost_answer(monkeypatch, "variants_bulk_update", lambda: prices.run(shop.shop_id, today=today))
    # the operator corrects it before the retry
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(before[0]))
    prices.run(shop.shop_id, today=today)  # RQ's retry / next pass
    assert shown(chain, shop, data["variant_id"]) == before
    prices.sweep(shop.shop_id, today=today)  # even the daily whole read
    assert shown(chain, shop, data["variant_id"]) == before


def test_a_lost_answers_promotion_cancelled_in_the_erp_is_taken_off(chain, monkeypatch):
    """A promotion set in the ERP is sent, Shopify applies it but the answer is lost; the buyer
    cancels the promotion in the ERP before the retry: the store keeps the promotional price and
    the strike-through for good (the daily sweep too sees an unchanged digest)."""
    shop = chain.install("perdida-promo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    _sku, data = next(
        (s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1 and not d.get("weighed")
    )
    key = (1, 1, data["seq_produto"], 1)
    before = shown(chain, shop, data["variant_id"])
    chain.consinco.erp.simulator.set_promotion(key, 0.2, days=7)
    _lost_answer(monkeypatch, "variants_bulk_update", lambda: prices.run(shop.shop_id, today=today))
    chain.consinco.erp.simulator.set_promotion(key, None)  # cancelled in the ERP
    prices.run(shop.shop_id, today=today)
    prices.sweep(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == before


def test_a_market_list_price_whose_answer_was_lost_and_put_back_in_the_erp_is_sent_again(chain, monkeypatch):
    """The same on a market's price list (priceListFixedPricesAdd): a lost answer's prices are due
    again whatever the ERP says next, as a refused one's are."""
    from sandbox.shopify.state_dump import dump
    from tests.catalog_prices_stock.test_price_lists import _list_market

    shop = chain.install("perdida-lista", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)  # pair 2:2
    prices.run(shop.shop_id)
    _sku, data = next(iter(catalog.items()))

    def listed() -> str:
        (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
        return price_list["prices"][data["variant_id"]]

    before = listed()
    where = {
        "nroempresa": 2,
        "nrosegmento": 2,
        "seqproduto": data["seq_produto"],
        "qtdembalagem": data["qtd_embalagem"],
    }
    erp_update(
        chain, t.mrl_prodempseg, where, precovalidnormal=float(Decimal(before) * 10), precovalidpromoc=0
    )
    _lost_answer(monkeypatch, "price_list_fixed_prices_add", lambda: prices.run(shop.shop_id))
    assert Decimal(listed()) != Decimal(before)  # Shopify took it; the app does not know
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(before), precovalidpromoc=0)
    prices.run(shop.shop_id)
    assert Decimal(listed()) == Decimal(before)


def test_a_bulk_price_a_killed_worker_left_applied_and_the_erp_put_back_is_sent_again(chain, monkeypatch):
    """The bulk twin: the pass goes bulk, Shopify applies the operation, the worker dies before it
    reads the results (no outcome recorded at all); the operator corrects the ERP price back before
    the next pass. The prices were unsure from the operation's start: the next pass sends them."""
    from tests.catalog_prices_stock.test_first_pass import set_threshold

    shop, today, data, where, before = _priced(chain, "perdida-bulk-volta")
    set_threshold(shop.shop_id, 0)  # this pass goes bulk
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(before[0] * 10))  # a typo
    killed_once_the_bulk_finished(monkeypatch, lambda: prices.run(shop.shop_id, today=today))
    assert shown(chain, shop, data["variant_id"])[0] == before[0] * 10  # Shopify applied it
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=float(before[0]))  # corrected
    prices.run(shop.shop_id, today=today)  # the next pass
    assert shown(chain, shop, data["variant_id"]) == before
