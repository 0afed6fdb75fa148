"""Webhook intake benchmark: HMAC + dedupe + inbox write + enqueue, beside a bare 200 endpoint.

One gunicorn started with the production settings (gunicorn.conf.py, APP_ENV=production,
PostgreSQL + Redis) serves both endpoints of the same app: `POST /webhooks` (the real receiver:
verify the HMAC over the raw body, drop duplicates, write and commit the inbox row, enqueue the
RQ job) and `POST /_bench/bare` (answers 200 and does nothing; mounted only by this benchmark's
app factory `bench_app()`, never in production code). `wrk` on loopback drives each in turn with
the same signed orders/create body; every request carries a new webhook id, so every intake
request takes the full path (no duplicate short cut). Printed: requests/s and p50/p99 of both,
the machine's busy CPU time per request of both (steadier than throughput on a shared machine),
and intake / bare (goal >= 0.50; for scale >= 1,000 req/s and p99 <= 50 ms on 2 cores).

    python -m bench webhook_intake [--duration 10] [--connections 16] [--threads 2]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from bench._cpu import busy_seconds, process_seconds, stat
from bench._order_stack import ROOT, free_port, services

SHOP = "bench-intake.myshopify.com"
LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Shopify-Hmac-Sha256"] = "%(hmac)s"
wrk.headers["X-Shopify-Topic"] = "orders/create"
wrk.headers["X-Shopify-Shop-Domain"] = "%(shop)s"
wrk.headers["X-Shopify-API-Version"] = "2026-10"
wrk.headers["X-Shopify-Triggered-At"] = "2026-11-28T18:00:00Z"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  local id = string.format("%(run)s-%%d-%%d", tid, n)
  wrk.headers["X-Shopify-Webhook-Id"] = id
  wrk.headers["X-Shopify-Event-Id"] = id
  return wrk.format(nil, nil)
end
"""


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers + socket errors
    cpu_ms: float = 0.0  # the whole machine's busy CPU time per request during the run
    non_2xx: int = 0  # answers that were not 2xx (the rest of `errors` are wrk's socket errors)
    by_process: dict[str, float] = field(default_factory=dict)  # CPU ms per request, by program

    def line(self) -> str:
        return (
            f"{self.name:<8} {self.requests_per_s:>9.0f} req/s   p50 {self.p50_ms:6.2f} ms   "
            f"p99 {self.p99_ms:7.2f} ms   CPU {self.cpu_ms:5.3f} ms/req   "
            f"non-2xx {self.non_2xx}, socket errors {self.errors - self.non_2xx}"
        )

    def split(self) -> str:
        """Where the CPU went: the programs that took the most, in ms per request."""
        shown = [f"{name} {ms:.3f}" for name, ms in self.by_process.items() if name in _PROGRAMS]
        return f"{self.name:<8} CPU ms/req by program: " + ", ".join(shown)


_PROGRAMS = ("gunicorn", "postgres", "redis-server", "wrk")


def _cpu_by_program() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each running program, by name (Linux /proc).

    A process's figure includes its children that exited and were reaped (a gunicorn worker
    recycled after its max_requests counts in the master's, a PostgreSQL backend in the
    postmaster's). wrk's own CPU is read while it runs (the bench reaps it).
    """
    seconds: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (read := stat(int(pid))) is not None:
            seconds[f"{pid}:{read[0]}"] = read[1]
    return seconds


def _cpu_split(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    per_program: dict[str, float] = {}
    for key, seconds in after.items():
        name = key.split(":", 1)[1]
        per_program[name] = per_program.get(name, 0.0) + seconds - before.get(key, 0.0)
    for key in before.keys() - after.keys():
        # Exited during the round and reaped by a parent of the same program (a recycled gunicorn
        # worker, a PostgreSQL backend): its whole life is now in the parent's figure, so what it
        # had used before the round is taken off again.
        name = key.split(":", 1)[1]
        if name in per_program:
            per_program[name] -= before[key]
    ranked = sorted(per_program.items(), key=lambda item: -item[1])
    return {name: seconds / max(requests, 1) * 1000 for name, seconds in ranked if seconds > 0}


def bench_app() -> Any:
    """The production app plus a bare endpoint of the same server (this benchmark only)."""
    from app import create_app

    app = create_app()
    app.add_url_rule("/_bench/bare", "bench_bare", lambda: ("", 200), methods=["POST"])
    return app


def order_body() -> bytes:
    """A representative orders/create body (REST shape, three lines, ~3 KB)."""
    line = {
        "id": 0,
        "admin_graphql_api_id": "",
        "variant_id": 1046,
        "product_id": 1045,
        "sku": "P10E1",
        "name": "ARROZ TIO JOAO 5KG UN-1",
        "title": "ARROZ TIO JOAO 5KG",
        "variant_title": "UN-1",
        "vendor": "Consinco",
        "quantity": 2,
        "current_quantity": 2,
        "fulfillable_quantity": 2,
        "price": "27.90",
        "price_set": {"shop_money": {"amount": "27.90", "currency_code": "BRL"}},
        "total_discount": "0.00",
        "discount_allocations": [],
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "grams": 0,
        "properties": [],
        "tax_lines": [],
        "fulfillment_service": "manual",
    }
    address = {
        "first_name": "Maria",
        "last_name": "Silva",
        "address1": "Av. Paulista, 1000",
        "address2": "Apto 12, Bela Vista",
        "city": "São Paulo",
        "province_code": "SP",
        "country_code": "BR",
        "zip": "01310-100",
        "phone": "+5511999990000",
    }
    order = {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#1001",
        "email": "maria@example.com",
        "created_at": "2026-11-28T15:00:00-03:00",
        "currency": "BRL",
        "financial_status": "paid",
        "total_price": "75.70",
        "subtotal_price": "55.80",
        "payment_gateway_names": ["Pix"],
        "billing_address": address,
        "shipping_address": address,
        "line_items": [
            {**line, "id": 466157049 + i, "admin_graphql_api_id": f"gid://shopify/LineItem/{i}"}
            for i in range(3)
        ],
        "shipping_lines": [{"title": "Correios PAC", "code": "PAC", "price": "19.90"}],
        "note_attributes": [{"name": "origem", "value": "loja online"}],
        "tags": "",
    }
    return json.dumps(order, ensure_ascii=False).encode()


def run_wrk(url: str, script: Path, duration: int, connections: int, threads: int) -> Result:
    busy, programs = busy_seconds(), _cpu_by_program()
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    programs[f"{wrk.pid}:wrk"] = wrk_seconds = 0.0
    while wrk.poll() is None:  # wrk's CPU is read while it runs (a reaped process leaves /proc)
        time.sleep(0.5)
        wrk_seconds = process_seconds(wrk.pid) or wrk_seconds
    out = wrk.communicate()[0]
    if wrk.returncode:
        raise subprocess.CalledProcessError(wrk.returncode, "wrk", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors = non_2xx + sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu_ms = (busy_seconds() - busy) / max(total, 1) * 1000
    after = _cpu_by_program()
    after[f"{wrk.pid}:wrk"] = wrk_seconds
    by_process = _cpu_split(programs, after, total)
    name = url.rsplit("/", 1)[-1]
    return Result(
        name, rps, _percentile(out, "50%"), _percentile(out, "99%"), errors, cpu_ms, non_2xx, by_process
    )


def _percentile(out: str, label: str) -> float:
    value, unit = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench webhook_intake")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)")
        return 2
    secret = secrets.token_hex(32)
    body = order_body()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    with services() as (database_url, redis_process), tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_process.url,
            "SHOPIFY_API_KEY": "bench-intake-key",
            "SHOPIFY_API_SECRET": secret,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "SECRET_KEY": secrets.token_hex(32),
            "SHOPIFY_APP_URL": "https://bench.invalid",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "gunicorn.conf.py",
                "bench.webhook_intake:bench_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/healthz")
            results: dict[str, list[Result]] = {"bare": [], "webhooks": []}
            runs = iter(range(1000))

            def drive(path: str, duration: int) -> Result:
                script = Path(tmp) / f"run{next(runs)}.lua"  # a fresh webhook id prefix per wrk run
                script.write_text(
                    LUA % {"body": body.decode(), "hmac": signature, "shop": SHOP, "run": script.stem}
                )
                url = f"http://127.0.0.1:{port}/{path}"
                return run_wrk(url, script, duration, args.connections, args.threads)

            for path in ("_bench/bare", "webhooks"):
                drive(path, 2)  # warm up: connections, pools, imports
            for _ in range(2):  # alternate, so a noisy neighbour hurts both alike
                for path in ("_bench/bare", "webhooks"):
                    result = drive(path, args.duration)
                    results[result.name].append(result)
            engine = create_engine(database_url)
            with engine.connect() as conn:
                from ledger.models import WebhookInbox

                rows = conn.execute(select(func.count()).select_from(WebhookInbox)).scalar_one()
            engine.dispose()
        finally:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
    bare = _best(results["bare"])
    intake = _best(results["webhooks"])
    print(
        f"gunicorn (gunicorn.conf.py, APP_ENV=production, PostgreSQL + Redis); wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s, two alternating rounds, best of each"
    )
    print(bare.line())
    print(intake.line())
    print(f"intake / bare throughput: {intake.requests_per_s / bare.requests_per_s:.2f} (goal >= 0.50)")
    if intake.cpu_ms:
        print(f"CPU per request, intake / bare: {intake.cpu_ms / bare.cpu_ms:.1f}x (the whole machine)")
    print(bare.split())
    print(intake.split())
    stores = sum(intake.by_process.get(name, 0.0) for name in ("postgres", "redis-server"))
    if intake.cpu_ms and stores:
        # Both endpoints are CPU-bound on the same cores, so throughput follows CPU per request:
        # with the receiver's own Python free, an intake would still cost a bare request plus
        # PostgreSQL's and Redis's work for it.
        ceiling = bare.cpu_ms / (bare.cpu_ms + stores)
        print(
            f"ceiling of intake / bare on this machine if the receiver's Python cost nothing: {ceiling:.2f} "
            f"(bare {bare.cpu_ms:.3f} ms + PostgreSQL and Redis {stores:.3f} ms per intake)"
        )
    print(f"inbox rows written: {rows} (every intake request is a new webhook id)")
    ok = intake.requests_per_s >= 0.5 * bare.requests_per_s and intake.errors == 0
    return 0 if ok else 1


def _best(runs: list[Result]) -> Result:
    return max(runs, key=lambda r: r.requests_per_s)


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url}")
