"""What one worker spends per imported order: PostgreSQL statements, Redis commands, CPU.

Load-independent figures for the order path (bench/order_latency.py measures wall time, which a
shared machine swings from run to run). Same stack: a fresh PostgreSQL database and Redis, both
sandboxes in their own processes, the app receiving the signed webhooks. Orders are placed
through the Shopify sandbox's checkout with no worker running; once every webhook is queued, a
SimpleWorker in THIS process works the queues in burst mode, as the real job path does
(jobs.inbox.process -> jobs.orders.on_webhook). A few warm-up orders go first (compile caches,
HTTP sessions, the ERP login), then the measured ones.

Per order (each brings two webhooks, orders/create and orders/paid: two jobs):
- statements: SQLAlchemy `before_cursor_execute` in this process (the app is idle by then), and
  per job topic; transactions (commits) and pool checkouts (each one pre-pings: SELECT 1);
- Redis commands: the server's INFO commandstats before and after the burst (every command the
  worker sent, pipelined or not), by command;
- CPU ms: time.process_time() of this process over the burst (RQ's loop included).

    python -m bench order_roundtrips [--orders 40] [--warm 5] [--show]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter, defaultdict
from typing import Any

import redis
from sqlalchemy import event, func, select

from bench._order_stack import ROOT, order_stack
from bench.order_latency import place_at_rate

TOPICS = ("orders/create", "orders/paid", "orders/updated")
WHAT = ("statements", "commits", "checkouts", "redis commands", "redis round trips")


class Counting:
    """Statements, commits, checkouts and Redis round trips / commands while `on`, by the job topic
    running ("rq": the worker's own bookkeeping between jobs)."""

    def __init__(self, engine: Any) -> None:
        self.on = False
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)  # what -> topic -> count
        self.jobs: Counter[str] = Counter()
        self.shown: dict[str, list[str]] = {}  # topic -> the statements of its last job
        self.topic = "rq"
        self.topic_of: dict[int, str] = {}  # inbox id -> topic
        self._current: list[str] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine.pool, "checkout", self._checkout)
        self._patch_redis()

    def _count(self, what: str, line: str | None = None, n: int = 1) -> None:
        if self.on:
            self.counts[what][self.topic] += n
            if line is not None:
                self._current.append(line)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._count("statements", " ".join(statement.split())[:150])

    def _commit(self, _conn: Any) -> None:
        self._count("commits", "COMMIT")

    def _checkout(self, *_args: Any) -> None:
        self._count("checkouts", "(pool checkout: pre-ping SELECT 1)")

    def _patch_redis(self) -> None:
        from redis import connection

        send = connection.AbstractConnection.send_packed_command
        counting = self

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            counting._count("redis round trips")
            return send(conn, command, check_health)

        connection.AbstractConnection.send_packed_command = send_packed_command
        for serializer in (connection.PythonRespSerializer, connection.HiredisRespSerializer):
            pack = serializer.pack

            def counted_pack(packer: Any, *args: Any, _pack: Any = pack) -> Any:
                counting._count("redis commands", f"redis {str(args[0])[:40]}")
                return _pack(packer, *args)

            serializer.pack = counted_pack

    def wrap(self, process: Any) -> Any:
        """jobs.inbox.process, counting under its row's topic."""

        def counted(inbox_id: int) -> Any:
            self.shown["rq (between two jobs)"] = self._current
            self.topic = self.topic_of.get(inbox_id, "?")
            self._current = []
            try:
                return process(inbox_id)
            finally:
                self.jobs[self.topic] += 1
                self.shown[self.topic] = self._current
                self.topic, self._current = "rq", []

        return counted

    def reset(self) -> None:
        self.counts.clear()
        self.jobs.clear()
        self.shown.clear()

    def total(self, what: str) -> int:
        return sum(self.counts[what].values())


def commandstats(conn: redis.Redis) -> Counter[str]:
    stats = conn.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()})


def inbox_rows(domain: str) -> dict[int, tuple[str, str]]:
    """Inbox id -> (topic, status) of the shop's order webhooks."""
    from ledger.db import session_scope
    from ledger.models import WebhookInbox

    with session_scope() as session:
        rows = session.execute(
            select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.status).where(
                WebhookInbox.shop_domain == domain, WebhookInbox.topic.in_(TOPICS)
            )
        ).all()
    return {row.id: (row.topic, row.status) for row in rows}


def wait_queued(domain: str, at_least: int, timeout: float = 120.0) -> dict[int, tuple[str, str]]:
    """Until the shop's order webhooks are all in (at least `at_least`, none new for 1.5 s) and queued."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        rows = inbox_rows(domain)
        queued = all(status != "received" for _topic, status in rows.values())
        if len(rows) != last:
            last, since = len(rows), time.monotonic()
        elif len(rows) >= at_least and queued and time.monotonic() - since > 1.5:
            return rows
        time.sleep(0.25)
    raise RuntimeError(f"only {last} order webhooks arrived (expected at least {at_least})")


def done_orders(shop_id: int) -> int:
    from ledger.db import session_scope
    from ledger.models import Message, MessageStatus

    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Message.shop_id == shop_id,
                    Message.flow == "orders",
                    Message.status == MessageStatus.DONE.value,
                )
            )
            or 0
        )


def burst(counting: Counting, rows: dict[int, tuple[str, str]]) -> None:
    from jobs.worker import build_worker

    counting.topic_of = {inbox_id: topic for inbox_id, (topic, _status) in rows.items()}
    worker = build_worker(simple=True)
    counting.on = True
    try:
        worker.work(burst=True, with_scheduler=False)
    finally:
        counting.on = False


def print_profile(profile: cProfile.Profile, orders: int) -> None:
    """CPU ms per order by package (own time), then the functions taking most (own time)."""
    stats = pstats.Stats(profile)
    by_package: Counter[str] = Counter()
    for (path, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        package = path.split("site-packages/")[-1].split("/")[0] if "site-packages" in path else None
        if package is None:
            package = (
                path.split(str(ROOT) + "/")[-1].split("/")[0] if path.startswith(str(ROOT)) else "(python)"
            )
        by_package[package] += own
    print(
        "  CPU ms per order by package (own time): "
        + ", ".join(f"{name} {1000 * own / orders:.1f}" for name, own in by_package.most_common(12))
    )
    stats.sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_CALLERS"):
        stats.print_callers(*os.environ["BENCH_CALLERS"].split(","))


def main(argv: list[str]) -> int:
    from jobs import inbox
    from jobs.worker import warm_up
    from ledger import db

    parser = argparse.ArgumentParser(prog="python -m bench order_roundtrips")
    parser.add_argument("--orders", type=int, default=40, help="orders measured")
    parser.add_argument("--warm", type=int, default=5, help="orders imported first, not measured")
    parser.add_argument("--show", action="store_true", help="print the statements of one job per topic")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured burst (CPU time)")
    args = parser.parse_args(argv)
    with order_stack("plus") as stack:
        shopify, shop = stack.shopify, stack.shop
        warm_up()
        counting = Counting(db.get_engine())
        inbox.process = counting.wrap(inbox.process)
        monitor = redis.Redis.from_url(stack.redis_url)

        placed, _ = place_at_rate(shopify.url, shop, args.warm, 1.0)
        burst(counting, wait_queued(shop.domain, 2 * len(placed)))
        counting.reset()

        measured, _ = place_at_rate(shopify.url, shop, args.orders, 1.0)
        rows = wait_queued(shop.domain, 2 * (len(placed) + len(measured)))
        new = {k: v for k, v in rows.items() if v[1] != "processed"}
        before_redis = commandstats(monitor)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        cpu = time.process_time()
        wall = time.perf_counter()
        if profile is not None:
            profile.enable()
        burst(counting, new)
        if profile is not None:
            profile.disable()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        redis_used = commandstats(monitor) - before_redis
        redis_used["info"] -= 1  # the reading itself
        done = done_orders(shop.shop_id) - len(placed)
    orders = len(measured)
    if done != orders:
        print(f"only {done} of {orders} orders reached the ERP")
        return 1
    jobs = sum(counting.jobs.values())
    per = {what: counting.total(what) / orders for what in WHAT}
    print(f"{orders} orders ({jobs} jobs) imported by one SimpleWorker in {wall:.2f} s")
    commands = sum(redis_used.values()) / orders
    print(
        f"per order: {per['statements']:.1f} statements, {per['commits']:.1f} commits, "
        f"{per['checkouts']:.1f} pool checkouts (each pre-pings); Redis {commands:.1f} commands (server) "
        f"in {per['redis round trips']:.1f} round trips; {1000 * cpu / orders:.1f} CPU ms"
    )
    for topic in [*sorted(counting.jobs), "rq"]:
        runs = counting.jobs[topic] or orders
        what = f"per {topic} job" if topic != "rq" else "RQ's own, per order"
        shown = ", ".join(f"{counting.counts[w][topic] / runs:.1f} {w}" for w in WHAT)
        print(f"  {what}: {shown}")
    by_command = sorted(((calls, name) for name, calls in redis_used.items() if calls), reverse=True)
    print("  Redis commands per order (server): " + ", ".join(f"{n} {c / orders:.1f}" for c, n in by_command))
    if profile is not None:
        print_profile(profile, orders)
    if args.show:
        for topic, lines in sorted(counting.shown.items()):
            print(f"--- one {topic} job")
            for line in lines:
                print(f"    {line}")
    return 0
