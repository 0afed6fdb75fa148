"""Shared fixtures: a real Redis server and a real PostgreSQL database for every test session.

Each pytest session starts its own `redis-server` on a free loopback port (a real server, real
connections; isolated from any other run on the machine) and creates its own PostgreSQL database
on 127.0.0.1:5432, dropped at the end. SQLite databases live in tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from ledger import db as ledger_db
from ledger.schema import upgrade

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server process owned by the test session (so tests may also restart it)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it, on a new free port whenever the one picked was taken meanwhile: free_port()
        closes its socket before redis-server binds, so another session (pytest-xdist runs one per
        core) may take the port first; the server answering must be this process's own."""
        for _ in range(5):
            if self._start_once():
                return
            self.port = free_port()
        raise RuntimeError("redis-server did not start on a port of its own")

    def _start_once(self) -> bool:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/services.sh (make test does)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pid = self._answering_pid()
        if pid == self.proc.pid:
            return True
        self.stop()  # it could not bind (the port was taken), or another session's server answers
        return False

    def _answering_pid(self) -> int | None:
        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    return int(client.info("server")["process_id"])
                except redis.ConnectionError:
                    if self.proc is None or self.proc.poll() is not None:
                        return None
                    time.sleep(0.05)
            return None
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        """The same server again on its own port (the app's processes keep its URL)."""
        self.stop()
        for _ in range(5):
            if self._start_once():
                return
            time.sleep(0.2)
        raise RuntimeError(f"redis-server did not start again on port {self.port}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_conn(redis_server) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_server.url)
    conn.flushall()
    yield conn
    conn.close()


@contextmanager
def empty_pg_database(prefix: str = "test") -> Iterator[str]:
    """A new, empty PostgreSQL database on 127.0.0.1:5432 (its URL), dropped at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        ledger_db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, migrated to head, dropped at the end."""
    with empty_pg_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def empty_pg_database_url() -> Iterator[str]:
    """A PostgreSQL database of the test's own, not migrated (migration tests)."""
    with empty_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite ledger migrated to head once a session: each test copies it (~1 ms) rather than
    running every migration again (~85 ms)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ledger.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_database_url(tmp_path, sqlite_template) -> str:
    """A SQLite ledger of the test's own, at head: the template copied through SQLite's backup API
    (whole whatever its write-ahead log still holds)."""
    path = tmp_path / "ledger.db"
    with closing(sqlite3.connect(sqlite_template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return f"sqlite:///{path}"


BIG_TABLE = 1000  # rows past which a table is emptied by TRUNCATE rather than DELETE


def _truncate(url: str) -> None:
    """Every ledger table emptied and every sequence restarted, as `TRUNCATE ... RESTART IDENTITY`
    would, at a tenth of its cost: TRUNCATE makes new files for every table and index (~60 ms for
    the ledger's, every test), while a test writes a few rows in a few tables. So one query finds
    the tables holding rows (and those holding many), the many-row ones are truncated (with the
    tables referencing them), the rest DELETEd children first, and the sequences a test drew from
    set back to 1.

    A query a previous test left running (a browser test's server thread answering a last poll) can
    take its table locks in another order: PostgreSQL then cancels one of the two as a deadlock;
    when it picks this one, it runs again."""
    from psycopg.errors import DeadlockDetected
    from sqlalchemy.exc import OperationalError

    from ledger.models import Base

    engine = ledger_db.get_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables]  # parents first
    probe = " UNION ALL ".join(
        f'SELECT \'{t}\', EXISTS (SELECT 1 FROM "{t}" OFFSET {BIG_TABLE}) WHERE EXISTS (SELECT 1 FROM "{t}")'
        for t in tables
    )
    used = "SELECT schemaname, sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                held = dict(conn.execute(text(probe)).all())
                if any(held.values()):
                    big = ", ".join(f'"{t}"' for t, many in held.items() if many)
                    conn.execute(text(f"TRUNCATE {big} CASCADE"))
                for table in reversed(tables):
                    if table in held:
                        conn.execute(text(f'DELETE FROM "{table}"'))
                for schema, sequence in conn.execute(text(used)).all():
                    conn.execute(text("SELECT setval(:name, 1, false)"), {"name": f'"{schema}"."{sequence}"'})
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, DeadlockDetected) or attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request) -> str:
    """Ledger tests run on both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database_url")
    url = request.getfixturevalue("pg_database_url")
    _truncate(url)
    return url


@pytest.fixture
def database_url(pg_database_url) -> str:
    """The production database kind, emptied for the test."""
    _truncate(pg_database_url)
    return pg_database_url


@pytest.fixture
def env(monkeypatch, database_url, redis_server):
    """Environment for the app under test: real PostgreSQL, real Redis, test keys."""
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    # No mail server unless a test starts one (the browser stack's stays in the environment all session)
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.delenv("ALERT_MAIL_FROM", raising=False)
    redis.Redis.from_url(redis_server.url).flushall()
    return monkeypatch
