"""The bulk runner waits for a bulk operation's finish webhook with a BLPOP in steps under the Redis
client's socket timeout (ledger.kv: REDIS_SOCKET_TIMEOUT). The webhook only wakes the wait early:
Shopify's own status, polled after each wait, is what the runner trusts. So a Redis slow to answer
(a loaded machine, a failover) ends that wait as "no news" and the poll goes on, instead of failing
the whole push (the demo's initial load died on it under load)."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import redis

from shopify_app.admin_api.bulk import BulkRunner


def test_a_redis_that_does_not_answer_ends_the_wait_as_no_news() -> None:
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host, port = listener.getsockname()
        # built as ledger.kv builds the app's clients (from a URL: no connect retries with backoff)
        conn = redis.Redis.from_url(f"redis://{host}:{port}/0", socket_timeout=0.3, socket_connect_timeout=1)
        runner = BulkRunner(SimpleNamespace(shop="s.myshopify.com"), conn)  # type: ignore[arg-type]
        started = time.monotonic()
        assert runner._wait_notification("gid://shopify/BulkOperation/1", 0.8) is False
        took = time.monotonic() - started
        assert 0.75 <= took < 4, took  # the wait's whole length, then the poll


def test_the_steps_leave_the_socket_timeout_a_margin(redis_server) -> None:
    conn = redis.Redis.from_url(redis_server.url, socket_timeout=2.0)
    runner = BulkRunner(SimpleNamespace(shop="s.myshopify.com"), conn)  # type: ignore[arg-type]
    seen: list[float] = []
    real = conn.blpop

    def blpop(keys, timeout=0):
        seen.append(timeout)
        return real(keys, timeout=timeout)

    conn.blpop = blpop  # type: ignore[method-assign]
    assert runner._wait_notification("gid://shopify/BulkOperation/2", 1.2) is False
    assert seen and max(seen) <= 0.5, seen  # a quarter of the socket timeout per step: a margin of 1.5 s
