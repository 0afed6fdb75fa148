"""Handlers the inbox tests route topics to (RQ imports them by dotted name, like real ones)."""

from __future__ import annotations

from ledger.errors import Transient

CALLS: list[str] = []


def record(event) -> None:
    CALLS.append(event.topic)


def always_transient(event) -> None:
    raise Transient("ERP unreachable")


def crashes(event) -> None:
    raise ValueError("handler bug")


ERP = {"down": True}


def run_against_the_erp(shop_id: int) -> str:
    """A flow's run(shop_id) that reads the ERP: Transient while ERP["down"]."""
    if ERP["down"]:
        raise Transient("ERP unreachable: connection refused")
    return "ok"


def horse_killed(shop_id: int) -> None:
    """A run whose forked work horse the kernel kills (the OOM killer during a big catalog load)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def hangs(event) -> None:
    """A handler stuck on an outside call (an ERP socket that never answers): RQ's job timeout ends it."""
    import time

    time.sleep(5)


class _DriverError(Exception):
    """What a database driver raises; SQLAlchemy wraps it."""


def database_blips(kind: str):
    """The database failing under a handler, as SQLAlchemy raises it."""
    import sqlite3

    import psycopg
    from psycopg import errors as pg
    from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

    if kind == "deadlock":
        return OperationalError("UPDATE order_links ...", {}, pg.DeadlockDetected("deadlock detected"))
    if kind == "restart":
        return OperationalError(
            "SELECT ...", {}, psycopg.OperationalError("server closed the connection unexpectedly")
        )
    if kind == "locked":
        return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    if kind == "interface":
        return InterfaceError("SELECT ...", {}, _DriverError("connection already closed"))
    if kind == "invalidated":
        return DBAPIError(
            "SELECT ...", {}, _DriverError("terminating connection"), connection_invalidated=True
        )
    if kind == "integrity":  # the statement's fault, not the database's: a bug
        return IntegrityError("INSERT ...", {}, _DriverError("duplicate key value"))
    raise ValueError(kind)


BLIP = {"kind": "deadlock"}


def database_blip(event) -> None:
    raise database_blips(BLIP["kind"])


def slow_run(shop_id: int) -> str:
    """A scheduled run(shop_id) that takes a while (a poll reading many events): long enough to be
    killed under."""
    import time

    time.sleep(60)
    return "ok"
