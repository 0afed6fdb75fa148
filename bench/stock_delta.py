"""Issue 6 benchmark 2: a stock delta of 10% of N SKUs x 10 companies.

Both sandboxes run in this process; the ledger is a temporary SQLite file; Redis is REDIS_URL or a
private redis-server. The catalog is created in the Shopify sandbox (as the products/SKUs
flows would), the stock flow makes its initial sync, then the ERP moves the stock of `--delta`
of the products at every company and the flow syncs the delta. Printed:

- Shopify cost points per changed level in the delta run (goal <= 0.05);
- Shopify calls of a run where nothing changed (goal 0: unchanged items cost no call).

    python -m bench stock_delta                 # 1,000 SKUs x 10 companies
    python -m bench stock_delta --skus 50000    # the issue's size (long: the catalog is created first)

Figures (2026-11-28, shared 2-core machine under load, Shopify sandbox costs):
--skus 5000 --companies 10: 3,570 product x company rows moved, 4,247 levels changed, delta sync
20 calls (InventorySetAvailable only, no reads: changeFromQuantity is the level last written),
220 points = 0.0518 points per changed level; no-change sync 0 calls. Each call costs 11 points
whatever its size, so the figure is 11 x ceil(n/250) / n per company: ~425 changed levels per
company here (two calls, one half full); at the issue's 50,000 SKUs (~4,250 per company, 17 calls)
it is 0.044 (goal <= 0.05). --skus 300: 0.48 (one call of ~25 levels per company).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Bench:
    chain: Any
    shop: Any
    catalog: dict[str, dict[str, Any]]
    calls: Any


@contextmanager
def bench_chain(skus: int, companies: int, seed: int = 1, *, priced: bool = False) -> Iterator[Bench]:
    """Both sandboxes, a migrated SQLite ledger, one installed shop with its catalog loaded
    (`priced`: as if the prices flow had run; the stock flow holds unpriced variants at 0)."""
    from bench._redis import start_redis
    from ledger.schema import upgrade
    from sandbox.consinco.runner import serve_in_thread as consinco_in_thread
    from sandbox.shopify.runner import serve_in_thread as shopify_in_thread
    from tests.catalog_prices_stock.chain import Chain, counting

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ledger.db"
        upgrade(url)
        os.environ["DATABASE_URL"] = url
        redis_url, redis_proc = start_redis()  # a private server: flow locks are not shared
        os.environ["REDIS_URL"] = redis_url
        locations = tuple((f"Loja {n}", f"Rua {n}", "São Paulo", "SP") for n in range(1, companies + 1))
        consinco = consinco_in_thread(port=0, db=f"{tmp}/erp.db", skus=skus, companies=companies, seed=seed)
        shopify = shopify_in_thread(port=0, seed_locations=locations)
        os.environ["SHOPIFY_BASE_URL"] = shopify.url
        try:
            chain = Chain(consinco, shopify)
            shopify.sandbox.shops.ensure("bench")
            shopify.sandbox.shops.set_tier("bench", "plus")  # the setup is not what we measure
            shop = chain.install("bench", 1, 1, list(range(1, companies + 1)))
            started = time.monotonic()
            catalog = chain.load_catalog(shop, priced=priced)
            print(f"catalog: {len(catalog)} SKUs created in Shopify in {time.monotonic() - started:.1f} s")
            with counting() as calls:
                yield Bench(chain, shop, catalog, calls)
        finally:
            shopify.stop()
            consinco.stop()
            if redis_proc is not None:
                redis_proc.stop()


def measured(bench: Bench, label: str, job: Any) -> tuple[Any, list[tuple[str, str, float]], float]:
    mark = bench.calls.mark()
    started = time.monotonic()
    result = job(bench.shop.shop_id)
    elapsed = time.monotonic() - started
    made = bench.calls.since(mark)
    points = sum(cost for _, _, cost in made)
    print(f"{label}: {len(made)} calls, {points:.0f} cost points, {elapsed:.1f} s")
    return result, made, points


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench stock_delta")
    parser.add_argument("--skus", type=int, default=1000, help="SKUs in the chain (the issue: 50000)")
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--delta", type=float, default=0.10, help="share of products whose stock moves")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from jobs import stock

    with bench_chain(args.skus, args.companies, args.seed, priced=True) as bench:
        measured(bench, "initial sync", stock.run)
        products = sorted({d["seq_produto"] for d in bench.catalog.values()})
        rng = random.Random(args.seed)
        moved = 0
        for company in range(1, args.companies + 1):
            for seq in rng.sample(products, max(1, int(len(products) * args.delta))):
                bench.chain.consinco.erp.simulator.move_stock(company, seq, rng.choice([-5, -2, 12, 24]))
                moved += 1
        result, made, points = measured(bench, "delta sync", stock.run)
        changed = result.levels_sent
        _, unchanged_calls, _ = measured(bench, "no-change sync", stock.run)
        names = sorted({name for _, name, _ in made})
        print(
            f"moved {moved} product x company rows; {changed} levels changed ({result.unchanged} unchanged "
            f"skipped); operations: {', '.join(names)}"
        )
        per_level = points / changed if changed else 0.0
        print(f"cost points per changed level: {per_level:.4f} (goal <= 0.05)")
        print(f"calls for unchanged items: {len(unchanged_calls)} (goal 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
