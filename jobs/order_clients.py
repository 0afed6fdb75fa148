"""The ERP and Admin API clients of the order jobs, kept per process for a short while.

Why: an order job is a few calls long; building a client per job would log in to the ERP
(one extra round trip) and open a new HTTP session every time. A client lives `TTL` seconds
in the process that built it (a forked work horse starts with none), so a changed connection
on the setup page is picked up within that time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import erp
from shopify_app.admin_api import AdminClient, for_shop

TTL = 300.0

_lock = threading.Lock()
_erp: dict[int, tuple[float, Any]] = {}
_admin: dict[str, tuple[float, AdminClient]] = {}


def erp_client(shop_id: int) -> Any:
    """The shop's ErpClient (erp.for_shop), reused for TTL seconds."""
    now = time.monotonic()
    with _lock:
        cached = _erp.get(shop_id)
        if cached is not None and now - cached[0] < TTL:
            return cached[1]
    client = erp.for_shop(shop_id)
    with _lock:
        _erp[shop_id] = (now, client)
    return client


def admin_client(shop_domain: str) -> AdminClient:
    """The shop's AdminClient (shopify_app.admin_api.for_shop), reused for TTL seconds."""
    now = time.monotonic()
    with _lock:
        cached = _admin.get(shop_domain)
        if cached is not None and now - cached[0] < TTL:
            return cached[1]
    client = for_shop(shop_domain)
    with _lock:
        _admin[shop_domain] = (now, client)
    return client


def reset() -> None:
    """Forget every cached client (tests switching sandboxes, a fork)."""
    with _lock:
        _erp.clear()
        _admin.clear()
