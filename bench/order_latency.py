"""Order latency benchmark: webhook received -> ERP order created, at a steady order rate, one worker.

Stack: a fresh PostgreSQL database and Redis; the Consinco and Shopify sandboxes each in their own
process (their own core and GIL); the app (create_app, werkzeug threads) receiving the signed
webhooks; ONE production RQ worker (jobs.worker's forking LedgerWorker) in a subprocess. Orders
are placed through the Shopify sandbox's checkout at `--rate` orders/s for `--seconds`.

Latency of an order = the ERP-accepted time recorded on its message (finished_at, written right
after POST PedidoVenda answered) minus the time the app received the order's first webhook
(the inbox row's received_at, written before Shopify got its 200). Printed: p50 / p99 and the
rate actually sustained (goal at 20 orders/s with one worker: p50 <= 1 s, p99 <= 3 s).

    python -m bench order_latency [--rate 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from types import SimpleNamespace
from typing import Any

import requests
from sqlalchemy import select

from bench._order_stack import (
    AppServer,
    SandboxProcess,
    WorkerProcess,
    install_shop,
    services,
    start_chain,
)


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


def latencies(shop_id: int, domain: str) -> dict[str, float]:
    """Seconds from the first webhook of each order to its ERP order, by order id."""
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
    return {
        key: (finished - first_seen[key.split(":", 1)[1]]).total_seconds()
        for key, finished in done
        if key.split(":", 1)[1] in first_seen
    }


def main(argv: list[str]) -> int:
    from jobs import order_clients
    from ledger import kv

    parser = argparse.ArgumentParser(prog="python -m bench order_latency")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long orders are placed")
    parser.add_argument("--simple", action="store_true", help="RQ SimpleWorker (no fork per job) instead")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the backlog")
    args = parser.parse_args(argv)
    with services() as (database_url, redis_process):
        env = {"APP_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_process.url}
        os.environ.update(env)
        chain = start_chain(own_process=True)
        app = AppServer(database_url, redis_process.url)
        shopify = SandboxProcess(
            ["sandbox.shopify", "--app-url", app.url, "--log-level", "WARNING"],
            probe="/_sandbox/webhooks/deliveries",
        )
        env["SHOPIFY_BASE_URL"] = os.environ["SHOPIFY_BASE_URL"] = shopify.url
        worker = None
        try:
            kv.reset_clients()
            order_clients.reset()
            shop = install_shop(SimpleNamespace(url=shopify.url), chain)
            worker = WorkerProcess(env, simple=args.simple)
            placed, elapsed = place_at_rate(shopify.url, shop, args.rate, args.seconds)
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline and len(latencies(shop.shop_id, shop.domain)) < len(placed):
                time.sleep(1.0)
            seen = latencies(shop.shop_id, shop.domain)
        finally:
            if worker is not None:
                worker.stop()
            shopify.stop()
            app.stop()
            chain.handle.stop()
    values = sorted(seen.values())
    if len(values) < 2:
        print(f"only {len(values)} of {len(placed)} orders reached the ERP")
        return 1
    cuts = statistics.quantiles(values, n=100)
    kind = "SimpleWorker, no fork per job" if args.simple else "forking LedgerWorker, production"
    print(
        f"one RQ worker ({kind}); orders placed: {len(placed)} at {len(placed) / elapsed:.1f}/s "
        f"(asked {args.rate:g}/s for {args.seconds:g} s); in the ERP: {len(values)}"
    )
    print(
        f"webhook received -> ERP order created: p50 {cuts[49]:.2f} s   p99 {cuts[98]:.2f} s   "
        f"max {values[-1]:.2f} s   (goal p50 <= 1 s, p99 <= 3 s)"
    )
    return 0 if len(values) == len(placed) else 1
