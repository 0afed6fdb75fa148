"""The app: `create_app()` for `flask --app app run` / gunicorn, and the CLI (worker, cron, demo).

A configuration the app cannot run on (ConfigurationError: a bad APP_ENV, production on
development stand-ins, an unreadable CONSINCO_FIELD_MAP...) stops gunicorn with its message
(gunicorn prints `Error: <message>`); under `flask --app app ...` it is the same one line and
exit 1, as is a ledger with no tables yet (`alembic upgrade head` creates them).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

import click
from flask import Flask, Response, request
from flask.cli import AppGroup
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from ledger.errors import outage
from ledger.kv import get_redis
from ledger.models import utcnow
from ledger.scheduler_beat import is_stopped, last_tick
from ledger.schema import behind_head
from settings import ConfigurationError, Settings, get_settings
from shopify_app.api_common import MAX_BODY_BYTES, iso
from shopify_app.frontend import frame_ancestors

# Web parts, each a module exposing a Flask blueprint `bp`.
BLUEPRINTS = (
    "shopify_app.auth",  # install: token exchange, OAuth grant
    "shopify_app.webhooks",  # the one webhook receiver
    "shopify_app.api",  # the JSON API behind the embedded page
    "shopify_app.frontend",  # the embedded page itself
)

# CLI parts, each a module exposing `register(app)` that adds click commands.
CLI_MODULES = ("jobs.cli", "jobs.catalog_cli", "jobs.reconcile_cli", "jobs.demo_cli")


def create_app(
    settings: Settings | None = None,
    *,
    blueprints: Sequence[str] = BLUEPRINTS,
    cli_modules: Sequence[str] = CLI_MODULES,
) -> Flask:
    """Build the web app. Refuses (ConfigurationError) to run production on development stand-ins.

    `blueprints` / `cli_modules` let a test mount only the parts it exercises; the defaults
    (what `flask --app app` and gunicorn get) mount them all. Loaded by the `flask` command (a
    click context is current), the refusal is click's one-line `Error: <message>`, exit 1.
    """
    try:
        return _build(settings, blueprints, cli_modules)
    except ConfigurationError as exc:
        if click.get_current_context(silent=True) is None:  # gunicorn, a test: raised as it is
            raise
        # Shown here, then the process exits 1 as click would for a ClickException: Flask's
        # `--help` loads the app to list its commands and prints any Exception doing so as a
        # traceback (FlaskGroup.list_commands), then lists only its own commands, exit 0.
        # SystemExit is no Exception: it passes through there as through a command's lookup.
        error = click.ClickException(str(exc))
        error.show()
        raise SystemExit(error.exit_code) from None


def _build(settings: Settings | None, blueprints: Sequence[str], cli_modules: Sequence[str]) -> Flask:
    settings = settings or get_settings()
    settings.validate()
    if settings.is_production:
        behind = behind_head(settings.database_url)
        if behind is not None:
            raise ConfigurationError(behind)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app = Flask(__name__, static_folder=None)
    app.cli = LedgerCommands(name=app.name)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    # Every body read stops there unless its part sets its own limit on the request (the webhook
    # receiver: Shopify's deliveries; /api: per endpoint, shopify_app.api).
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    for name in blueprints:
        app.register_blueprint(importlib.import_module(name).bp)
    for name in cli_modules:
        importlib.import_module(name).register(app)

    @app.after_request
    def frame_ancestors_on_html(response: Response) -> Response:
        """Shopify asks for frame-ancestors on every HTML answer, Flask's own error pages too."""
        if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = frame_ancestors(request.args.get("shop", ""))
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        """The web process answers (a load balancer's probe: it stays 200 while the scheduler or
        Redis is down, so webhooks are still taken into the inbox)."""
        return {"ok": True}

    @app.get("/healthz/scheduler")
    def healthz_scheduler() -> ResponseReturnValue:
        """{"ok": true}; 503 with the reason when the scheduler ticked once but not in the last
        minutes (no flow runs by itself, and no alert e-mail tells of it: an outside monitor pages
        someone) or Redis cannot say. Before a first tick (a fresh install, the demo starting, the
        tests) nothing says it should have ticked. Apart from /healthz: a load balancer probing
        that would take the web out, and refuse webhooks, over a scheduler down."""
        try:
            last = last_tick(get_redis(settings.redis_url))
        except RedisError as exc:
            return {"ok": False, "reason": "redis_unreachable", "error": type(exc).__name__}, 503
        if is_stopped(last, utcnow()):
            return {"ok": False, "reason": "scheduler_stopped", "last_tick_at": iso(last)}, 503
        return {"ok": True}

    return app


# What Alembic's `upgrade head` (README) creates: a command meeting a ledger without it says so.
UNMIGRATED = (
    "the database at DATABASE_URL has no {table} table: create the schema with "
    "`alembic upgrade head` (same DATABASE_URL), then run the command again"
)


def _missing_table(exc: OperationalError | ProgrammingError) -> str | None:
    """The table a statement found missing (SQLite: "no such table: shops"; PostgreSQL: SQLSTATE
    42P01, undefined_table), or None for any other database error."""
    text = str(exc.orig)
    if isinstance(exc, OperationalError) and text.startswith("no such table: "):
        return text.removeprefix("no such table: ").strip()
    if getattr(exc.orig, "sqlstate", None) == "42P01":
        return text.split('"')[1] if text.count('"') >= 2 else "ledger's"
    return None


# SQLSTATE classes of a database the command cannot use at all: a connection refused or lost (08),
# the login refused (28), no such database (3D); and what ledger.errors.outage takes for one.
UNREACHABLE_STATES = ("08", "28", "3D")


def _unreachable(exc: Exception) -> str | None:
    """One line naming the variable behind a database or Redis the command cannot reach (None: the
    error is another; its traceback is kept)."""
    if isinstance(exc, RedisError):
        said = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return f"Redis at REDIS_URL cannot be reached: {said}"
    if isinstance(exc, DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        if outage(exc) is None and not state.startswith(UNREACHABLE_STATES):
            return None
        said = str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else type(exc).__name__
        return f"the database at DATABASE_URL cannot be reached: {said}"
    return None


class LedgerCommand(click.Command):
    """A CLI command that, meeting a ledger with no schema, says which command creates it; and meeting
    a database or Redis it cannot reach (a wrong host, port or name; the service down), says so in
    one line naming the variable, not in a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            table = _missing_table(exc)
            if table is not None:
                raise click.ClickException(UNMIGRATED.format(table=table)) from None
            if (said := _unreachable(exc)) is None:
                raise
            raise click.ClickException(said) from None
        except (DBAPIError, RedisError) as exc:
            if (said := _unreachable(exc)) is None:
                raise
            raise click.ClickException(said) from None


class LedgerCommands(AppGroup):
    """`app.cli`: its commands, and those of its groups (`catalog`, `secrets`), are LedgerCommands."""

    command_class = LedgerCommand

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", LedgerCommands)
        return super().group(*args, **kwargs)
