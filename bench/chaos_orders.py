"""Chaos run of orders in: N orders must become exactly N ERP orders, with 0 duplicates and 0 lost.

While orders are placed through the Shopify sandbox's checkout (webhooks signed and delivered to
the app over HTTP, through the inbox, to real forking RQ workers in subprocesses):

- the sandbox duplicates 10% of webhook deliveries and delivers with a random jitter, so some
  orders/paid arrive before their orders/create (the run counts how many did);
- the Consinco sandbox answers 20% of calls with a 5xx, and is down for a window (503 + Retry-After);
- a worker is killed with SIGKILL (its whole process group) while a job is running, another starts;
- Redis is restarted without persistence: every queued and scheduled job is lost.

Then the scheduler's duties are played every 2 s until the ledger converges: `jobs.inbox.sweep`
(rows the receiver could not enqueue) and `jobs.orders.run` (the catch-up pass).

Then every ERP order is invoiced (an NF-e each) under the same faults, the ERP's 5xx and the
duplicated webhooks still on: the EventoPedido poll (`jobs.order_events.run`) and the catch-up are
played every 2 s while a worker is killed mid-job again and Redis restarted again, until every
Shopify order holds its NF-e key (the "nfe.chave" metafield equal to the ERP's key), or the time
is up: the keys missing and wrong are counted.

The suite runs this with N = 24 (tests/orders_in/test_chaos.py); `python -m bench chaos_orders
--orders 200` runs a larger one with its own PostgreSQL database, Redis, sandboxes and app.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from bench._order_stack import Chain, Shop, WorkerProcess

DUPLICATE_RATE = 0.10
REORDER_WINDOW = 0.5
ERP_ERROR_RATE = 0.20
ERP_DOWN_SECONDS = 4.0


@dataclass
class ChaosReport:
    placed: int = 0
    erp_orders: int = 0
    duplicates: int = 0
    lost: list[str] = field(default_factory=list)
    messages_done: int = 0
    duplicate_deliveries: int = 0
    paid_before_create: int = 0
    worker_killed_mid_job: bool = False
    workers_started: int = 0
    redis_restarts: int = 0
    seconds: float = 0.0
    not_done: dict[str, int] = field(default_factory=dict)  # message status -> count (orders not done)
    inbox: dict[str, int] = field(default_factory=dict)  # inbox status -> count (order topics)
    examples: list[str] = field(default_factory=list)  # why some orders are not done
    # POSTs of an order the ERP already had, answered "duplicado" with the first (a lost answer sent
    # again): the ERP sandbox keeps one order per idPedidoCanalVenda, as the app counts on the real
    # one doing (docs/consinco-api.md), so "duplicates" above counts what got past both
    erp_repeats: int = 0
    invoiced: int = 0  # ERP orders invoiced (an NF-e each)
    keys_missing: list[str] = field(default_factory=list)  # Shopify orders without their NF-e key
    keys_wrong: list[str] = field(default_factory=list)  # ... holding another key than the ERP's
    invoice_worker_killed: bool = False
    invoice_seconds: float = 0.0

    def ok(self) -> bool:
        orders = self.erp_orders == self.placed and self.duplicates == 0 and not self.lost
        return orders and self.invoiced == self.placed and not self.keys_missing and not self.keys_wrong

    def lines(self) -> list[str]:
        return [
            f"orders placed:                    {self.placed}",
            f"ERP orders (distinct):            {self.erp_orders}",
            f"duplicates in the ERP:            {self.duplicates}",
            f"POSTs the ERP answered duplicado: {self.erp_repeats}",
            f"lost (no ERP order):              {len(self.lost)}",
            f"order messages done:              {self.messages_done}",
            f"duplicate webhook deliveries:     {self.duplicate_deliveries}",
            f"orders/paid before orders/create: {self.paid_before_create}",
            f"worker SIGKILLed mid-job:         {self.worker_killed_mid_job}",
            f"workers started:                  {self.workers_started}",
            f"Redis restarts:                   {self.redis_restarts}",
            f"seconds to converge:              {self.seconds:.1f}",
            f"order messages not done:          {self.not_done or 'none'}",
            f"inbox rows of order topics:       {self.inbox}",
            f"ERP orders invoiced:              {self.invoiced}",
            f"NF-e keys missing in Shopify:     {len(self.keys_missing)}",
            f"NF-e keys wrong in Shopify:       {len(self.keys_wrong)}",
            f"worker SIGKILLed mid-invoice:     {self.invoice_worker_killed}",
            f"seconds for the keys:             {self.invoice_seconds:.1f}",
            *[f"  not done: {example}" for example in self.examples],
        ]


def _worker(env: dict[str, str]) -> WorkerProcess:
    """A forking worker of the run (its output to CHAOS_WORKER_LOG when set)."""
    return WorkerProcess(env, log_path=os.environ.get("CHAOS_WORKER_LOG"))


def _tick(shop: Shop) -> None:
    """The scheduler tick's duties the run plays: the inbox sweep and the orders' catch-up."""
    from jobs import inbox
    from jobs import orders as orders_flow

    inbox.sweep(older_than=timedelta(seconds=3))
    orders_flow.run(shop.shop_id, stale_after_seconds=10)


def _place(shopify: Any, shop: Shop, rng: random.Random, count: int, gids: list[str]) -> None:
    from sandbox.shopify.checkout import place_order

    skus = list(shop.variants)
    for _ in range(count):
        lines = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(skus, rng.randint(1, 3))]
        gateway = rng.choice(("pix", "cartao"))
        gids.append(place_order(shopify.sandbox, shop.name, lines=lines, gateway=gateway, rng=rng))
        time.sleep(0.02)


def _wait_for_running_job(timeout: float = 30.0) -> bool:
    from ledger import kv, queues

    registry = StartedJobRegistry(queues.ORDERS, connection=kv.get_redis())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.get_job_ids():
            return True
        time.sleep(0.01)
    return False


def _done_count(shop_id: int) -> int:
    from ledger.db import session_scope
    from ledger.models import Message, MessageStatus

    with session_scope() as session:
        return session.scalar(
            select(func.count()).where(
                Message.shop_id == shop_id,
                Message.flow == "orders",
                Message.status == MessageStatus.DONE.value,
            )
        )


def _paid_before_create(domain: str) -> int:
    """Orders whose orders/paid reached the inbox before their orders/create."""
    from ledger.db import session_scope
    from ledger.models import WebhookInbox

    first: dict[tuple[Any, str], int] = {}
    with session_scope() as session:
        rows = session.execute(
            select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.raw_body)
            .where(
                WebhookInbox.shop_domain == domain, WebhookInbox.topic.in_(("orders/create", "orders/paid"))
            )
            .order_by(WebhookInbox.id)
        ).all()
    for inbox_id, topic, body in rows:
        first.setdefault((json.loads(bytes(body))["id"], topic), inbox_id)
    ids = {key[0] for key in first}
    return sum(
        1 for i in ids if first.get((i, "orders/paid"), 1 << 62) < first.get((i, "orders/create"), 1 << 62)
    )


def run_chaos(
    shop: Shop,
    shopify: Any,
    chain: Chain,
    restart_redis: Callable[[], None],
    worker_env: dict[str, str],
    orders: int,
    *,
    seed: int = 7,
    settle_timeout: float = 150.0,
    log: Callable[[str], None] = lambda _: None,
) -> ChaosReport:
    """Place `orders` orders under every fault at once and count what the ERP ends up with."""

    rng = random.Random(seed)
    report = ChaosReport()
    chaos = shopify.sandbox.webhooks.chaos
    chaos.duplicate_rate, chaos.reorder, chaos.reorder_window = DUPLICATE_RATE, True, REORDER_WINDOW
    chaos.rng = random.Random(seed)  # the same duplicates and jitter for the same deliveries
    chain.handle.erp.faults.set(error_rate=ERP_ERROR_RATE, seed=seed)
    deliveries_before = len(shopify.sandbox.webhooks.deliveries)
    workers = [_worker(worker_env)]
    gids: list[str] = []
    third = max(1, orders // 3)
    started = time.monotonic()
    try:
        _place(shopify, shop, rng, third, gids)
        report.worker_killed_mid_job = _wait_for_running_job()
        workers[-1].kill()
        log(f"killed worker {workers[-1].proc.pid} mid-job after {len(gids)} orders placed")
        workers.append(_worker(worker_env))
        chain.handle.erp.faults.set(down_for=ERP_DOWN_SECONDS)
        log(f"ERP down for {ERP_DOWN_SECONDS}s")
        _place(shopify, shop, rng, third, gids)
        restart_redis()
        report.redis_restarts += 1
        log("Redis restarted (no persistence: queued jobs lost)")
        _place(shopify, shop, rng, orders - 2 * third, gids)
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            shopify.sandbox.webhooks.wait_idle(1.0)
            if not workers[-1].alive():
                workers.append(_worker(worker_env))
            if _done_count(shop.shop_id) >= orders and len(gids) == orders:
                break
            _tick(shop)
            time.sleep(2.0)
    finally:
        report.seconds = time.monotonic() - started
        report.workers_started = len(workers)
        for worker in workers:
            worker.stop()
        chain.handle.erp.faults.clear()
        chaos.duplicate_rate, chaos.reorder = 0.0, False
    wanted = set(gids)
    counts = Counter(o["nropedcliente"] for o in chain.erp_orders() if o["nropedcliente"] in wanted)
    report.placed = len(gids)
    report.erp_orders = len(counts)
    report.duplicates = sum(n - 1 for n in counts.values())
    store = getattr(getattr(chain.handle, "erp", None), "store", None)  # (in this process only)
    report.erp_repeats = sum(n for key, n in (store.repeats if store else {}).items() if key in wanted)
    report.lost = sorted(wanted - set(counts))
    report.messages_done = _done_count(shop.shop_id)
    firsts = [d for d in shopify.sandbox.webhooks.deliveries[deliveries_before:] if d["attempt"] == 1]
    report.duplicate_deliveries = sum(n - 1 for n in Counter(d["webhook_id"] for d in firsts).values())
    report.paid_before_create = _paid_before_create(shop.domain)
    _explain(shop, report)
    if report.erp_orders == report.placed and not report.duplicates:
        _invoice_all(shop, shopify, chain, restart_redis, worker_env, gids, report, rng, settle_timeout, log)
    return report


def _invoice_all(
    shop: Shop,
    shopify: Any,
    chain: Chain,
    restart_redis: Callable[[], None],
    worker_env: dict[str, str],
    gids: list[str],
    report: ChaosReport,
    rng: random.Random,
    settle_timeout: float,
    log: Callable[[str], None],
) -> None:
    """Invoice every ERP order, then play the poll and the catch-up under the faults until every
    Shopify order holds its NF-e key (module docstring)."""
    from jobs import order_events

    numbers = {
        row["nropedcliente"]: row["nropedvenda"] for row in chain.erp_orders() if row["nropedcliente"] in gids
    }
    expected = {gid: _erp_key(chain.handle.erp.invoice(nro)) for gid, nro in numbers.items()}
    report.invoiced = sum(1 for key in expected.values() if key)
    chaos = shopify.sandbox.webhooks.chaos
    chaos.duplicate_rate, chaos.reorder = DUPLICATE_RATE, True
    chain.handle.erp.faults.set(error_rate=ERP_ERROR_RATE, seed=rng.randrange(1 << 30))
    workers = [_worker(worker_env)]
    started = time.monotonic()
    restarted = False
    held: dict[str, str | None] = {}
    told = time.monotonic()
    try:
        # twice the orders' time: an invoice is several Shopify calls (fulfillment, metafields, the
        # capture), paced by the shop's cost bucket
        deadline = time.monotonic() + 2 * settle_timeout
        while time.monotonic() < deadline:
            if time.monotonic() - told > 30:
                told = time.monotonic()
                landed = sum(_same_key(held.get(gid), key) for gid, key in expected.items())
                log(f"NF-e keys on their orders: {landed} of {len(expected)}")
            try:
                order_events.run(shop.shop_id)  # the poll, as the tick enqueues it
            except Exception as exc:  # the ERP's 5xx: the next poll reads from the same watermark
                log(f"poll failed: {type(exc).__name__}")
            if not report.invoice_worker_killed and _wait_for_running_job(timeout=5.0):
                workers[-1].kill()
                report.invoice_worker_killed = True
                log(f"killed worker {workers[-1].proc.pid} mid-job while invoicing")
                workers.append(_worker(worker_env))
            elif report.invoice_worker_killed and not restarted:
                restart_redis()
                report.redis_restarts += 1
                restarted = True
                log("Redis restarted while invoicing")
            if not workers[-1].alive():
                workers.append(_worker(worker_env))
            shopify.sandbox.webhooks.wait_idle(1.0)
            held = _keys_on_orders(shopify, shop, list(expected))
            if restarted and all(_same_key(held.get(gid), key) for gid, key in expected.items()):
                break
            _tick(shop)
            time.sleep(2.0)
    finally:
        report.invoice_seconds = time.monotonic() - started
        report.workers_started += len(workers)
        for worker in workers:
            worker.stop()
        chain.handle.erp.faults.clear()
        chaos.duplicate_rate, chaos.reorder = 0.0, False
    report.keys_missing = sorted(gid for gid in expected if not held.get(gid))
    report.keys_wrong = sorted(
        gid for gid, key in expected.items() if held.get(gid) and not _same_key(held[gid], key)
    )
    if report.keys_missing:
        report.examples += _events_of(shop, report.keys_missing[:5])


def _events_of(shop: Shop, gids: list[str]) -> list[str]:
    """What the ledger says of these orders' ERP event messages (why a key is missing)."""
    from ledger.db import session_scope
    from ledger.models import Message

    with session_scope() as session:
        rows = session.scalars(
            select(Message)
            .where(Message.shop_id == shop.shop_id, Message.shopify_id.in_(gids), Message.flow != "orders")
            .order_by(Message.id)
        ).all()
        said = [f"{m.shopify_id} {m.flow} {m.unit_key} {m.status}: {m.error_text}" for m in rows]
    return said or [f"{gid}: no ERP event message" for gid in gids]


def _same_key(held: str | None, erp: str | None) -> bool:
    """The same NF-e key, however written (digits only)."""
    return bool(held) and bool(erp) and re.sub(r"\D", "", held or "") == re.sub(r"\D", "", erp or "")


def _erp_key(order: Any) -> str | None:
    """The NF-e key (chaveAcesso) an ERP order's answer holds, its last when several."""
    found: list[str] = []
    stack = [order]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("chaveAcesso"), str):
                found.append(value["chaveAcesso"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found[-1] if found else None


def _keys_on_orders(shopify: Any, shop: Shop, gids: list[str]) -> dict[str, str | None]:
    """Each Shopify order's NF-e key as the sandbox holds it (metafield nfe.chave)."""
    from sandbox.shopify import metafield_store
    from sandbox.shopify.registry import Ctx

    ctx = Ctx(shop=shop.name, sandbox=shopify.sandbox, api_key="")
    keys: dict[str, str | None] = {}
    for gid in gids:
        fields = metafield_store.for_owner(ctx, gid)
        keys[gid] = next(
            (m.get("value") for m in fields if m.get("namespace") == "nfe" and m.get("key") == "chave"), None
        )
    return keys


def _explain(shop: Shop, report: ChaosReport) -> None:
    """What the ledger says about the orders that are not done (empty when all went through)."""
    from ledger.db import session_scope
    from ledger.models import Message, MessageStatus, WebhookInbox

    with session_scope() as session:
        pending = session.scalars(
            select(Message).where(
                Message.shop_id == shop.shop_id,
                Message.flow == "orders",
                Message.status != MessageStatus.DONE.value,
            )
        ).all()
        report.not_done = dict(Counter(m.status for m in pending))
        report.examples = [f"{m.unit_key} {m.status}: {m.error_text}" for m in pending[:5]]
        rows = session.execute(
            select(WebhookInbox.status, func.count())
            .where(WebhookInbox.shop_domain == shop.domain, WebhookInbox.topic.like("orders/%"))
            .group_by(WebhookInbox.status)
        ).all()
        report.inbox = {status: n for status, n in rows}


def main(argv: list[str]) -> int:
    """`python -m bench chaos_orders [--orders 200]`: the whole stack, then the chaos run."""
    from bench._order_stack import AppServer, install_shop, services, start_chain, start_shopify
    from jobs import order_clients
    from ledger import kv

    parser = argparse.ArgumentParser(prog="python -m bench chaos_orders")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with services() as (database_url, redis_process):
        env = {"APP_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_process.url}
        os.environ.update(env)
        chain = start_chain()
        app = AppServer(database_url, redis_process.url)
        shopify = start_shopify(app.url)
        os.environ["SHOPIFY_BASE_URL"] = shopify.url
        env["SHOPIFY_BASE_URL"] = shopify.url
        try:
            kv.reset_clients()
            order_clients.reset()
            shop = install_shop(shopify, chain)
            report = run_chaos(
                shop,
                shopify,
                chain,
                redis_process.restart,
                env,
                args.orders,
                seed=args.seed,
                settle_timeout=max(150.0, args.orders * 1.5),
                log=print,
            )
        finally:
            shopify.stop()
            app.stop()
            chain.handle.stop()
    print("\n".join(report.lines()))
    print(
        "RESULT:",
        "exactly N ERP orders, 0 duplicates, 0 lost, every NF-e key on its order"
        if report.ok()
        else "FAILED",
    )
    return 0 if report.ok() else 1
