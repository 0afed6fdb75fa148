"""Issue 6 benchmark 1: the initial catalog load, ERP read -> productSet JSONL handed to the bulk runner.

In one run, against the Consinco sandbox (started as its own process, so its CPU is not ours):
1. bare read: page through ProdutoCV and ProdutoSku only (the floor no transform can beat);
2. the whole: jobs.catalog_flow.initial_load - the same reads, the ledger cache, mapping +
   digests, one message per product begun, and the JSONL built and handed over.
Printed: both times, the ratio whole / bare (goal <= 1.25), SKUs/s (goal >= 5,000) and the
end-to-end time (goal <= 60 s). `--shopify` also runs the bulk operation in the Shopify sandbox
and prints how long Shopify's side took (the sandbox executes productSet line by line in Python).

    python -m bench catalog_load                      # 50,000 SKUs x 10 companies (issue figure)
    python -m bench catalog_load --skus 5000 --companies 2
    python -m bench catalog_load --skus 2000 --shopify

The ERP chain is generated once per size into --cache-dir and reused (generation is not timed).
The ledger is a fresh SQLite file (the embedded default); set --database-url for PostgreSQL.

Figures: docs/benchmarks.md, "Catalog initial load (issue 6, benchmark 1)" (before/after, with
the machine's load average; the shared 2-core machine's load moves every figure by 2x).
The bare read pages exactly as the load does (prefetch workers, both streams in flight and taken
page by page as they come in: jobs.catalog_flow.read_pages, the garbage collector paused), so the
ratio measures our transform, not a slower baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench._cpu import busy_seconds, process_seconds
from bench._redis import free_port, start_redis

BARE_PAGE_SIZE = 1000  # what the initial load reads with (jobs.catalog_flow.INITIAL_PAGE_SIZE)


class HandedOver(Exception):
    """Raised by the stand-in bulk runner once the JSONL exists: the measured part ends there."""


class HandOverClient:
    """Stands in for AdminClient where Shopify is not part of the measure: the bulk runner's
    `run` builds the very JSONL the real one uploads, notes the time and size, and stops."""

    def __init__(self) -> None:
        from shopify_app.admin_api.bulk import MAX_UPLOAD_BYTES

        self.bulk = self
        self.max_upload_bytes = MAX_UPLOAD_BYTES  # BulkRunner's
        self.handed_at: float | None = None
        self.jsonl_bytes = 0
        self.lines = 0

    def ensure_metafield_definition(self, *args: Any, **kwargs: Any) -> str:
        return "gid://shopify/MetafieldDefinition/1"

    def catalog_variants(self, query: str | None = None) -> Any:
        """No product in the store yet (jobs.catalog_adopt reads it before a first load creates
        anything): one page, empty, what a new shop answers."""
        return iter(())

    def leftover(self, identifier: str) -> None:
        """No bulk operation left by a dead pass (a fresh ledger): what BulkRunner.leftover says."""
        return None

    def parts(self, encoded: Any) -> list[range]:
        """BulkRunner.parts: the files under Shopify's upload limit (one at the bench's sizes; past
        100 MB the measure ends with the first part handed over)."""
        from shopify_app.admin_api.bulk import split_lines

        return split_lines(encoded, self.max_upload_bytes)

    def run(self, mutation_name: str, variables: Any, **kwargs: Any) -> Any:
        from shopify_app.admin_api.bulk import to_jsonl

        body = to_jsonl(list(variables), kwargs.get("encoded"))
        self.handed_at = time.perf_counter()
        self.jsonl_bytes, self.lines = len(body), body.count(b"\n")
        raise HandedOver()


def start_erp(args: argparse.Namespace) -> tuple[str, subprocess.Popen]:
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    db = cache / f"consinco-{args.skus}x{args.companies}-seed{args.seed}.db"
    port = free_port()
    command = [sys.executable, "-m", "sandbox.consinco", "--port", str(port), "--skus", str(args.skus),
               "--companies", str(args.companies), "--seed", str(args.seed), "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 1800  # generating 50,000 SKUs x 10 companies takes a while
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("bench: the Consinco sandbox exited")
        try:
            if requests.get(f"{root}/_sandbox/estado", timeout=5).ok:
                return f"{root}/smpedidovenda/smpedidovendaapi", proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.terminate()
    sys.exit("bench: the Consinco sandbox did not start")


def install_shop(erp_url: str, shopify_url: str | None, domain: str) -> int:
    """Ledger rows: the shop (+ token when Shopify is in the run), ERP connection, store link."""
    from ledger.crypto import encrypt
    from ledger.db import session_scope
    from ledger.mappings import set_store_link
    from ledger.models import ErpConnection, Shop

    with session_scope() as session:
        shop = Shop(domain=domain, settings={})
        session.add(shop)
        session.flush()
        session.add(ErpConnection(shop_id=shop.id, base_url=erp_url, username="ecommerce",
                                  password_enc=encrypt("consinco")))  # fmt: skip
        set_store_link(session, shop.id, 1, 1)
        if shopify_url:
            from shopify_app.token_endpoint import TokenSet
            from shopify_app.tokens import store_tokens

            body = requests.post(f"{shopify_url}/_sandbox/shops/{domain.split('.')[0]}/access_token",
                                 json={"expiring": False}, timeout=30).json()  # fmt: skip
            store_tokens(
                session, shop, TokenSet(access_token=body["access_token"], scope=body.get("scope", ""))
            )
        return int(shop.id)


def bare_read(shop_id: int) -> tuple[float, int, int]:
    """Page through both streams exactly as the initial load does (the client it builds for the
    shop, with its address guard, page size, prefetch, stream overlap and paused garbage
    collector), parsing the typed records only."""
    from erp.factory import for_shop
    from jobs.catalog_flow import collector_paused, read_both, read_pages

    client = for_shop(shop_id, page_size=BARE_PAGE_SIZE)
    started = time.perf_counter()
    counts = {"products": 0, "skus": 0}
    with collector_paused():
        for kind, records in read_pages(*read_both(client)):
            counts[kind] += len(records)
    return time.perf_counter() - started, counts["products"], counts["skus"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench catalog_load", description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "bench-catalog-load"))
    parser.add_argument("--database-url", default=None, help="ledger database (default: a fresh SQLite file)")
    parser.add_argument(
        "--shopify", action="store_true", help="also run the bulk operation in the Shopify sandbox"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    workdir = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    redis_url, redis_proc = start_redis()
    erp_url, erp_proc = start_erp(args)
    shopify = None
    try:
        os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'ledger.db'}"
        os.environ["REDIS_URL"] = redis_url
        # Without the Shopify sandbox the app takes itself for one serving real stores and guards
        # the ERP's address (erp/address.py): the sandbox on loopback over http is then what an
        # operator allows for an ERP on a private link. Both phases read through that guard.
        os.environ["ERP_ALLOW_HTTP"] = "1"
        os.environ["ERP_ALLOWED_NETWORKS"] = "127.0.0.0/8,::1/128"
        if args.shopify:
            from sandbox.shopify.runner import serve_in_thread

            shopify = serve_in_thread(port=0)
            os.environ["SHOPIFY_BASE_URL"] = shopify.url
        from ledger.schema import upgrade

        upgrade(os.environ["DATABASE_URL"])
        shop_id = install_shop(erp_url, shopify.url if shopify else None, "bench.myshopify.com")
        return _measure(args, erp_url, shop_id, shopify, erp_proc.pid)
    finally:
        if shopify is not None:
            shopify.stop()
        erp_proc.terminate()
        erp_proc.wait(timeout=30)
        if redis_proc is not None:
            redis_proc.stop()


def _measure(args: argparse.Namespace, erp_url: str, shop_id: int, shopify: Any, erp_pid: int) -> int:
    from jobs import catalog_flow

    bare_read(shop_id)  # warm the sandbox's caches so both timed reads start equal
    cpu = _CpuUse(erp_pid)
    bare, n_products, n_skus = bare_read(shop_id)
    bare_cpu = cpu.lap()
    print(f"ERP sandbox: {n_products} products, {n_skus} SKUs, {args.companies} companies")
    print(f"bare read (ProdutoCV + ProdutoSku, pages of {BARE_PAGE_SIZE}): {bare:.2f} s")

    stand_in = HandOverClient()
    phases = _time_phases()
    started = time.perf_counter()
    with contextlib.suppress(HandedOver):
        catalog_flow.initial_load(shop_id, client=stand_in, bulk=True)  # type: ignore[arg-type]
    whole_cpu = cpu.lap()
    phases.undo()
    if stand_in.handed_at is None:
        print("bench: the load never reached the bulk runner")
        return 1
    whole = stand_in.handed_at - started
    ratio = whole / bare
    rate = n_skus / whole
    size = f"{stand_in.lines} lines, {stand_in.jsonl_bytes / 1e6:.1f} MB"
    print(f"read -> JSONL handed over: {whole:.2f} s ({size})")
    print(f"ratio whole / bare read: {ratio:.3f}  (goal <= 1.25)")
    print(f"throughput: {rate:,.0f} SKUs/s  (goal >= 5,000)")
    print(f"end to end (ERP read -> JSONL handed over): {whole:.2f} s  (goal <= 60 s)")
    read = phases.first_start("tail") - started
    tail, awaited = phases.spent.get("tail", 0.0), phases.spent.get("writes awaited", 0.0)
    spent = f"tail {tail:.2f} s (of which ledger writes awaited {awaited:.2f} s)"
    jsonl = stand_in.handed_at - phases.last_end
    print(f"  of which: read + ledger work mid-read {read:.2f} s, {spent}, JSONL {jsonl:.2f} s")
    print(f"CPU used (every process), bare read: {bare_cpu.line()}")
    print(f"CPU used (every process), whole:     {whole_cpu.line()}")
    floor = whole_cpu.machine / cpu.cores  # the least wall time that much work takes on these cores
    print(f"  on {cpu.cores} cores that CPU alone needs >= {floor:.2f} s = {floor / bare:.2f} x the bare")
    if shopify is not None:
        _shopify_run(shop_id, shopify)
    return 0


@dataclass
class _Lap:
    machine: float  # busy CPU seconds of the whole machine
    ours: float  # this process (every thread: page workers, ledger writers)
    erp: float  # the ERP sandbox's process

    def line(self) -> str:
        rest = self.machine - self.ours - self.erp
        erp = f"ERP sandbox {self.erp:.2f}"
        return f"{self.machine:.2f} s (this process {self.ours:.2f}, {erp}, rest {rest:.2f})"


class _CpuUse:
    """CPU seconds between laps: the machine's, this process's and the ERP sandbox's (Linux /proc)."""

    def __init__(self, erp_pid: int) -> None:
        self.erp_pid, self.cores = erp_pid, os.cpu_count() or 1
        self._last = self._now()

    def _now(self) -> tuple[float, float, float]:
        return busy_seconds(), time.process_time(), process_seconds(self.erp_pid) or 0.0

    def lap(self) -> _Lap:
        now = self._now()
        lap = _Lap(*(b - a for a, b in zip(self._last, now, strict=True)))
        self._last = now
        return lap


class _Phases:
    """Wall time spent in the load's post-read steps (wrapped module functions)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.starts: dict[str, float] = {}
        self.last_end = 0.0
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, module: Any, attr: str, name: str) -> None:
        original = getattr(module, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            self.starts.setdefault(name, began)
            try:
                return original(*args, **kwargs)
            finally:
                self.last_end = time.perf_counter()
                self.spent[name] = self.spent.get(name, 0.0) + self.last_end - began

        setattr(module, attr, timed)
        self._undo.append((module, attr, original))

    def first_start(self, name: str) -> float:
        return self.starts.get(name, 0.0)

    def undo(self) -> None:
        for module, attr, original in reversed(self._undo):
            setattr(module, attr, original)


def _time_phases() -> _Phases:
    """The read (cache merge, mapping and messages begun mid-read, jobs/catalog_initial.py),
    then its tail: the last products staged and the ledger writer's commit awaited."""
    from jobs.catalog_initial import LedgerWriter, Stager

    phases = _Phases()
    phases.wrap(Stager, "finish", "tail")
    phases.wrap(LedgerWriter, "finish", "writes awaited")
    return phases


def _shopify_run(shop_id: int, shopify: Any) -> None:
    """The same load again, this time executed by the Shopify sandbox's bulk runner."""
    from jobs import catalog_flow
    from ledger.db import session_scope
    from ledger.models import Binding, Message

    with session_scope() as session:  # forget the stand-in run
        session.query(Binding).filter(Binding.shop_id == shop_id).delete()
        session.query(Message).filter(Message.shop_id == shop_id).delete()
    from shopify_app.admin_api import for_shop

    client = for_shop("bench.myshopify.com")
    client.bulk.poll_initial, client.bulk.poll_max = 0.2, 1.0
    started = time.perf_counter()
    result = catalog_flow.initial_load(shop_id, client=client, bulk=True)
    print(f"with Shopify's side (sandbox bulk operation): {time.perf_counter() - started:.2f} s, "
          f"{result.created} products created, {result.failed} failed")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
