"""Leaky buckets per (app, shop), like Shopify's calculated-cost rate limit.

A request may run when the bucket holds its requested cost; it then pays the requested cost and
gets `requested - actual` back after execution. The bucket refills at `restore_rate` per second
of the injected clock, up to `maximum`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sandbox.shopify.clock import Clock


@dataclass
class Bucket:
    maximum: float
    restore_rate: float
    available: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": int(self.available),
            "restoreRate": float(self.restore_rate),
        }


class Throttle:
    """All buckets of one emulator."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def bucket(self, api_key: str, shop: str, maximum: int, restore_rate: int) -> Bucket:
        """The bucket, created full; a changed tier keeps the level (capped at the new maximum)."""
        now = self._clock.now()
        with self._lock:
            found = self._buckets.get((api_key, shop))
            if found is None:
                found = Bucket(maximum, restore_rate, maximum, now)
                self._buckets[(api_key, shop)] = found
            found.refill(now)
            found.maximum, found.restore_rate = maximum, restore_rate
            found.available = min(found.available, maximum)
            return found

    def take(self, bucket: Bucket, cost: int) -> bool:
        """Pay `cost` if the bucket holds it; False means THROTTLED."""
        with self._lock:
            bucket.refill(self._clock.now())
            if bucket.available < cost:
                return False
            bucket.available -= cost
            return True

    def refund(self, bucket: Bucket, points: int) -> None:
        with self._lock:
            bucket.refill(self._clock.now())
            bucket.available = min(bucket.maximum, bucket.available + max(0, points))

    def reset(self, shop: str) -> None:
        with self._lock:
            for key in [k for k in self._buckets if k[1] == shop]:
                del self._buckets[key]
