"""Order latency benchmark: webhook received -> ERP order created, at a steady order rate, one worker.

Stack: a fresh PostgreSQL database and Redis; the Consinco and Shopify sandboxes each in their own
process (their own core and GIL); the app (create_app, werkzeug threads) receiving the signed
webhooks; ONE production RQ worker (jobs.worker's forking LedgerWorker) in a subprocess. Orders
are placed through the Shopify sandbox's checkout at `--rate` orders/s for `--seconds`.

Latency of an order = the ERP-accepted time recorded on its message (finished_at, written right
after POST PedidoVenda answered) minus the time the app received the order's first webhook
(the inbox row's received_at, written before Shopify got its 200). Orders are placed once the
worker is up (registered with RQ), as in production. Printed: p50 / p99 and the rate actually
sustained (goal at 20 orders/s with one worker: p50 <= 1 s, p99 <= 3 s).

The shop's Admin API tier bounds the drain rate before any CPU does: each order is read once
with OrderForErp, whose actual cost (~50 points for these two-line orders) the shop's leaky
bucket restores at 100 points/s on `standard` (2 orders/s after the 2,000-point burst) and
1,000/s on `plus`. `--tier` picks the sandbox shop's tier; the run prints the cost it measured
and the rate the tier allows, so a figure is never read without its bound. The default is `plus`:
20 orders/s (72,000 an hour) is a Plus merchant's rate; on `standard` Shopify itself allows one
app ~2 such reads per second, whatever the app does.

    python -m bench order_latency [--rate 20] [--seconds 15] [--simple] [--tier plus|standard|advanced]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from typing import Any

import requests
from sqlalchemy import select

from bench._order_stack import WorkerProcess, order_stack


def place_at_rate(shopify_url: str, shop: Any, rate: float, seconds: float) -> tuple[list[str], float]:
    """Place `rate` orders/s for `seconds` (a few threads keep the pace); the gids and the elapsed time."""
    skus = list(shop.variants)
    total = int(rate * seconds)
    placed: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()
    slots = iter(range(total))

    def worker() -> None:
        session = requests.Session()
        for n in slots:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lines = [
                {"sku": skus[n % len(skus)], "quantity": 1 + n % 3},
                {"sku": skus[(n + 1) % len(skus)], "quantity": 1},
            ]
            body = {"count": 1, "lines": lines, "gateway": "pix", "discount_rate": 0.2, "seed": n}
            answer = session.post(f"{shopify_url}/_sandbox/shops/{shop.name}/checkout", json=body, timeout=30)
            answer.raise_for_status()
            with lock:
                placed.extend(answer.json()["orders"])

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return placed, time.monotonic() - start


def latencies(shop_id: int, domain: str, arrivals: dict[str, Any] | None = None) -> dict[str, float]:
    """Seconds from the first webhook of each order to its ERP order, by order id (`arrivals`, when
    given, receives each order's first webhook time)."""
    from ledger.db import session_scope
    from ledger.models import Message, MessageStatus, WebhookInbox

    first_seen: dict[str, Any] = {}
    with session_scope() as session:
        rows = session.execute(
            select(WebhookInbox.raw_body, WebhookInbox.received_at).where(
                WebhookInbox.shop_domain == domain, WebhookInbox.topic.in_(("orders/create", "orders/paid"))
            )
        ).all()
        for body, received in rows:
            num = str(json.loads(bytes(body))["id"])
            if num not in first_seen or received < first_seen[num]:
                first_seen[num] = received
        done = session.execute(
            select(Message.unit_key, Message.finished_at).where(
                Message.shop_id == shop_id,
                Message.flow == "orders",
                Message.status == MessageStatus.DONE.value,
            )
        ).all()
    if arrivals is not None:
        arrivals.update(first_seen)
    return {
        key: (finished - first_seen[key.split(":", 1)[1]]).total_seconds()
        for key, finished in done
        if key.split(":", 1)[1] in first_seen
    }


def read_cost(domain: str, order_gid: str) -> Any:
    """What one OrderForErp read of a placed order costs on the shop's bucket (extensions.cost)."""
    from jobs import order_clients

    return order_clients.admin_client(domain).executor.execute("OrderForErp", {"id": order_gid}).cost


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench order_latency")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long orders are placed")
    parser.add_argument("--simple", action="store_true", help="RQ SimpleWorker (no fork per job) instead")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the backlog")
    parser.add_argument(
        "--tier", default="plus", help="the sandbox shop's Admin API tier (plus, standard, advanced...)"
    )
    args = parser.parse_args(argv)
    with order_stack(args.tier) as stack:
        shopify, shop = stack.shopify, stack.shop
        worker = None
        try:
            worker = WorkerProcess(stack.env, simple=args.simple)
            worker.wait_ready(stack.redis_url)
            started = time.monotonic()
            placed, elapsed = place_at_rate(shopify.url, shop, args.rate, args.seconds)
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline and len(latencies(shop.shop_id, shop.domain)) < len(placed):
                time.sleep(1.0)
            drained = time.monotonic() - started  # to within the 1 s poll
            arrivals: dict[str, Any] = {}
            seen = latencies(shop.shop_id, shop.domain, arrivals)
            cost = read_cost(shop.domain, placed[0]) if placed else None
        finally:
            if worker is not None:
                worker.stop()
    values = sorted(seen.values())
    if len(values) < 2:
        print(f"only {len(values)} of {len(placed)} orders reached the ERP")
        return 1
    cuts = statistics.quantiles(values, n=100, method="inclusive")  # never beyond the slowest order
    kind = "SimpleWorker, no fork per job" if args.simple else "forking LedgerWorker, production"
    print(
        f"one RQ worker ({kind}); orders placed: {len(placed)} at {len(placed) / elapsed:.1f}/s "
        f"(asked {args.rate:g}/s for {args.seconds:g} s); in the ERP: {len(values)}"
    )
    print(
        f"webhook received -> ERP order created: p50 {cuts[49]:.2f} s   p99 {cuts[98]:.2f} s   "
        f"max {values[-1]:.2f} s   (goal p50 <= 1 s, p99 <= 3 s)"
    )
    in_order = [seen[key] for key in sorted(seen, key=lambda key: arrivals[key.split(":", 1)[1]])]
    tenth = max(1, len(in_order) // 10)
    slices = [statistics.median(in_order[at : at + tenth]) for at in range(0, len(in_order), tenth)]
    medians = "  ".join(f"{value:.2f}" for value in slices)
    print(f"median latency by tenth of the orders, first placed first: {medians}")
    print(
        f"in the ERP {drained:.0f} s after the first order was placed ({len(values) / drained:.1f} orders/s)"
    )
    if cost is not None and cost.actual and cost.restore_rate:
        print(
            f"Admin API tier {args.tier}: OrderForErp costs {cost.actual:.0f} points (requested "
            f"{cost.requested:.0f}); {cost.restore_rate:.0f} points/s allow "
            f"{cost.restore_rate / cost.actual:.1f} orders/s after a {cost.maximum_available:.0f}-point burst"
        )
    return 0 if len(values) == len(placed) else 1
