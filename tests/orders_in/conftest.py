"""A whole installed shop for the order tests: both sandboxes, the app receiving webhooks, the ledger.

Session scope: the Consinco sandbox (a small chain), the app (create_app in a werkzeug thread on
a free port, PostgreSQL + Redis of the test session) and the Shopify sandbox delivering signed
webhooks to it. Function scope (`world`): a fresh Shopify shop with a catalog of ERP SKUs
(productSet through the Admin client), variant bindings, store link, location mapping, payment
De:Para, settings, tokens and the ERP connection, in a truncated database
(bench/_order_stack.py builds it; the benchmarks use the same).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import note_words_check
import pytest
from sqlalchemy import select

from bench._order_stack import (
    AppServer,
    Chain,
    Shop,
    bind,
    create_variant,
    install_shop,
    start_chain,
    start_shopify,
)
from jobs import order_clients
from jobs.worker import run_worker
from ledger import kv
from ledger.db import session_scope
from ledger.models import Message, OrderLink

__all__ = ["World", "bind", "create_variant"]


@pytest.fixture(scope="session")
def chain() -> Iterator[Chain]:
    chain = start_chain()
    yield chain
    chain.handle.stop()


@pytest.fixture(scope="session")
def app_url(pg_database_url, redis_server) -> Iterator[str]:
    server = AppServer(pg_database_url, redis_server.url)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def shopify(app_url) -> Iterator[Any]:
    handle = start_shopify(app_url)
    yield handle
    handle.stop()


@dataclass
class World:
    shop: Shop
    shopify: Any
    chain: Chain

    @property
    def shop_id(self) -> int:
        return self.shop.shop_id

    @property
    def domain(self) -> str:
        return self.shop.domain

    @property
    def name(self) -> str:
        return self.shop.name

    @property
    def variants(self) -> dict[str, str]:
        return self.shop.variants

    def sku(self, index: int) -> str:
        return self.shop.sku(index)

    # -- Shopify side -----------------------------------------------------------------
    def place(self, skus: list[tuple[str, int]] | None = None, **options: Any) -> str:
        """Place one order through the checkout simulator; returns its gid."""
        from sandbox.shopify.checkout import place_order

        lines = [{"sku": sku, "quantity": qty} for sku, qty in (skus or [(self.sku(0), 2), (self.sku(1), 1)])]
        options.setdefault("discount_rate", 0.0)
        options.setdefault("seed", 11)
        return place_order(self.shopify.sandbox, self.name, lines=lines, **options)

    def order_doc(self, gid: str) -> dict[str, Any]:
        return self.shopify.sandbox.store.get(self.name, gid)

    def delivered(self, timeout: float = 20.0) -> None:
        assert self.shopify.sandbox.webhooks.wait_idle(timeout), "webhook deliveries did not finish"

    # -- the app side -----------------------------------------------------------------
    def drain(self) -> None:
        """Deliver pending webhooks, then run every queued job (an RQ SimpleWorker in burst mode)."""
        self.delivered()
        run_worker(burst=True, simple=True, with_scheduler=False)

    def message(self, gid: str, flow: str = "orders", unit: str | None = None) -> Message | None:
        num = gid.rsplit("/", 1)[-1]
        with session_scope() as session:
            return session.scalars(
                select(Message).where(Message.flow == flow, Message.unit_key == (unit or f"order:{num}"))
            ).one_or_none()

    def link(self, gid: str) -> OrderLink | None:
        with session_scope() as session:
            return session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == gid)).one_or_none()

    def erp_orders_for(self, gid: str) -> list[dict[str, Any]]:
        return [o for o in self.chain.erp_orders() if o["nropedcliente"] == gid]


@pytest.fixture
def world(env, chain, shopify) -> Iterator[World]:
    env.setenv("SHOPIFY_BASE_URL", shopify.url)
    kv.reset_clients()
    order_clients.reset()
    chain.handle.erp.faults.clear()
    chain.handle.erp.formats.clear()
    shopify.sandbox.webhooks.chaos.duplicate_rate = 0.0
    shopify.sandbox.webhooks.chaos.reorder = False
    yield World(install_shop(shopify, chain), shopify, chain)
    shopify.sandbox.webhooks.wait_idle(10)
    chain.handle.erp.faults.clear()
    chain.handle.erp.formats.clear()
    order_clients.reset()
    kv.reset_clients()


@pytest.fixture(autouse=True)
def _note_words_say_the_note(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every note a flow puts with words says in English what it wrote (tests/note_words_check)."""
    yield from note_words_check.checked(monkeypatch)
