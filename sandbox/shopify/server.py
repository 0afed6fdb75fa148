"""The Flask app of one emulator: Shopify's paths plus the /_sandbox control API."""

from __future__ import annotations

from flask import Flask

from sandbox.shopify import routes_checkout, routes_control, routes_files, routes_graphql, routes_oauth
from sandbox.shopify.sandbox import Sandbox


def create_app(sandbox: Sandbox) -> Flask:
    """A WSGI app serving `sandbox` (one emulator, many shops)."""
    app = Flask("sandbox.shopify")
    app.config["SANDBOX"] = sandbox
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024  # Shopify's bulk variables limit
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # keep GraphQL's field order, as Shopify does
    for module in (routes_graphql, routes_oauth, routes_files, routes_control, routes_checkout):
        app.register_blueprint(module.blueprint)
    return app
