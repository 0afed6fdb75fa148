"""Idempotency keys for Shopify's `@idempotent(key:)` inventory mutations.

Why derived, not random: Shopify answers a repeated key with the first result, so the key must
name the unit of work (shop, flow, batch id, the content sent, and, where the same content may
rightly be sent again later, the attempt of the unit: see jobs/stock_writer.py). A retry of the
same call (inside the client) then sends the same key and cannot apply a stock change twice;
different content gives a different key.

One exception, Shopify's own: a key whose earlier request failed on Shopify's side is answered
IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED ("Retry with a new idempotency key"). The executor then sends
`renewed_key(key, n)`, the n-th renewal of that key: derived too, so the same call made again
(the next compare-and-swap round, a rerun of the same attempt) walks the same keys and finds the
renewal that was applied answered with its first result instead of applying it twice.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _canonical(part: Any) -> str:
    if isinstance(part, str):
        return part
    return json.dumps(part, sort_keys=True, separators=(",", ":"), default=str)


def idempotency_key(*parts: Any) -> str:
    """sha256 hex of the parts (strings as is, anything else as canonical JSON), unit-separated."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(_canonical(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def renewed_key(key: str, renewal: int) -> str:
    """The `renewal`-th new key (1, 2, ...) for a call whose `key` Shopify refused as failed before."""
    return idempotency_key(key, "renewed", str(renewal))
