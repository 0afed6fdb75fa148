"""A prices run that lost its flow lock (Redis restarted without its data, or its heartbeat stalled
past the TTL) went on writing Shopify; only its watermark advance was fenced. The run that took the
lock meanwhile sent the newer ERP price; the older run then overwrote it with the price it had read
earlier, and its retry read from the newer run's watermark: the store sold at the old price until
the daily sweep. The fence is now checked before every mutation (shopify_app.admin_api.executor)."""

from __future__ import annotations

import contextvars
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from jobs import prices
from jobs.price_map import PriceState, erp_today, target_price
from ledger.errors import Transient
from ledger.kv import get_redis
from sandbox.consinco import tables as t
from settings import get_settings
from tests.catalog_prices_stock.chain import erp_update


def _beyond_the_overlap(monkeypatch) -> None:
    """Each pass reads from its watermark only (as when more than the 120 s overlap passed)."""
    real = prices.erp_for_shop
    monkeypatch.setattr(prices, "erp_for_shop", lambda shop_id, **o: real(shop_id, overlap=timedelta(0), **o))


def _erp_price(chain, sku):
    erp = chain.erp()
    try:
        return {i.id_sku: i for i in erp.price_items(None, 1, 1)}[sku]
    finally:
        erp.close()


def test_a_run_that_lost_its_lock_does_not_overwrite_the_newer_runs_price(chain, monkeypatch):
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("trava-perdida", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)
    # no promotion anywhere: the normal price is what Shopify shows
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    prices.run(shop.shop_id, today=today)  # baseline: every price in Shopify, watermark set
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    seq = data["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 1.5, 1)  # the change run A reads

    real_apply = prices.apply
    state = {"a": True}

    def apply(shop_id, client, states, today, **kw):
        if state.pop("a", False):  # run A has read the ERP; now its lock lapses
            get_redis().delete(f"lock:flow:{shop_id}:prices")  # Redis lost it (restart, or TTL lapsed)
            chain.consinco.erp.simulator.update_prices([seq], 2.0, 1)  # the store corrects the price
            b = threading.Thread(
                target=contextvars.Context().run, args=(prices.run, shop_id), kwargs={"today": today}
            )
            b.start()  # run B: the next tick's (or the lost due run enqueued again), another worker
            b.join()
            state["after_b"] = Decimal(str(chain.variant(shop, data["variant_id"])["price"]))
        return real_apply(shop_id, client, states, today, **kw)

    monkeypatch.setattr(prices, "apply", apply)
    with pytest.raises(Transient) as stopped:  # A stops before its first write: RQ retries it
        prices.run(shop.shop_id, today=today)
    assert stopped.value.words and stopped.value.words[0] == "flow_lock_lost"
    prices.run(shop.shop_id, today=today)  # A's retry (or the next scheduled pass)

    want = target_price(PriceState.from_item(_erp_price(chain, sku)), today).price
    assert state["after_b"] == want  # run B sent the ERP's current price
    shown = Decimal(str(chain.variant(shop, data["variant_id"])["price"]))
    assert shown == want, (
        f"Shopify sells SKU {sku} at {shown}, the ERP says {want}: the run that lost its lock wrote its "
        f"older price over the newer run's, and no later pass reads the row again"
    )
