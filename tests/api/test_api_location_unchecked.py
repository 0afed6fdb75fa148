"""A location line saved while Shopify accepts the connection and never answers (an overloaded or
hung edge): the save waits no longer than the interactive Shopify timeout
(`api_upstream.SHOPIFY_TIMEOUT`), is taken on the location's shape alone, and says so
(`location_checked: false`) so the De:Para and Setup pages can warn. Before, it said nothing: the
page showed a line never found in Shopify as saved like any other."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from spine_auth.factories import API_KEY, API_SECRET, APP_URL

from ledger.db import session_scope
from ledger.models import LocationMapping
from settings import Settings
from shopify_app import api_upstream

from .conftest import headers, save_location_set

LOCATION = "gid://shopify/Location/1"
READ_TIMEOUT = 1.5  # seconds: the interactive read timeout, made short to keep the test fast


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A Shopify that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def settings(env, closed_port, silent_port, monkeypatch) -> Settings:  # overrides tests.api.conftest
    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    env.setenv("SHOPIFY_APP_URL", APP_URL)
    env.setenv("SECRET_KEY", "test-flask-secret")
    env.setenv("SHOPIFY_BASE_URL", f"http://127.0.0.1:{silent_port}")
    env.setenv("CONSINCO_BASE_URL", f"http://127.0.0.1:{closed_port}/api")
    for name in ("SCOPES", "ENCRYPTION_KEY", "CONSINCO_USER", "CONSINCO_PASSWORD"):
        env.delenv(name, raising=False)
    monkeypatch.setattr(api_upstream, "SHOPIFY_TIMEOUT", (api_upstream.SHOPIFY_TIMEOUT[0], READ_TIMEOUT))
    return Settings.from_env()


def _timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_a_location_saved_while_shopify_never_answers_says_it_was_not_checked(client, shops, settings):
    form, took = _timed(
        lambda: client.put(
            "/api/mappings",
            headers=headers(),
            json={"kind": "location", "shopify_code": LOCATION, "erp_code": "4"},
        )
    )
    assert form.status_code == 200, form.get_json()
    assert took < 15, f"the save waited {took:.1f}s on Shopify"
    assert form.get_json()["location_checked"] is False

    table, took = _timed(lambda: save_location_set(client, [{"nro_empresa": 5, "location_id": LOCATION}]))
    assert table.status_code == 200 and took < 15, (table.get_json(), took)
    assert table.get_json()["location_checked"] is False

    imported, took = _timed(
        lambda: client.post(
            "/api/mappings/import",
            headers=headers(),
            json={"kind": "location", "csv": f"shopify_code,erp_code\n{LOCATION},6\n"},
        )
    )
    assert imported.status_code == 200 and took < 15, (imported.get_json(), took)
    assert imported.get_json()["location_checked"] is False and imported.get_json()["errors"] == []
    with session_scope(settings.database_url) as session:
        assert [(r.location_id, r.nro_empresa) for r in session.query(LocationMapping).all()] == [
            (LOCATION, 6)
        ]


def test_another_kind_says_nothing_of_locations(client, shops):
    answer = client.put(
        "/api/mappings",
        headers=headers(),
        json={"kind": "payment_method", "shopify_code": "pix", "erp_code": "1"},
    )
    assert answer.status_code == 200, answer.get_json()
    assert "location_checked" not in answer.get_json()
