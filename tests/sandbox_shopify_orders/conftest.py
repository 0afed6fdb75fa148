"""Fixtures for the order side of the Shopify emulator: a running emulator on a free port with
a manual clock, a webhook receiver, a GraphQL client for shop `acme`, and a stocked catalogue
(two products, three variants, stock at the primary location)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.shopify.clock import ManualClock
from sandbox.shopify.runner import SandboxHandle, serve_in_thread

from .helpers import API_KEY, API_SECRET, PRODUCT_SET, Catalogue, Receiver, ShopClient, product_input


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.record(dict(self.headers.items()), body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock, receiver: Receiver) -> Iterator[SandboxHandle]:
    handle = serve_in_thread(
        clock=clock,
        api_key=API_KEY,
        api_secret=API_SECRET,
        app_url=receiver.url,
        webhook_retry_delays=(0.05, 0.1),
        webhook_timeout=2.0,
    )
    yield handle
    handle.stop()


@pytest.fixture
def shop(emulator: SandboxHandle) -> ShopClient:
    token = emulator.sandbox.tokens.issue_access_token("acme", API_KEY, expiring=False)["access_token"]
    return ShopClient(emulator, "acme", token)


@pytest.fixture
def catalogue(shop: ShopClient) -> Catalogue:
    """Arroz 1kg (7.90, 10 in stock), Arroz 5kg (29.90, 5), Feijão 1kg (8.49, 20)."""
    location = shop.data("{ locations(first: 1) { nodes { id } } }")["locations"]["nodes"][0]["id"]
    variants: dict[str, dict[str, Any]] = {}
    for title, rows in (
        ("Arroz Tipo 1", [("1kg", "7.90", "ARZ-1", 10), ("5kg", "29.90", "ARZ-5", 5)]),
        ("Feijão Carioca", [("1kg", "8.49", "FJN-1", 20)]),
    ):
        data = shop.data(PRODUCT_SET, {"input": product_input(title, rows, location)})
        assert data["productSet"]["userErrors"] == []
        for variant in data["productSet"]["product"]["variants"]["nodes"]:
            variants[variant["sku"]] = variant
    return Catalogue(location, variants)
