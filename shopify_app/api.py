"""The JSON API behind the embedded admin page: `/api/...`, described by shopify_app/openapi.yaml.

One blueprint `bp` (mounted by app.py) holding one child blueprint per page module:
api_setup / api_settings / api_catalog_diff (Setup), api_mappings (De:Para), api_flows
(dashboard), api_messages (trace), api_orders (Orders), api_admin (me, audit, roles). Every
view is wrapped in `require_role`; every failure leaves as `roles.json_error`'s body, so the
page handles one error shape. The OpenAPI document is the contract the page is built against:
tests/api checks that every route here appears in it and runs schemathesis against it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from shopify_app import (
    api_admin,
    api_catalog_diff,
    api_flows,
    api_jobs,
    api_location_mappings,
    api_mappings,
    api_messages,
    api_orders,
    api_settings,
    api_setup,
)
from shopify_app.api_common import ApiError
from shopify_app.roles import database_down, json_error

log = logging.getLogger(__name__)

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

bp = Blueprint("api", __name__, url_prefix="/api")
PAGES = (
    api_setup,
    api_location_mappings,
    api_settings,
    api_catalog_diff,
    api_mappings,
    api_flows,
    api_messages,
    api_jobs,
    api_orders,
    api_admin,
)
for _child in PAGES:
    bp.register_blueprint(_child.bp)


def _unstorable(value: Any) -> bool:
    """A NUL, or half of a UTF-16 pair (JSON's "\\ud800" alone): text no database can store."""
    if isinstance(value, str):
        return "\x00" in value or not _encodable(value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@bp.before_request
def _refuse_nul() -> ResponseReturnValue | None:
    """Text that cannot be stored (NUL in PostgreSQL, lone surrogates anywhere): refused up
    front as bad input instead of failing at the database with a 500."""
    if b"\x00" in unquote_to_bytes(request.query_string) or "\x00" in request.path:
        return json_error(400, "invalid", "NUL characters are not allowed", fields={"query": "contains NUL"})
    if request.is_json and _unstorable(request.get_json(silent=True)):
        return json_error(
            400,
            "invalid",
            "NUL characters and unpaired surrogates are not allowed",
            fields={"body": "unstorable text"},
        )
    return None


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


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = (exc.name or "error").lower().replace(" ", "_")
    return json_error(exc.code or 500, code, exc.description or exc.name or "error")
