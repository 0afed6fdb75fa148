"""The ledger database unreachable mid-run (a failover, a restart): the embedded page's calls get a
JSON 503 it can show ("try again"), as with Redis down, not a 500 or Flask's HTML error page."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from spine_auth.factories import SHOP_A, bearer, make_id_token

from app import create_app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_database(settings, monkeypatch):
    down = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
    monkeypatch.setenv("DATABASE_URL", down)
    return dataclasses.replace(settings, database_url=down)


@pytest.mark.parametrize(
    ("blueprint", "method", "path"),
    [("shopify_app.api", "get", "/api/me"), ("shopify_app.auth", "post", "/auth/session")],
)
def test_the_page_is_told_the_database_is_down(dead_database, shops, blueprint, method, path):
    app = create_app(dead_database, blueprints=(blueprint,), cli_modules=())
    app.testing = False  # as in production: an exception becomes a response
    response = getattr(app.test_client(), method)(path, headers=bearer(make_id_token(SHOP_A, "2")))
    assert (response.status_code, response.is_json) == (503, True), response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
