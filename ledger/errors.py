"""The four kinds of failure every flow classifies into (design.md, rules of the road).

Client errors (shopify_app/admin_api/errors.py, erp/errors.py) subclass these, so the trace
classifies any failure by `error_class` without knowing which system raised it.

- MappingMissing: parked; resumes by itself when the mapping appears.
- Rejected: the target said no (userErrors, an ERP rule); shown with the target's own words.
- Transient: retried with backoff (RQ Retry). So is a job past its RQ timeout (a hung one:
  ledger.queues.JOB_TIMEOUTS), whatever the flow was waiting on, and Redis or the database
  failing under a job (`outage`: a restart, a failover, a deadlock, SQLite's lock).
- anything else is a bug: a traceback, surfaced loudly.
"""

from __future__ import annotations

from typing import Any

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


def classify(exc: BaseException) -> ErrorClass:
    """The error class of any exception: unclassified ones are bugs, except RQ's job timeout
    (a hung job: its Retry runs it again)."""
    if isinstance(exc, IntegrationError):
        return exc.error_class
    if isinstance(exc, BaseTimeoutException):
        return ErrorClass.TRANSIENT
    return ErrorClass.BUG


def outage(exc: BaseException) -> str | None:
    """What failed when `exc` is Redis or the database failing under a job, not the job's fault;
    None for anything else.

    The database's: OperationalError (a deadlock or serialization failure, PostgreSQL restarting
    or failing over, SQLite's "database is locked"), InterfaceError (a connection already closed)
    and any DBAPIError that invalidated its connection. The job's transaction rolled back, so its
    retry starts whole. A statement the database refuses (IntegrityError, ProgrammingError, ...) is
    the job's own fault: a bug.
    """
    if isinstance(exc, RedisError):
        return f"Redis unreachable ({type(exc).__name__})"
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        said = str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else ""
        return f"database unavailable ({type(exc).__name__}: {said})"
    return None


def as_transient(exc: BaseException, waits: str) -> Transient | None:
    """`exc` as the Transient it is when it is an `outage` (`waits`: who waits for it, for the
    message), else None: the caller lets it through as it was."""
    cause = outage(exc)
    return None if cause is None else Transient(f"{cause}: {waits}")
