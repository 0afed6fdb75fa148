"""ledger.errors.outage: only a failure a wait heals is an outage (Transient, retried); a statement
the database cannot run -- a table the migration has not added yet, a value past one of
PostgreSQL's limits -- fails the same on every retry, so it stays a bug with its traceback."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors as pg
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from ledger.errors import as_transient, outage


class _Driver(Exception):
    pass


def _real_sqlite_lock(tmp_path) -> sqlite3.OperationalError:
    """SQLite's own 'database is locked' (SQLITE_BUSY), as the demo's database raises it."""
    path = str(tmp_path / "lock.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("SELECT * FROM t")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        other.close()
        holder.close()
    raise AssertionError("the second connection was not locked out")


def _wrapped(orig: BaseException) -> OperationalError:
    return OperationalError("UPDATE ...", {}, orig)


@pytest.mark.parametrize(
    "orig",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),  # no SQLSTATE: the wire
        pg.ConnectionFailure("connection failure"),  # 08006
        pg.SqlclientUnableToEstablishSqlconnection("could not connect"),  # 08001
        pg.AdminShutdown("terminating connection due to administrator command"),  # 57P01
        pg.CrashShutdown("terminating connection because of crash of another server process"),  # 57P02
        pg.CannotConnectNow("the database system is starting up"),  # 57P03
        pg.DeadlockDetected("deadlock detected"),  # 40P01
        pg.SerializationFailure("could not serialize access"),  # 40001
        pg.TooManyConnections("sorry, too many clients already"),  # 53300
        sqlite3.OperationalError("database is locked"),
    ],
    ids=lambda orig: type(orig).__name__ + (f"-{orig}" if type(orig) is sqlite3.OperationalError else ""),
)
def test_a_failure_a_wait_heals_is_an_outage(orig):
    assert outage(_wrapped(orig)).startswith("database unavailable (OperationalError")


def test_sqlites_own_lock_is_an_outage(tmp_path):
    assert outage(_wrapped(_real_sqlite_lock(tmp_path))) is not None


@pytest.mark.parametrize(
    "orig",
    [
        sqlite3.OperationalError("no such table: table_a_migration_adds"),
        sqlite3.OperationalError("no such column: orders.a_column_a_migration_adds"),
        pg.ProgramLimitExceeded("index row size 3000 exceeds btree version 4 maximum 2704"),  # 54000
        pg.QueryCanceled("canceling statement due to statement timeout"),  # 57014
        pg.DatabaseDropped("database is being dropped"),  # 57P04
        _Driver("deadlock detected"),  # not a driver's error: nothing says what it is
    ],
    ids=lambda orig: f"{type(orig).__name__}-{str(orig)[:20]}",
)
def test_a_statement_that_fails_the_same_every_time_is_a_bug(orig):
    exc = _wrapped(orig)
    assert outage(exc) is None
    assert as_transient(exc, "the order waits for it") is None


def test_a_connection_gone_and_redis_are_outages():
    assert outage(InterfaceError("SELECT ...", {}, _Driver("connection already closed")))
    assert outage(DBAPIError("SELECT ...", {}, _Driver("terminating"), connection_invalidated=True))
    assert outage(RedisTimeoutError("Timeout reading from socket")).startswith("Redis unreachable")
    assert outage(IntegrityError("INSERT ...", {}, pg.UniqueViolation("duplicate key value"))) is None
