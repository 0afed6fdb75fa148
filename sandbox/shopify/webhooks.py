"""Webhook delivery: signed like Shopify, from a background thread, at least once.

`emit(shop, topic, payload)` enqueues one delivery per matching subscription. The worker POSTs
the raw JSON with Shopify's headers; a non-2xx answer or a timeout is retried after
`options.webhook_retry_delays` (the same Webhook-Id each time). Chaos switches (tests, demo):
`duplicate_rate` (0..1: chance a delivery is sent twice), `delay_seconds` (added before the first
attempt), `reorder` (a random 0..reorder_window s jitter, so later events may arrive first).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from sandbox.shopify.clock import iso
from sandbox.shopify.schema import API_VERSION

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)


@dataclass
class Chaos:
    duplicate_rate: float = 0.0
    delay_seconds: float = 0.0
    reorder: bool = False
    reorder_window: float = 1.0
    # Draws the duplicates and the jitter; a caller wanting a repeatable run seeds its own.
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Delivery:
    shop: str
    topic: str
    uri: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str
    attempt: int = 0
    results: list[str] = field(default_factory=list)


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Webhooks:
    """The delivery queue and its worker thread (started on first emit)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.chaos = Chaos()
        self.deliveries: list[dict[str, Any]] = []  # one record per attempt, for tests and the page
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def emit(self, shop: str, topic: str, payload: dict[str, Any]) -> list[str]:
        """Queue `payload` for every subscription of `shop` to `topic`; returns the webhook ids."""
        body = json.dumps(payload).encode()
        event_id = str(uuid.uuid4())
        triggered_at = iso(self.sandbox.clock.now())
        ids: list[str] = []
        for subscription in self.sandbox.store.find(shop, "webhook.topic", topic):
            delivery = Delivery(
                shop, topic, subscription["uri"], body, str(uuid.uuid4()), event_id, triggered_at
            )
            copies = 2 if self.chaos.rng.random() < self.chaos.duplicate_rate else 1
            for _ in range(copies):
                self._push(delivery if copies == 1 else _copy(delivery), self._first_delay())
            ids.append(delivery.webhook_id)
        return ids

    def _first_delay(self) -> float:
        jitter = self.chaos.rng.uniform(0, self.chaos.reorder_window) if self.chaos.reorder else 0.0
        return self.chaos.delay_seconds + jitter

    def _push(self, delivery: Delivery, delay: float) -> None:
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._work, name="sandbox-webhooks", daemon=True)
                self._thread.start()
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._order), delivery))
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        options = self.sandbox.options
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Hmac-Sha256": sign(delivery.body, options.api_secret),
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Shop-Domain": f"{delivery.shop}.myshopify.com",
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }
        delivery.attempt += 1
        try:
            response = self._session.post(
                delivery.uri, data=delivery.body, headers=headers, timeout=options.webhook_timeout
            )
            outcome = str(response.status_code)
            ok = 200 <= response.status_code < 300
        except requests.RequestException as error:
            outcome, ok = type(error).__name__, False
        self.deliveries.append(
            {
                "shop": delivery.shop,
                "topic": delivery.topic,
                "uri": delivery.uri,
                "webhook_id": delivery.webhook_id,
                "attempt": delivery.attempt,
                "outcome": outcome,
                "ok": ok,
            }
        )
        if ok:
            return
        delays = options.webhook_retry_delays
        if delivery.attempt <= len(delays):
            log.info(
                "sandbox webhook %s to %s failed (%s); retry %s",
                delivery.topic,
                delivery.uri,
                outcome,
                delivery.attempt,
            )
            self._push(delivery, delays[delivery.attempt - 1])
        else:
            log.warning(
                "sandbox webhook %s to %s dropped after %s attempts",
                delivery.topic,
                delivery.uri,
                delivery.attempt,
            )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _copy(delivery: Delivery) -> Delivery:
    return Delivery(
        delivery.shop,
        delivery.topic,
        delivery.uri,
        delivery.body,
        delivery.webhook_id,
        delivery.event_id,
        delivery.triggered_at,
    )
