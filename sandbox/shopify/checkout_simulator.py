"""The checkout simulator's background mode: orders arrive at a configured rate (a Poisson
process: random gaps averaging 60 / rate_per_minute seconds), as a live store would.

One simulator per (sandbox, shop); `start_simulator` replaces a running one, `stop_simulator`
ends it. A failed placement (e.g. the catalogue ran out of stock) is logged and the simulator
keeps going, since stock may be replenished by the app under test.
"""

from __future__ import annotations

import logging
import random
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.shopify.checkout import CAPTURES, GATEWAYS, CheckoutError, place_order

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)

_RUNNING: weakref.WeakKeyDictionary[Sandbox, dict[str, Simulator]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


@dataclass
class Simulator:
    """A thread placing orders for one shop until stopped."""

    sandbox: Sandbox
    shop: str
    rate_per_minute: float
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    placed: list[str] = field(default_factory=list)
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sandbox-checkout-{self.shop}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "rate_per_minute": self.rate_per_minute,
            "running": self.running,
            "placed": len(self.placed),
            "failures": self.failures,
            "last": self.placed[-1:],
        }

    def _run(self) -> None:
        rng = random.Random(self.seed)
        while not self._stop.wait(rng.expovariate(self.rate_per_minute / 60.0)):
            options = dict(self.options)
            options.setdefault("gateway", rng.choice(tuple(GATEWAYS)))
            if options["gateway"] == "cartao":
                options.setdefault("capture", rng.choice(CAPTURES))
            try:
                self.placed.append(place_order(self.sandbox, self.shop, rng=rng, **options))
            except CheckoutError as error:
                self.failures += 1
                log.warning("sandbox checkout for %s skipped an order: %s", self.shop, error)


def start_simulator(
    sandbox: Sandbox, shop: str, rate_per_minute: float, seed: int | None = None, **options: Any
) -> Simulator:
    """Start placing orders for `shop` at `rate_per_minute` (replaces a running simulator)."""
    if rate_per_minute <= 0:
        raise ValueError("rate_per_minute must be positive")
    stop_simulator(sandbox, shop)
    simulator = Simulator(sandbox, shop, rate_per_minute, seed, options)
    with _LOCK:
        _RUNNING.setdefault(sandbox, {})[shop] = simulator
    simulator.start()
    return simulator


def stop_simulator(sandbox: Sandbox, shop: str) -> Simulator | None:
    """Stop the shop's simulator; returns it (for its counters) or None when none ran."""
    with _LOCK:
        simulator = _RUNNING.get(sandbox, {}).pop(shop, None)
    if simulator is not None:
        simulator.stop()
    return simulator


def stop_all(sandbox: Sandbox) -> None:
    """Stop every simulator of `sandbox` (call before closing it)."""
    with _LOCK:
        running = list(_RUNNING.pop(sandbox, {}).values())
    for simulator in running:
        simulator.stop()


def simulator_of(sandbox: Sandbox, shop: str) -> Simulator | None:
    with _LOCK:
        return _RUNNING.get(sandbox, {}).get(shop)
