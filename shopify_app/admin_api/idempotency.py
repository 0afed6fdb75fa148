"""Idempotency keys for Shopify's `@idempotent(key:)` inventory mutations.

Why derived, not random: Shopify answers a repeated key with the first result, so the key must
name the unit of work (shop, flow, batch id, the content sent) and nothing about the attempt.
A retry of the same work (inside the client, or RQ running the job again) then sends the same
key and cannot apply a stock change twice; different content gives a different key.
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
