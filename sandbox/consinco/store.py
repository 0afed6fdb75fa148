"""The sandbox ERP's database handle: engine, a strictly increasing clock and the write lock.

Why a lock and a monotonic clock: stable paging promises that a read bounded by a snapshot
time never sees a row written after the snapshot was issued. Every write takes its change
time and commits while holding `write_lock`, and snapshots are issued under the same lock
from the same clock, so every later write gets a strictly greater change time.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from sandbox.consinco.tables import metadata

SERVER_ZONE = ZoneInfo("America/Sao_Paulo")  # the ERP server's own days (the app: ERP_TIMEZONE)


class MonotonicClock:
    """UTC wall-clock time (naive), never repeating and never going back; `offset` moves it."""

    def __init__(self) -> None:
        self._last = dt.datetime.min
        self._lock = threading.Lock()
        self.offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        with self._lock:
            current = dt.datetime.now(dt.UTC).replace(tzinfo=None) + self.offset
            if current <= self._last:
                current = self._last + dt.timedelta(microseconds=1)
            self._last = current
            return current

    def today(self) -> dt.date:
        """The server's date where it runs (a Consinco server in Brazil): dates such as a
        promotion's first and last day are days there, while date-times are kept in UTC."""
        return (dt.datetime.now(dt.UTC) + self.offset).astimezone(SERVER_ZONE).date()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None) -> tuple[Engine, str]:
    """An engine for `url`; None means a fresh SQLite file in a temporary directory."""
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='consinco-sandbox-')) / 'consinco.db'}"
    elif "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, poolclass=NullPool)
    return engine, url


# What SmPedidoVendaAPI's qtdPedida / qtdAtendida count: "packaging" (the contract's, [assumed])
# or "base" units. MAD_PEDVENDAITEM holds base units either way (order_records.py).
QUANTITY_UNITS = ("packaging", "base")
# What its vlrEmbDesconto is: the "line"'s whole discount (the contract's, [assumed]) or one
# "packaging"'s. MAD_PEDVENDAITEM.VLREMBDESCONTO holds one packaging's either way (order_records.py).
DISCOUNTS_PER = ("line", "packaging")


class Store:
    """Database + clock + write serialisation shared by every part of the sandbox ERP, the unit
    its API counts order line quantities in (`quantity_unit`, one of QUANTITY_UNITS) and what its
    order lines' discount is (`discount_per`, one of DISCOUNTS_PER)."""

    def __init__(
        self, url: str | None = None, *, quantity_unit: str = "packaging", discount_per: str = "line"
    ) -> None:
        if quantity_unit not in QUANTITY_UNITS:
            raise ValueError(
                f"quantity_unit must be one of {', '.join(QUANTITY_UNITS)}, not {quantity_unit!r}"
            )
        if discount_per not in DISCOUNTS_PER:
            raise ValueError(f"discount_per must be one of {', '.join(DISCOUNTS_PER)}, not {discount_per!r}")
        self.quantity_unit = quantity_unit
        self.discount_per = discount_per
        self.engine, self.url = make_engine(url)
        self._temporary = Path(self.url.removeprefix("sqlite:///")).parent if url is None else None
        self.clock = MonotonicClock()
        self.write_lock = threading.RLock()
        # POST PedidoVenda repeats answered with the first order ("duplicado"), by idPedidoCanalVenda:
        # a chaos run counts them (the app posting again after a lost answer, which the ERP absorbs)
        self.repeats: dict[str, int] = {}
        metadata.create_all(self.engine)

    @contextmanager
    def write(self) -> Iterator[tuple[Connection, dt.datetime]]:
        """A transaction plus its change time, both under the write lock."""
        with self.write_lock, self.engine.begin() as conn:
            yield conn, self.clock.now()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def snapshot(self) -> dt.datetime:
        """A time after every committed write and before every later one."""
        with self.write_lock:
            return self.clock.now()

    @staticmethod
    def next_id(conn: Connection, column) -> int:
        """Next integer for `column` (writes are serialised, so max + 1 is safe)."""
        return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one()) + 1

    def drop(self) -> None:
        metadata.drop_all(self.engine)
        self.engine.dispose()

    def close(self) -> None:
        """Release connections; a temporary database (no URL given) is deleted."""
        self.engine.dispose()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None
