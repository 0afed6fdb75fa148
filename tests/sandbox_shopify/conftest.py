"""Fixtures for the Shopify emulator: a running emulator on a free port with a manual clock,
a GraphQL client bound to one shop, and a tiny webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.shopify.clock import ManualClock
from sandbox.shopify.runner import SandboxHandle, serve_in_thread

from .helpers import API_KEY, API_SECRET, PRODUCT_SET, Received, Receiver, ShopClient, two_variant_input


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.next_status()
            with state.lock:
                state.received.append(Received(dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
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
        webhook_retry_delays=(0.05, 0.1, 0.2),
        webhook_timeout=2.0,
    )
    yield handle
    handle.stop()


@pytest.fixture
def shop(emulator: SandboxHandle) -> ShopClient:
    token = emulator.sandbox.tokens.issue_access_token("acme", API_KEY, expiring=False)["access_token"]
    return ShopClient(emulator, "acme", token)


@pytest.fixture
def product(shop: ShopClient) -> dict[str, Any]:
    """A product with two variants, created through productSet."""
    data = shop.data(PRODUCT_SET, {"input": two_variant_input()})
    assert data["productSet"]["userErrors"] == []
    return data["productSet"]["product"]


@pytest.fixture
def location_id(shop: ShopClient) -> str:
    return shop.data("{ locations(first: 1) { nodes { id } } }")["locations"]["nodes"][0]["id"]
