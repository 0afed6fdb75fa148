"""How often and how long the client retries a transient ERP failure before giving up.

Short and bounded on purpose: it smooths a blip (a 502, a dropped keep-alive connection) inside
one job; a longer outage is the job layer's business (RQ Retry re-runs the job later). Injected
into the client so tests run without sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; full-jitter exponential backoff capped at `cap` seconds.

    A server's Retry-After is honoured when it fits under `max_retry_after`; a longer downtime
    is not slept through here but surfaced as ErpTransient (with retry_after) to the job layer.
    """

    attempts: int = 3
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + self.jitter() / 2)

    def should_retry(self, attempt: int, retry_after: float | None = None) -> bool:
        if attempt >= self.attempts:
            return False
        return retry_after is None or retry_after <= self.max_retry_after


NO_RETRY = RetryPolicy(attempts=1)
