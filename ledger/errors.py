"""The four kinds of failure every flow classifies into (design.md, rules of the road).

Client errors (shopify_app/admin_api/errors.py, erp/errors.py) subclass these, so the trace
classifies any failure by `error_class` without knowing which system raised it.

- MappingMissing: parked; resumes by itself when the mapping appears.
- Rejected: the target said no (userErrors, an ERP rule); shown with the target's own words.
- Transient: retried with backoff (RQ Retry). So is a job past its RQ timeout (a hung one:
  ledger.queues.JOB_TIMEOUTS), whatever the flow was waiting on.
- anything else is a bug: a traceback, surfaced loudly.
"""

from __future__ import annotations

from typing import Any

from rq.timeouts import BaseTimeoutException

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
