"""What every page module of the JSON API shares: errors, input parsing, sessions, audit, locale.

The page modules (api_setup, api_mappings, api_flows, ...) raise `ApiError` for anything the
caller did wrong or an outside system refused; `shopify_app.api` turns it into the one JSON
error body (`roles.json_error`). Every query a page module runs filters by `g.shop.id`, which
`require_role` took from the ID token and only from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ledger import audit
from ledger.db import session_scope
from settings import Settings

log = logging.getLogger(__name__)

LOCALES = ("pt-BR", "en")
DEFAULT_LOCALE = "pt-BR"
MAX_ID = 2**63 - 1
MAX_INT = 2_147_483_647
MAX_BODY_BYTES = 1024 * 1024  # a request body of any /api endpoint without its own `body_limit`
MAX_NESTING = 64  # arrays and objects inside one another in a JSON body: no endpoint needs more than 3

V = TypeVar("V", bound=Callable[..., Any])


class ApiError(Exception):
    """An answer other than success: status, machine code, human message, extra body fields."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def within_limit(redis_url: str, key: str, limit: int, window_seconds: int) -> bool:
    """Whether one more of `key`'s actions is within `limit` per window (a Redis counter, its window
    begun by its first action); Redis unreachable: allowed, as the action itself is."""
    from redis.exceptions import RedisError

    from ledger.kv import get_redis

    try:
        conn = get_redis(redis_url)
        count = conn.incr(key)
        if count == 1:
            conn.expire(key, window_seconds)
    except RedisError:
        return True
    return count <= limit


def invalid(fields: dict[str, str], message: str = "some fields are not valid") -> ApiError:
    """A 400 naming each bad field, so the page can show the message beside its input."""
    return ApiError(400, "invalid", message, fields=fields)


def not_found(what: str) -> ApiError:
    """A 404: also what another shop's ids answer, so their existence does not leak."""
    return ApiError(404, "not_found", f"no such {what}")


def app_settings() -> Settings:
    return current_app.config["SETTINGS"]


@contextmanager
def db() -> Iterator[Session]:
    """A session on the app's database, committed when the block ends without an exception."""
    with session_scope(app_settings().database_url) as session:
        yield session


def body_limit(max_bytes: int) -> Callable[[V], V]:
    """Let one endpoint take a body larger than `MAX_BODY_BYTES` (read by shopify_app.api before the
    request is authenticated or its body read: a larger one is refused 413 unread)."""

    def mark(view: V) -> V:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 when the body is missing, malformed, not an object, nested
    deeper than `MAX_NESTING`, or holding text no database stores (a NUL, an unpaired surrogate).
    Read only here, inside the view: after `require_role` authenticated the request."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser's own limit (about 1000 levels): not a ValueError
        body = None
        problem: str | None = "nesting"
    else:
        problem = body_problem(body)
    if problem == "nesting":
        raise invalid(
            {"body": f"nested more than {MAX_NESTING} levels deep"},
            f"the JSON is nested too deeply (more than {MAX_NESTING} levels); send a flatter body",
        )
    if problem == "unstorable":
        raise invalid({"body": "unstorable text"}, "NUL characters and unpaired surrogates are not allowed")
    if not isinstance(body, dict):
        raise invalid({"body": "a JSON object is required"}, "the request body must be a JSON object")
    return body


def body_problem(value: Any) -> str | None:
    """What a parsed JSON body cannot be: "nesting" when arrays and objects go deeper than
    `MAX_NESTING`, "unstorable" for a NUL or half of a UTF-16 pair (JSON's "\\ud800" alone: text
    no database can store), else None. Walked with a stack of its own, so no depth reaches Python's
    recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return "unstorable"
        elif isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                return "nesting"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def optional_json_body() -> dict[str, Any]:
    """Like `json_body`, but an empty body is an empty object."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid({key: "unknown field" for key in unknown})


def field_text(body: dict[str, Any], key: str, max_length: int, errors: dict[str, str]) -> str:
    """A required, trimmed text field; records what is wrong in `errors`."""
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        errors[key] = "is required"
        return ""
    if len(value) > max_length:
        errors[key] = f"must be at most {max_length} characters"
    return value.strip()


def as_int(value: Any) -> int | None:
    """A JSON integer as JSON Schema sees it (3 and 3.0 alike); None for anything else, bools included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def field_int(body: dict[str, Any], key: str, errors: dict[str, str]) -> int:
    """A required positive int4 field (bools refused); records what is wrong in `errors`."""
    value = as_int(body.get(key))
    if value is None:
        errors[key] = "must be an integer"
        return 0
    if not 1 <= value <= MAX_INT:
        errors[key] = f"must be between 1 and {MAX_INT}"
    return value


def query_int(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    """An integer query parameter within [minimum, maximum]; 400 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid({name: "must be an integer"}) from None
    if not minimum <= value <= maximum:
        raise invalid({name: f"must be between {minimum} and {maximum}"})
    return value


def query_choice(name: str, choices: tuple[str, ...] | list[str], *, required: bool = False) -> str | None:
    """A query parameter that must be one of `choices` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid({name: "is required"})
        return None
    if raw not in choices:
        raise invalid({name: f"must be one of {', '.join(choices)}"})
    return raw


def query_flag(name: str) -> bool:
    """A true/false query parameter (absent or empty: false); 400 naming it otherwise."""
    raw = (request.args.get(name) or "").lower()
    if raw not in ("", "true", "false"):
        raise invalid({name: "must be true or false"})
    return raw == "true"


def query_time(name: str) -> datetime | None:
    """An ISO 8601 time query parameter (e.g. 2026-11-27T13:05:00+00:00; no offset: UTC), or None;
    400 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw) if len(raw) <= 40 else None
        # in UTC, as the ledger keeps times (SQLite compares them as written, offset left out)
        value = value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC) if value else None
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise invalid({name: "must be an ISO 8601 time, e.g. 2026-11-27T13:05:00+00:00"})
    return value


def query_text(name: str, max_length: int = 200, min_length: int = 1) -> str | None:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_length:
        raise invalid({name: f"must be at most {max_length} characters"})
    if len(raw.strip()) < min_length:
        raise invalid({name: f"must be at least {min_length} characters"})
    return raw.strip()


# A search's shortest text: a substring of fewer characters than a trigram is read through no index
# (PostgreSQL's pg_trgm), so one of 1-2 read every message or order the shop ever had
SEARCH_MIN = 3


def locale() -> str:
    """pt-BR or en: the `locale` query parameter Shopify passes the page, else Accept-Language."""
    raw = request.args.get("locale") or request.headers.get("Accept-Language") or ""
    first = raw.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else DEFAULT_LOCALE


def exception_line(text: str | None) -> str:
    """The exception line of a traceback (RQ's exc_string): what a person reads first."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def iso(value: datetime | None) -> str | None:
    """A UTC ISO 8601 timestamp (naive values from SQLite are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def decimal_text(value: Decimal | None) -> str | None:
    """Money and quantities as text, so no float rounding reaches the page."""
    return None if value is None else format(value.normalize(), "f")


def write_audit(
    session: Session,
    action: str,
    target: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One audit row for the current staff member's change in the current shop."""
    audit.record(
        session,
        shop_id=g.shop.id,
        shop_domain=g.shop.domain,
        actor=str(g.user_id),
        action=action,
        target=target,
        before=before,
        after=after,
    )


def page_cursor(ids: list[int], limit: int) -> int | None:
    """The `before_id` of the next page, or None when this page was the last."""
    return ids[-1] if len(ids) == limit and ids else None
