"""The app: `create_app()` for `flask --app app run` / gunicorn, and the CLI (worker, cron, demo)."""

from __future__ import annotations

import logging

from flask import Flask

from settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    settings.validate()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app = Flask(__name__, static_folder=None)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
