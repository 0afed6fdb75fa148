"""The chaos run in the suite (bench/chaos_orders.py; N = 24 here, larger with `python -m bench`).

Duplicate and reordered webhook deliveries, the ERP answering 20% 5xx and down for a window, a
forking RQ worker SIGKILLed mid-job, Redis restarted: exactly N ERP orders, 0 duplicates, 0 lost;
then every ERP order invoiced under the same faults (a worker killed mid-job and Redis restarted
again): every NF-e key on its Shopify order.
"""

from __future__ import annotations

import os

from bench.chaos_orders import run_chaos

ORDERS = 24


def test_chaos_gives_exactly_one_erp_order_per_shopify_order(world, redis_server):
    env = {key: os.environ[key] for key in ("APP_ENV", "DATABASE_URL", "REDIS_URL", "SHOPIFY_BASE_URL")}
    report = run_chaos(
        world.shop,
        world.shopify,
        world.chain,
        redis_server.restart,
        env,
        ORDERS,
        settle_timeout=150,
        log=print,
    )
    print("\n".join(report.lines()))
    assert report.placed == ORDERS
    assert report.lost == []
    assert report.duplicates == 0
    assert report.erp_orders == ORDERS
    assert report.messages_done == ORDERS
    assert report.worker_killed_mid_job
    assert report.duplicate_deliveries > 0  # the chaos really happened
    assert report.invoiced == ORDERS and report.invoice_worker_killed and report.redis_restarts == 2
    assert report.keys_missing == [] and report.keys_wrong == []
    assert report.ok()
