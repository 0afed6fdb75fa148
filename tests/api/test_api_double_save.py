"""Save pressed twice at once on a first save (a double-click, two admins): both answers are
the saved value, never a 500 from the second insert of the same row."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

import pytest
from psycopg.errors import ForeignKeyViolation, NotNullViolation, UniqueViolation
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


def sqlite_error(statement: str) -> sqlite3.IntegrityError:
    """The driver's own error for `statement` on a table with a unique, a NOT NULL and a foreign key."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "PRAGMA foreign_keys = ON; CREATE TABLE shop (id INTEGER PRIMARY KEY);"
        "CREATE TABLE t (code TEXT NOT NULL UNIQUE, shop INTEGER REFERENCES shop (id));"
        "INSERT INTO t (code) VALUES ('a');"
    )
    try:
        db.execute(statement)
    except sqlite3.IntegrityError as exc:
        return exc
    finally:
        db.close()
    raise AssertionError(f"{statement} broke no constraint")


def saving_raises(monkeypatch, driver_error: Exception) -> None:
    def collides(*args, **kwargs):
        raise IntegrityError("INSERT INTO mappings ...", {}, driver_error)

    monkeypatch.setattr(mappings, "upsert_mapping", collides)


def save(client):
    body = {"kind": "carrier", "shopify_code": "PAC", "erp_code": "3"}
    return client.put("/api/mappings", json=body, headers=headers())


@pytest.mark.parametrize(
    "driver_error",
    [
        pytest.param(
            lambda: UniqueViolation("duplicate key value violates unique constraint"), id="postgresql"
        ),
        pytest.param(lambda: sqlite_error("INSERT INTO t (code) VALUES ('a')"), id="sqlite"),
    ],
)
def test_a_save_that_collides_anyway_answers_409_reload(client, monkeypatch, driver_error):
    """Whatever unique key a save still runs into is the page's stale view, not a server fault."""
    saving_raises(monkeypatch, driver_error())
    reply = save(client)
    assert reply.status_code == 409
    assert reply.get_json()["error"]["code"] == "changed_meanwhile"
    assert "reload" in reply.get_json()["error"]["message"]
    assert "duplicate key" not in reply.get_data(as_text=True)  # no database text reaches the page


@pytest.mark.parametrize(
    "driver_error",
    [
        pytest.param(
            lambda: ForeignKeyViolation("insert violates foreign key constraint"), id="pg-foreign-key"
        ),
        pytest.param(lambda: NotNullViolation("null value violates not-null constraint"), id="pg-not-null"),
        pytest.param(
            lambda: sqlite_error("INSERT INTO t (code, shop) VALUES ('b', 7)"), id="sqlite-foreign-key"
        ),
        pytest.param(lambda: sqlite_error("INSERT INTO t (code) VALUES (NULL)"), id="sqlite-not-null"),
    ],
)
def test_any_other_integrity_error_is_a_bug_answered_500_with_its_traceback(
    app, monkeypatch, caplog, driver_error
):
    """A foreign key or a NOT NULL broken is the app's bug, not a stale page: 500, traceback logged."""
    saving_raises(monkeypatch, driver_error())
    app.testing = False  # as in production: an unhandled error is answered 500
    reply = save(app.test_client())
    assert reply.status_code == 500
    assert "changed_meanwhile" not in reply.get_data(as_text=True)
    assert any(r.exc_info and r.exc_info[0] is IntegrityError for r in caplog.records), caplog.text
