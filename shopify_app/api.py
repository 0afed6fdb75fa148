"""The JSON API behind the embedded admin page: `/api/...`, described by shopify_app/openapi.yaml.

One blueprint `bp` (mounted by app.py) holding one child blueprint per page module:
api_setup / api_settings / api_catalog_diff (Setup), api_mappings (De:Para), api_flows
(dashboard), api_messages (trace) and api_stock_fix (a report's stock fix), api_orders and
api_order_notes (Orders), api_admin (me, audit, roles). Every view is wrapped in `require_role`
and reads its body through `api_common.json_body` after it, so an anonymous request is refused
before its body is parsed; only the body's size is checked before, here (413 above
`api_common.MAX_BODY_BYTES` or the endpoint's `body_limit`). Every failure leaves as
`roles.json_error`'s body, so the page handles one error shape. The OpenAPI document is the
contract the page is built against: tests/api checks that every route here appears in it and runs
schemathesis against it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote_to_bytes

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shopify_app import (
    api_admin,
    api_alerts,
    api_catalog_diff,
    api_flows,
    api_jobs,
    api_location_mappings,
    api_mappings,
    api_messages,
    api_order_notes,
    api_orders,
    api_risk_accept,
    api_settings,
    api_setup,
    api_stock_fix,
)
from shopify_app.api_common import MAX_BODY_BYTES, ApiError
from shopify_app.roles import database_down, json_error

log = logging.getLogger(__name__)

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE unique_violation
SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")

bp = Blueprint("api", __name__, url_prefix="/api")
PAGES = (
    api_setup,
    api_location_mappings,
    api_settings,
    api_alerts,
    api_catalog_diff,
    api_mappings,
    api_flows,
    api_messages,
    api_stock_fix,
    api_risk_accept,
    api_jobs,
    api_orders,
    api_order_notes,
    api_admin,
)
for _child in PAGES:
    bp.register_blueprint(_child.bp)


@bp.before_request
def _refuse_unreadable() -> ResponseReturnValue | None:
    """Before anything is read or authenticated: a NUL in the path or query (text PostgreSQL cannot
    store), and a body larger than the endpoint takes (`api_common.body_limit`, else
    `MAX_BODY_BYTES`), refused 413 unread; a body sent without a Content-Length stops reading at
    the same limit. The body itself is checked by `api_common.json_body`, after authentication."""
    if b"\x00" in unquote_to_bytes(request.query_string) or "\x00" in request.path:
        return json_error(400, "invalid", "NUL characters are not allowed", fields={"query": "contains NUL"})
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_body_bytes", MAX_BODY_BYTES)
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        return _too_large(limit)
    return None


def _too_large(limit: int) -> ResponseReturnValue:
    return json_error(
        413,
        "payload_too_large",
        f"the request body is larger than the {limit} bytes this endpoint accepts; send less at once",
        limit_bytes=limit,
    )


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], endpoint="unknown")
def unknown_endpoint(unknown: str) -> ResponseReturnValue:
    """Any other /api path (a negative id, a typo) answers the JSON 404, not Flask's HTML page."""
    return json_error(404, "not_found", "no such endpoint")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> ResponseReturnValue:
    return json_error(exc.status, exc.code, exc.message, **exc.extra)


@bp.errorhandler(RedisError)
def _redis_down(exc: RedisError) -> ResponseReturnValue:
    log.warning("api: Redis unavailable on %s: %s", request.path, exc)
    return json_error(
        503, "queue_unavailable", "the job queue (Redis) cannot be reached; try again", system="queue"
    )


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _database_down(exc: Exception) -> ResponseReturnValue:
    return database_down(exc)


@bp.errorhandler(IntegrityError)
def _changed_meanwhile(exc: IntegrityError) -> ResponseReturnValue:
    """A save that still ran into a unique key (a row another request stored at the same moment,
    past the shop row lock the setup saves take) is the page's view gone stale, not a server fault:
    409, reload. Only the constraint's name is logged, never the row's values. Any other integrity
    error (a foreign key, a NOT NULL) is a bug: raised on, answered 500 with its traceback logged."""
    if not _unique_violation(exc.orig):
        raise exc
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    log.warning("api: %s %s ran into %s", request.method, request.path, constraint or type(exc.orig).__name__)
    message = "this was changed meanwhile (another save at the same moment); reload the page"
    return json_error(409, "changed_meanwhile", message)


def _unique_violation(error: BaseException | None) -> bool:
    """Whether the driver's error is a unique (or primary) key violated: PostgreSQL's SQLSTATE
    23505 (psycopg's UniqueViolation), SQLite's "UNIQUE constraint failed"."""
    if getattr(error, "sqlstate", None) == UNIQUE_VIOLATION:
        return True
    name = getattr(error, "sqlite_errorname", None)
    return name in SQLITE_UNIQUE or str(error).startswith("UNIQUE constraint failed")


@bp.errorhandler(RequestEntityTooLarge)
def _body_too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body sent without a Content-Length that went past the limit while being read."""
    return _too_large(request.max_content_length or MAX_BODY_BYTES)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = (exc.name or "error").lower().replace(" ", "_")
    return json_error(exc.code or 500, code, exc.description or exc.name or "error")
