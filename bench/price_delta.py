"""Issue 6 benchmark 3: a price delta of 1% of SKUs, calls per touched product (goal <= 1).

Same setup as bench/stock_delta.py (both sandboxes in this process, SQLite ledger, the catalog
created in Shopify). The prices flow makes its initial sync; the ERP then changes the normal
price of products holding ~`--delta` of the SKUs (company 1, every segment); the flow syncs the
delta. Printed: productVariantsBulkUpdate calls / products touched, and the calls of a run where
nothing changed (goal 0).

    python -m bench price_delta --skus 5000

Figures (2026-11-28): --skus 1000 --companies 2: 11 SKUs of 9 products changed, 9
productVariantsBulkUpdate calls = 1.00 call per touched product (goal <= 1), 14 points each;
no-change sync 0 calls.
"""

from __future__ import annotations

import argparse
import random
import sys

from bench.stock_delta import bench_chain, measured


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench price_delta")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=2)
    parser.add_argument("--delta", type=float, default=0.01, help="share of SKUs whose price changes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from jobs import prices

    with bench_chain(args.skus, args.companies, args.seed) as bench:
        measured(bench, "initial sync", prices.run)
        by_product: dict[int, int] = {}
        for data in bench.catalog.values():
            by_product[data["seq_produto"]] = by_product.get(data["seq_produto"], 0) + 1
        rng = random.Random(args.seed)
        wanted = max(1, int(len(bench.catalog) * args.delta))
        touched: list[int] = []
        for seq in rng.sample(sorted(by_product), len(by_product)):
            if sum(by_product[s] for s in touched) >= wanted:
                break
            touched.append(seq)
        bench.chain.consinco.erp.simulator.update_prices(touched, 1.07, 1)
        result, made, _ = measured(bench, "delta sync", prices.run)
        updates = [name for _, name, _ in made if name == "ProductVariantsBulkUpdate"]
        skus = sum(by_product[s] for s in touched)
        print(f"changed {skus} SKUs of {len(touched)} products; {result.variants_sent} variants sent")
        # Every call the delta made counts (reads, a bulk operation's staging, start and polls when
        # past the bulk threshold), not the direct updates alone: those read 0 on the bulk path.
        print(
            f"calls per touched product: {len(made) / len(touched):.2f} (goal <= 1; every call of the "
            f"delta); ProductVariantsBulkUpdate calls: {len(updates)}; calls in all: {len(made)}"
        )
        _, unchanged, _ = measured(bench, "no-change sync", prices.run)
        print(f"calls for unchanged prices: {len(unchanged)} (goal 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
