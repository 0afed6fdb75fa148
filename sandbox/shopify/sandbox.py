"""The emulator as one object: options, clock, state and the background workers.

Routes and resolvers reach everything through it (`info.context.sandbox`), so one process can
hold several independent emulators (each test gets its own)."""

from __future__ import annotations

from sandbox.shopify.clock import Clock, SystemClock
from sandbox.shopify.idempotency import Flights
from sandbox.shopify.options import SandboxOptions
from sandbox.shopify.shops import Shops
from sandbox.shopify.store import Store
from sandbox.shopify.throttle import Throttle
from sandbox.shopify.tokens import Tokens
from sandbox.shopify.variant_throttle import VariantThrottle
from sandbox.shopify.webhooks import Webhooks


class Sandbox:
    """State and workers of one emulator."""

    def __init__(self, options: SandboxOptions | None = None, clock: Clock | None = None) -> None:
        self.options = options or SandboxOptions()
        self.clock: Clock = clock or SystemClock()
        self.store = Store(self.options.db_path)
        self.throttle = Throttle(self.clock)
        self.shops = Shops(self)
        self.variant_throttle = VariantThrottle(self)
        self.tokens = Tokens(self)
        self.webhooks = Webhooks(self)
        self.idempotency = Flights()  # idempotency keys of the requests running now, test controls
        from sandbox.shopify.bulk import BulkRunner

        self.bulk = BulkRunner(self)

    def emit(self, shop: str, topic: str, payload: dict) -> list[str]:
        """Send a webhook of `topic` to every subscription of `shop` (for resolver modules)."""
        return self.webhooks.emit(shop, topic, payload)

    def close(self) -> None:
        """Stop the background workers: checkout simulators first (they emit webhooks), then
        webhook delivery and the bulk runner."""
        from sandbox.shopify import checkout_simulator

        checkout_simulator.stop_all(self)
        self.webhooks.stop()
        self.bulk.stop()
