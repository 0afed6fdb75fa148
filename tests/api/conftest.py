"""Fixtures for the JSON API tests: test settings pointing every outside system at a closed port,
two installed shops, staff of every role, signed ID tokens, and helpers to seed the ledger."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue
from spine_auth.factories import (
    API_KEY,
    API_SECRET,
    APP_URL,
    SHOP_A,
    SHOP_B,
    bearer,
    make_id_token,
    token_response,
)

from app import create_app
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import Role, StaffRole
from settings import Settings
from shopify_app.oauth import install
from shopify_app.token_endpoint import TokenSet

USERS = {Role.OWNER: "1", Role.ADMIN: "2", Role.OPERATOR: "3", Role.VIEWER: "4"}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: the ERP and Shopify are unreachable, fast. Held bound
    (not listening: a connection is refused) for the test's length, so no server another test
    starts meanwhile can take it (a sandbox answering 404 where the ERP was to be down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def settings(env, closed_port) -> Settings:
    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    env.setenv("SHOPIFY_APP_URL", APP_URL)
    env.setenv("SECRET_KEY", "test-flask-secret")
    env.setenv("SHOPIFY_BASE_URL", f"http://127.0.0.1:{closed_port}")
    env.setenv("CONSINCO_BASE_URL", f"http://127.0.0.1:{closed_port}/api")
    for name in ("SCOPES", "ENCRYPTION_KEY", "CONSINCO_USER", "CONSINCO_PASSWORD"):
        env.delenv(name, raising=False)
    return Settings.from_env()


@dataclass
class Shops:
    a: int
    b: int


@pytest.fixture
def shops(settings) -> Shops:
    """Shops A and B installed, each with staff of every role (user ids 1..4)."""
    ids = []
    for domain in (SHOP_A, SHOP_B):
        shop_id = install(settings, domain, TokenSet.from_response(token_response()), actor="test")
        with session_scope(settings.database_url) as session:
            for role, user_id in USERS.items():
                session.add(StaffRole(shop_id=shop_id, user_id=user_id, role=role.value))
        ids.append(shop_id)
    return Shops(*ids)


@pytest.fixture
def app(settings, shops) -> Flask:
    application = create_app(settings, blueprints=("shopify_app.api",), cli_modules=())
    application.testing = True
    return application


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


def headers(role: Role = Role.ADMIN, shop: str = SHOP_A, **extra: str) -> dict[str, str]:
    """Authorization for the staff member holding `role` on `shop`."""
    return {**bearer(make_id_token(shop, USERS[role])), **extra}


@pytest.fixture
def rq(redis_server) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_server.url)
    yield conn
    conn.close()


def queued(conn: redis.Redis, queue: str) -> list[tuple[str, tuple[Any, ...]]]:
    """(function name, args) of every job waiting on `queue`."""
    return [(job.func_name, tuple(job.args)) for job in Queue(queue, connection=conn).get_jobs()]


@pytest.fixture
def message(settings) -> Callable[..., int]:
    """Write one trace message for a shop; `error` makes it fail/park with that exception."""

    def _message(
        shop_id: int,
        flow: str = "orders",
        unit_key: str = "order-1",
        *,
        search: tuple[str | int | None, ...] = (),
        request: dict[str, Any] | None = None,
        error: BaseException | None = None,
        done: bool = False,
        shopify_id: str | None = None,
        erp_id: str | None = None,
    ) -> int:
        with session_scope(settings.database_url) as session:
            msg = trace.begin(
                session,
                shop_id,
                flow,
                unit_key,
                "shopify_to_erp",
                shopify_id=shopify_id,
                erp_id=erp_id,
                search=search,
                request=request,
            )
            if error is not None:
                trace.fail(session, msg, error)
            elif done:
                trace.succeed(session, msg, response={"ok": True})
            return msg.id

    return _message


def parked_for(kind: str, code: str) -> MappingMissing:
    return MappingMissing(kind, code)


def save_location_set(client: FlaskClient, mappings: list[dict[str, Any]], **header: Any) -> Any:
    """PUT the Setup page's company <-> location set as the page does: with the version of the set
    a GET answered just before (a stale version is refused, 409 `location_mappings_changed`)."""
    given = headers(**header)
    version = client.get("/api/setup/location-mappings", headers=given).get_json()["version"]
    return client.put(
        "/api/setup/location-mappings", json={"version": version, "mappings": mappings}, headers=given
    )
