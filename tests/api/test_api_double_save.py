"""Save pressed twice at once on a first save (a double-click, two admins): both answers are
the saved value, never a 500 from the second insert of the same row."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ledger import mappings
from ledger.db import session_scope
from ledger.models import ErpConnection, Mapping, Role, StoreLink
from shopify_app import api_setup
from tests.api.conftest import headers


@pytest.fixture
def database_url(any_database_url) -> str:
    """On PostgreSQL (row lock) and on SQLite (the demo's database: the write lock)."""
    return any_database_url


# How long the first request waits at the gate for the second before going on alone: with the
# shop row locked first, the second never reaches the gate until the first has committed.
GATE_SECONDS = 2


def save_twice_at_once(app, monkeypatch, module, name: str, path: str, body: dict) -> list[int]:
    """PUT `body` from two threads that both pass `module.name` (the lookup of the row) together."""
    original = getattr(module, name)
    gate = threading.Barrier(2, timeout=GATE_SECONDS)

    def gated(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, gated)
    app.testing = False  # as in production: an unhandled error is answered 500
    statuses: list[int] = []

    def save() -> None:
        statuses.append(app.test_client().put(path, json=body, headers=headers(Role.ADMIN)).status_code)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def count(settings, model) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_first_store_link_saved_twice_at_once(app, settings, monkeypatch):
    body = {"nro_empresa": 1, "nro_segmento": 2}
    statuses = save_twice_at_once(app, monkeypatch, mappings, "set_store_link", "/api/setup/store-link", body)
    assert statuses == [200, 200] and count(settings, StoreLink) == 1


def test_a_new_de_para_line_saved_twice_at_once(app, settings, monkeypatch):
    body = {"kind": "carrier", "shopify_code": "Sedex", "erp_code": "7"}
    statuses = save_twice_at_once(app, monkeypatch, mappings, "find_mapping", "/api/mappings", body)
    assert statuses == [200, 200] and count(settings, Mapping) == 1


def test_the_first_erp_connection_saved_twice_at_once(app, settings, monkeypatch):
    body = {"base_url": "http://erp.example.test/api", "username": "integra", "password": "s3nha"}
    statuses = save_twice_at_once(
        app, monkeypatch, api_setup, "_connection", "/api/setup/erp-connection", body
    )
    assert statuses == [200, 200] and count(settings, ErpConnection) == 1


def test_a_save_that_collides_anyway_answers_409_reload(client, monkeypatch):
    """Whatever unique key a save still runs into is the page's stale view, not a server fault."""

    def collides(*args, **kwargs):
        raise IntegrityError("INSERT INTO mappings ...", {}, Exception("duplicate key value"))

    monkeypatch.setattr(mappings, "upsert_mapping", collides)
    reply = client.put(
        "/api/mappings", json={"kind": "carrier", "shopify_code": "PAC", "erp_code": "3"}, headers=headers()
    )
    assert reply.status_code == 409
    assert reply.get_json()["error"]["code"] == "changed_meanwhile"
    assert "reload" in reply.get_json()["error"]["message"]
    assert "duplicate key" not in reply.get_data(as_text=True)  # no database text reaches the page
