"""The app: `create_app()` for `flask --app app run` / gunicorn, and the CLI (worker, cron, demo)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence

from flask import Flask, Response, request

from ledger.schema import behind_head
from settings import ConfigurationError, Settings, get_settings
from shopify_app.api_common import MAX_BODY_BYTES
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
    (what `flask --app app` and gunicorn get) mount them all.
    """
    settings = settings or get_settings()
    settings.validate()
    if settings.is_production:
        behind = behind_head(settings.database_url)
        if behind is not None:
            raise ConfigurationError(behind)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app = Flask(__name__, static_folder=None)
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
        return {"ok": True}

    return app
