"""The four kinds of failure every flow classifies into (design.md, rules of the road).

Client errors (shopify_app/admin_api/errors.py, erp/errors.py) subclass these, so the trace
classifies any failure by `error_class` without knowing which system raised it.

- MappingMissing: parked; resumes by itself when the mapping appears.
- Rejected: the target said no (userErrors, an ERP rule); shown with the target's own words.
- Transient: retried with backoff (RQ Retry). So is a job past its RQ timeout (a hung one:
  ledger.queues.JOB_TIMEOUTS), whatever the flow was waiting on, and Redis or the database
  failing under a job (`outage`: a restart, a failover, a deadlock, SQLite's lock; never a
  statement the database cannot run).
- anything else is a bug: a traceback, surfaced loudly.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import psycopg
from redis.exceptions import RedisError
from rq.timeouts import BaseTimeoutException
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ledger.models import ErrorClass
from ledger.words import Words


class IntegrationError(Exception):
    """Base of every classified failure. `detail` carries what the UI needs to offer the fix."""

    error_class: ErrorClass = ErrorClass.BUG
    retryable: bool = False
    words: Words | None = None  # the message in the merchant's words (ledger.words), when it has them

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}

    def worded(self, key: str, **params: Any) -> IntegrationError:
        """This failure with its words (`key`, `params`: ids, numbers, names, an outside system's own
        message), for the pages that show it in the merchant's language."""
        self.words = (key, params)
        return self


class MappingMissing(IntegrationError):
    """A De:Para entry, location mapping, store link or id binding does not exist yet."""

    error_class = ErrorClass.MAPPING_MISSING

    def __init__(
        self, kind: str, code: str, message: str | None = None, *, words: Words | None = None, **detail: Any
    ) -> None:
        super().__init__(
            message or f"no {kind} mapping for {code!r}",
            detail={"mapping": {"kind": kind, "code": code}, **detail},
        )
        self.kind = kind
        self.code = code
        self.words = words  # the message in the merchant's words (key, params), for a note it leaves


class Rejected(IntegrationError):
    """The target system refused the request; retrying the same request gives the same answer."""

    error_class = ErrorClass.REJECTED

    def __init__(
        self,
        message: str,
        *,
        system: str,
        code: str | None = None,
        field: list[str] | str | None = None,
        detail: dict[str, Any] | None = None,
        words: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, detail={"system": system, "code": code, "field": field, **(detail or {})})
        self.system = system
        self.code = code
        self.field = field
        self.words = words  # the refusal in the merchant's words (key, params), for a note it leaves


class Transient(IntegrationError):
    """Worth trying again later: network errors, 5xx, throttling, the ERP down."""

    error_class = ErrorClass.TRANSIENT
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **detail: Any) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's wait in seconds (RFC 9110: delay-seconds, or an HTTP-date, which
    IIS and proxies in front of an ERP send; one past is 0), None when absent or unreadable."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # (an HTTP-date is GMT; "-0000" parses naive)
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def classify(exc: BaseException) -> ErrorClass:
    """The error class of any exception: unclassified ones are bugs, except RQ's job timeout
    (a hung job: its Retry runs it again)."""
    if isinstance(exc, IntegrationError):
        return exc.error_class
    if isinstance(exc, BaseTimeoutException):
        return ErrorClass.TRANSIENT
    return ErrorClass.BUG


# PostgreSQL's SQLSTATEs (a class, or one code) that a wait heals: 08 the connection failed, 40 a
# transaction rolled back (deadlock, serialization failure), 53 the server out of resources (too
# many connections, memory, disk), 57P01-57P03 the server shutting down, crashed or starting up.
PG_OUTAGE_STATES = ("08", "40", "53", "57P01", "57P02", "57P03")
# SQLite's primary result codes for another connection holding the database (extended codes add
# bits above the low byte): "database is locked", "database table is locked".
SQLITE_OUTAGE_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
SQLITE_OUTAGE_SAID = ("database is locked", "database table is locked", "database is busy")


def outage(exc: BaseException) -> str | None:
    """What failed when `exc` is Redis or the database failing under a job, not the job's fault;
    None for anything else.

    The database's, only where a wait heals it: any DBAPIError that invalidated its connection,
    InterfaceError (a connection already closed), and an OperationalError whose driver error says
    so (`database_outage`). The job's transaction rolled back, so its retry starts whole.
    Everything else the database raises is the job's own fault, or its schema's, and fails the
    same on every retry: a bug, with its traceback (IntegrityError, ProgrammingError, SQLite's
    "no such table" / "no such column" -- code newer than its migration --, PostgreSQL's class 54
    "program limit exceeded", a statement timeout).
    """
    if isinstance(exc, RedisError):
        return f"Redis unreachable ({type(exc).__name__})"
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, InterfaceError)
        or (isinstance(exc, OperationalError) and database_outage(exc.orig))
    ):
        said = str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else ""
        return f"database unavailable ({type(exc).__name__}: {said})"
    return None


def database_outage(orig: BaseException | None) -> bool:
    """Pure: whether the driver's error under an OperationalError is the database unavailable.

    psycopg: decided by the SQLSTATE's class (PG_OUTAGE_STATES); one without a SQLSTATE is the
    client's own (the server closed the connection, none could be made). SQLite: its busy and
    locked result codes (by message where the code is not on the error). Any other driver error
    says nothing a wait would change: not an outage.
    """
    if isinstance(orig, psycopg.Error):
        state = orig.sqlstate
        if state is None:
            return isinstance(orig, psycopg.OperationalError)
        return state.startswith(PG_OUTAGE_STATES)
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in SQLITE_OUTAGE_CODES
        return str(orig).strip().lower().startswith(SQLITE_OUTAGE_SAID)
    return False


def as_transient(exc: BaseException, waits: str) -> Transient | None:
    """`exc` as the Transient it is when it is an `outage` (`waits`: who waits for it, for the
    message), else None: the caller lets it through as it was."""
    cause = outage(exc)
    return None if cause is None else Transient(f"{cause}: {waits}")
