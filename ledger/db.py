"""Engine and sessions for the ledger: SQLite in the embedded default, PostgreSQL in production."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_makers: dict[str, sessionmaker[Session]] = {}
_readers: dict[str, sessionmaker[Session]] = {}  # autocommit sessions for reads (`read_scope`)


# libpq's limits on a PostgreSQL that stops answering (a failover to a new address, a dropped
# connection, a paused host): without them a call waits in the kernel for ~15 minutes (or, to
# connect, for ever), and a webhook's request thread with it, far past Shopify's 5 s; gunicorn's
# gthread workers never kill a stuck thread. With them the call fails as OperationalError within
# seconds (the webhook answers 503 and Shopify delivers again; a job retries). Only silence counts:
# a long query keeps its connection (the server acknowledges what was sent, and keepalives are
# answered by the server's kernel while it works).
PG_CONNECT_ARGS = {
    "connect_timeout": 3,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": 5000,  # ms: data sent and not acknowledged
}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process; `dispose_all()` after a fork."""
    url = url or _default_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                if url.startswith("sqlite:///") and ":memory:" not in url:
                    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(
                    url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=PG_CONNECT_ARGS
                )
            _engines[url] = engine
            _makers[url] = sessionmaker(bind=engine, expire_on_commit=False)
        return engine


def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    url = url or _default_url()
    get_engine(url)
    return _makers[url]


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session that only reads: its statements run in autocommit, each one its own snapshot, so
    no BEGIN and COMMIT round trips around them (a unit that also writes uses `session_scope`).

    For a single SELECT this is what a transaction of its own gives; several SELECTs here do not
    see one snapshot together."""
    url = url or _default_url()
    engine = get_engine(url)
    with _lock:
        maker = _readers.get(url)
        if maker is None:
            reader = engine.execution_options(isolation_level="AUTOCOMMIT")
            maker = _readers[url] = sessionmaker(bind=reader, expire_on_commit=False)
    session = maker()
    try:
        yield session
    finally:
        session.close()


def dispose_all() -> None:
    """Drop pooled connections (after a fork, or between tests)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()
        _readers.clear()


def _default_url() -> str:
    from settings import database_url_from_env

    return database_url_from_env()
