"""The test session's own redis-server: pytest-xdist runs one session per core, and a port picked
free may be taken by the other session's server before this one binds it."""

from __future__ import annotations

import redis

from tests.conftest import RedisServer


def _pid(server: RedisServer) -> int:
    client = redis.Redis.from_url(server.url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def test_a_port_taken_meanwhile_gives_a_server_of_its_own_on_another(tmp_path) -> None:
    other = RedisServer(tmp_path / "other")
    (tmp_path / "other").mkdir()
    (tmp_path / "own").mkdir()
    other.start()
    try:
        own = RedisServer(tmp_path / "own")
        own.port = other.port  # picked free, then taken by the other session's server
        own.start()
        try:
            assert own.port != other.port
            assert own.proc is not None and _pid(own) == own.proc.pid
            port = own.port
            own.restart()  # the app's processes keep its URL: the same port again
            assert own.port == port and _pid(own) == own.proc.pid
        finally:
            own.stop()
    finally:
        other.stop()
