"""Fault switches for chaos tests: latency, a rate of 5xx answers, downtime, slow pages.

Checked before every API request (never before /_sandbox control calls, so a test can
always switch faults off again). Expired tokens are switched on the TokenIssuer.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    """Current switches; all off by default."""

    latency: float = 0.0  # seconds added to every API answer
    error_rate: float = 0.0  # share of API answers replaced by a 5xx (0..1)
    down_until: float = 0.0  # time.monotonic() until which the API answers 503
    slow_page: float = 0.0  # seconds added to every paged GET
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(
        self,
        *,
        latency: float | None = None,
        error_rate: float | None = None,
        down_for: float | None = None,
        slow_page: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Change some switches; `down_for` seconds of downtime starting now (0 ends it)."""
        with self._lock:
            if latency is not None:
                self.latency = max(0.0, latency)
            if error_rate is not None:
                self.error_rate = min(1.0, max(0.0, error_rate))
            if down_for is not None:
                self.down_until = time.monotonic() + down_for if down_for > 0 else 0.0
            if slow_page is not None:
                self.slow_page = max(0.0, slow_page)
            if seed is not None:
                self._rng.seed(seed)

    def clear(self) -> None:
        self.set(latency=0.0, error_rate=0.0, down_for=0.0, slow_page=0.0)

    def downtime_left(self) -> float:
        return max(0.0, self.down_until - time.monotonic())

    def before(self, paged: bool) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Sleep as configured; return (status, body, headers) when the request must fail."""
        left = self.downtime_left()
        if left > 0:
            return (
                503,
                {"codigo": "INDISPONIVEL", "mensagem": "Serviço indisponível (manutenção).", "campo": None},
                {"Retry-After": str(int(left) + 1)},
            )
        delay = self.latency + (self.slow_page if paged else 0.0)
        if delay:
            time.sleep(delay)
        with self._lock:
            fail = self.error_rate > 0 and self._rng.random() < self.error_rate
            status = self._rng.choice([500, 502, 503]) if fail else 0
        if fail:
            return (
                status,
                {
                    "codigo": "ERRO_INTERNO",
                    "mensagem": "Erro interno do servidor (falha simulada).",
                    "campo": None,
                },
                {},
            )
        return None

    def state(self) -> dict[str, Any]:
        return {
            "latencia": self.latency,
            "taxaErro5xx": self.error_rate,
            "indisponivelPor": round(self.downtime_left(), 3),
            "paginaLenta": self.slow_page,
        }
