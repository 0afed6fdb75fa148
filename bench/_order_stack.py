"""The order-side stack the order benchmarks and tests share: services, sandboxes, app, workers, a shop.

Why one place: the chaos test (tests/orders_in) and the benchmarks (bench/chaos_orders.py,
bench/order_latency.py) need the same installed shop — a Shopify sandbox shop whose catalog is
bound to Consinco sandbox SKUs, tokens, ERP connection, store link, location mapping, payment
De:Para and settings — and the same way to run real RQ workers in subprocesses that can be
killed with SIGKILL. The leading underscore keeps it out of `python -m bench`'s list.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests
from sqlalchemy import create_engine, select, text

from bench._redis import RedisProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
GATEWAYS = {"Pix": "2", "Cartão de crédito": "3", "Boleto bancário": "5"}
# Card payment data (jobs.card_payments) off: its own tests turn it on with their De:Para lines; the
# other order tests and the benchmarks measure the order without its follow-up card call.
SETTINGS = {
    "seq_canal_venda": 7,
    "cod_geral_oper": 207,
    "payment_confirmation": "paid",
    "card_payment_data": False,
}
NRO_EMPRESA = 1
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# ---------------------------------------------------------------- services (benchmarks only)


@contextmanager
def services() -> Iterator[tuple[str, RedisProcess]]:
    """A fresh PostgreSQL database (migrated, dropped at the end) and a private Redis."""
    from ledger import db as ledger_db
    from ledger.schema import upgrade

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = RedisProcess()
    server.start()
    try:
        upgrade(url)
        yield url, server
    finally:
        server.stop()
        ledger_db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------- sandboxes and the app


@dataclass
class Chain:
    """The Consinco sandbox and the sellable SKUs of company 1."""

    handle: Any
    segment: int
    skus: list[Any]
    prices: dict[str, Decimal]

    def erp_orders(self) -> list[dict[str, Any]]:
        """Every MAD_PEDVENDA row the ERP holds, straight from its tables."""
        from sandbox.consinco import tables as t

        with self.handle.erp.store.read() as conn:
            return [dict(r) for r in conn.execute(select(t.mad_pedvenda)).mappings()]

    def order(self, nro: int) -> dict[str, Any]:
        return self.handle.erp.order(nro)


def start_chain(skus: int = 40, *, own_process: bool = False) -> Chain:
    """The Consinco sandbox: in this process (tests), or in its own (benchmarks: its own GIL).

    In its own process, `handle` has `url`, `proc` and `stop()` only (no in-process `erp`).
    """
    from erp.client import ErpClient

    if own_process:
        handle: Any = SandboxProcess(
            ["sandbox.consinco", "--skus", str(skus), "--companies", "2", "--seed", "3"],
            "/smpedidovenda/smpedidovendaapi",
            "/_sandbox/estado",
        )
    else:
        from sandbox.consinco.runner import serve_in_thread

        handle = serve_in_thread(port=0, skus=skus, companies=2, seed=3)
    client = ErpClient(handle.url, "ecommerce", "consinco")
    items = [i for i in client.price_items(nro_empresa=NRO_EMPRESA) if i.sale_active]
    segment = items[0].nro_segmento
    prices = {i.id_sku: i.effective for i in items if i.nro_segmento == segment}
    sellable = [s for s in client.skus() if s.active and s.id_sku in prices]
    client.close()
    return Chain(handle, segment, sellable, prices)


class SandboxProcess:
    """`python -m <module> --port P` in its own process; `url` = root + `base`; stopped with stop()."""

    def __init__(self, args: list[str], base: str = "", probe: str = "/") -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *args, "--port", str(port), "--host", "127.0.0.1"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.root = f"http://127.0.0.1:{port}"
        self.url = self.root + base
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {self.proc.returncode}")
            try:
                requests.get(self.root + probe, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{args[0]} did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


class AppServer:
    """create_app() in a werkzeug thread on a free port: the app receiving the sandbox's webhooks."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        from werkzeug.serving import make_server

        from app import create_app
        from settings import Settings

        settings = dataclasses.replace(
            Settings.from_env(), app_env="test", database_url=database_url, redis_url=redis_url
        )
        self.server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="orders-app")
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def start_shopify(app_url: str) -> Any:
    from sandbox.shopify.runner import serve_in_thread

    return serve_in_thread(port=0, app_url=app_url, webhook_retry_delays=(0.2, 0.5, 1.0, 2.0, 4.0, 8.0))


# ---------------------------------------------------------------- workers


# Import the order handlers and parse the GraphQL documents once in the worker, before it forks:
# otherwise every forked work horse pays for them again (seconds per job instead of milliseconds).
WARM_UP = (
    "import jobs.inbox, jobs.orders, jobs.order_edits.to_erp, jobs.cancellations.to_erp; "
    "from shopify_app.admin_api import documents; documents.operation('OrderForErp')"
)


class WorkerProcess:
    """A real forking RQ worker (jobs.worker) in its own process group, killable with SIGKILL."""

    def __init__(
        self, env: dict[str, str], *, burst: bool = False, simple: bool = False, log_path: str | None = None
    ) -> None:
        code = f"{WARM_UP}; from jobs.worker import run_worker; run_worker(burst={burst}, simple={simple})"
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        if log_path:
            out.close()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, redis_url: str, timeout: float = 60.0) -> None:
        """Until the worker has registered with RQ, i.e. imported and warmed up (jobs.worker.warm_up
        runs before it registers): a latency benchmark measures orders, not the worker's boot."""
        from redis import Redis
        from rq import Worker

        conn = Redis.from_url(redis_url)
        try:
            deadline = time.monotonic() + timeout
            while Worker.count(connection=conn) == 0:
                if not self.alive() or time.monotonic() > deadline:
                    raise RuntimeError("the RQ worker did not start")
                time.sleep(0.05)
        finally:
            conn.close()

    def kill(self) -> None:
        """SIGKILL the worker and its work horse (the whole process group): a machine dying."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------- an installed shop


@dataclass
class Shop:
    shop_id: int
    domain: str
    name: str
    variants: dict[str, str] = field(default_factory=dict)  # idSku -> variant gid
    location_id: str = ""

    def sku(self, index: int) -> str:
        return list(self.variants)[index]


def install_shop(
    shopify: Any, chain: Chain, *, catalog: int = 4, settings: dict[str, Any] | None = None
) -> Shop:
    """A fresh shop: tokens, ERP connection, link, location mapping, De:Para, catalog + bindings."""
    from ledger import mappings
    from ledger.crypto import encrypt
    from ledger.db import session_scope
    from ledger.models import ErpConnection
    from ledger.models import Shop as ShopRow
    from shopify_app.admin_api import for_shop
    from shopify_app.tokens import TokenSet, store_tokens

    name = f"loja{uuid.uuid4().hex[:8]}"
    domain = f"{name}.myshopify.com"
    requests.post(f"{shopify.url}/_sandbox/shops", json={"shop": name}, timeout=10).raise_for_status()
    token = requests.post(f"{shopify.url}/_sandbox/shops/{name}/access_token", json={}, timeout=10).json()
    with session_scope() as session:
        row = ShopRow(domain=domain, settings=dict(settings or SETTINGS))
        session.add(row)
        session.flush()
        store_tokens(session, row, TokenSet.from_response(token))
        password = encrypt("consinco")
        session.add(
            ErpConnection(
                shop_id=row.id, base_url=chain.handle.url, username="ecommerce", password_enc=password
            )
        )
        mappings.set_store_link(session, row.id, NRO_EMPRESA, chain.segment)
        for gateway, code in GATEWAYS.items():
            mappings.upsert_mapping(session, row.id, "payment_method", gateway, code)
        shop = Shop(row.id, domain, name)
    client = for_shop(domain)
    shop.location_id = next(loc.id for loc in client.locations())
    with session_scope() as session:
        mappings.set_location_mapping(session, shop.shop_id, NRO_EMPRESA, shop.location_id)
    plain = [s for s in chain.skus if not s.weighed][:catalog]
    weighed = [s for s in chain.skus if s.weighed][:1]
    for sku in plain + weighed:
        shop.variants[sku.id_sku] = create_variant(client, sku, chain.prices[sku.id_sku])
        bind(shop.shop_id, sku, shop.variants[sku.id_sku])
    order_events_from_now(shop.shop_id)
    return shop


def order_events_from_now(shop_id: int) -> None:
    """The shop's EventoPedido cursor at the ERP's present, as a shop that has been polling it has.

    The tests and benches put many shops on one ERP sandbox: a new shop's first poll (no cursor:
    jobs.order_events reads from a day before its first order link, `first_read_since`) would read
    every earlier shop's events of the last day and trace each skipped as an unknown order, most of
    a test file's time. One read from now (its overlap and
    boundary as the poller keeps them), nothing traced, then the cursor where the poll leaves it.
    """
    from erp import for_shop
    from jobs import order_events
    from ledger.models import utcnow

    started = utcnow()
    read = for_shop(shop_id).order_events(started)
    for _ in read:
        pass
    order_events.advance(shop_id, read, started)
    order_events.swept(shop_id, started)  # and its late sweep just run: not the earlier shops' day again


def create_variant(client: Any, sku: Any, price: Decimal) -> str:
    """One product with one untracked variant whose SKU is the ERP idSku; returns the variant gid."""
    option = {"optionName": "Embalagem", "name": sku.unit}
    result = client.product_set(
        {
            "title": sku.description or sku.id_sku,
            "status": "ACTIVE",
            "productOptions": [{"name": "Embalagem", "values": [{"name": sku.unit}]}],
            "variants": [
                {
                    "optionValues": [option],
                    "sku": sku.id_sku,
                    "price": str(price),
                    "inventoryItem": {"tracked": False, "sku": sku.id_sku},
                }
            ],
        }
    )
    return result.product.variants[0].id


def bind(shop_id: int, sku: Any, variant_id: str) -> None:
    """The "variant" binding the SKU sync writes (jobs/catalog_map.py's data keys)."""
    from jobs.order_map import VARIANT
    from ledger import bindings
    from ledger.db import session_scope

    data = {
        "seq_produto": sku.seq_produto,
        "qtd_embalagem": str(sku.qtd_embalagem),
        "weighed": sku.weighed,
        "ean": sku.ean,
        "unit_kg": "1" if sku.weighed else None,
    }
    with session_scope() as session:
        bindings.upsert_many(
            session, shop_id, VARIANT, [bindings.BindingRow(sku.id_sku, variant_id, None, data)]
        )


@dataclass
class OrderStack:
    """The order benchmarks' stack: services, the ERP sandbox, the app and the Shopify sandbox
    (each its own process), and a shop installed at an Admin API tier."""

    env: dict[str, str]
    redis_url: str
    chain: Chain
    app: AppServer
    shopify: SandboxProcess
    shop: Shop


@contextmanager
def order_stack(tier: str) -> Iterator[OrderStack]:
    """Start the stack, install the shop at `tier` (plus, standard...), stop it all on the way out.
    `env` holds what a worker process needs (it is also set in this process)."""
    from jobs import order_clients
    from ledger import kv

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
        try:
            kv.reset_clients()
            order_clients.reset()
            shop = install_shop(SimpleNamespace(url=shopify.url), chain)
            requests.post(
                f"{shopify.url}/_sandbox/shops/{shop.name}/tier", json={"tier": tier}, timeout=10
            ).raise_for_status()
            yield OrderStack(env, redis_process.url, chain, app, shopify, shop)
        finally:
            shopify.stop()
            app.stop()
            chain.handle.stop()
