"""Fixtures for the install / auth / roles tests: test settings, signed ID tokens, an app, shops."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests
from flask import Blueprint, Flask, g, jsonify

from app import create_app
from ledger.db import session_scope
from ledger.models import Role
from settings import Settings
from shopify_app.oauth import install
from shopify_app.roles import require_role
from shopify_app.shops import find_shop
from shopify_app.token_endpoint import TokenSet
from spine_auth.factories import API_KEY, API_SECRET, APP_URL, SHOP_A, token_response


@pytest.fixture(autouse=True)
def shopify_unreachable(request) -> None:
    """A test mocking HTTP with requests_mock and no Admin API: the Admin API is unreachable, as a
    real network says it (requests' ConnectionError). Unmatched, requests_mock raises an error of
    its own that is not the network's, and the Admin API transport (rightly) lets such an error go
    up as itself. Reads the app makes on the side (the shop's time zone at install) then fail as a
    network failure they tolerate; a test's own graphql mocks, registered later, take precedence."""
    if "requests_mock" not in request.fixturenames:
        return
    mock = request.getfixturevalue("requests_mock")
    mock.post(re.compile(r"/admin/api/[^/]+/graphql\.json$"), exc=requests.exceptions.ConnectionError)


@pytest.fixture
def settings(env) -> Settings:
    """Test settings on the real PostgreSQL + Redis of `env`, talking to https://{shop}."""
    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    env.setenv("SHOPIFY_APP_URL", APP_URL)
    env.setenv("SECRET_KEY", "test-flask-secret")
    env.delenv("SHOPIFY_BASE_URL", raising=False)
    env.delenv("SCOPES", raising=False)
    env.delenv("ENCRYPTION_KEY", raising=False)
    return Settings.from_env()


@pytest.fixture
def install_shop(settings) -> Callable[..., int]:
    """Install a shop directly in the ledger with a given token set; returns the shop id."""

    def _install(
        shop: str = SHOP_A,
        access: str = "shpat_access_1",
        refresh: str | None = "shprt_refresh_1",
        expires_in: int | None = 3600,
    ) -> int:
        body = token_response(access, refresh or "", expires_in or 0)
        return install(settings, shop, TokenSet.from_response(body), actor="test")

    return _install


def shop_row(settings: Settings, domain: str):
    with session_scope(settings.database_url) as session:
        return find_shop(session, domain)


probe = Blueprint("probe", __name__, url_prefix="/probe")


@probe.get("/whoami")
@require_role(Role.VIEWER)
def whoami():
    """Test-only: what the request is authenticated as; `?shop=` must be ignored."""
    return jsonify({"shop": g.shop.domain, "shop_id": g.shop.id, "user_id": g.user_id, "role": g.role.value})


@probe.post("/settings")
@require_role(Role.ADMIN)
def change_settings():
    """Test-only admin endpoint standing in for a configuration change."""
    return jsonify({"changed": True, "shop": g.shop.domain})


@pytest.fixture
def app(settings) -> Flask:
    application = create_app(settings, blueprints=("shopify_app.auth",), cli_modules=())
    application.register_blueprint(probe)
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()
