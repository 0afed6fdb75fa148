"""Fixtures for the webhook receiver, RQ jobs and compliance tests (real PostgreSQL, real Redis)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from ledger import kv
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, Shop
from settings import get_settings
from shopify_app import webhooks
from shopify_app.webhook_verify import compute_hmac

SHOP = "loja-teste.myshopify.com"


@pytest.fixture
def jobs_env(env) -> Iterator[Any]:
    """The `env` fixture plus fresh cached Redis clients for this test's REDIS_URL."""
    kv.reset_clients()
    yield env
    kv.reset_clients()


def make_app() -> Flask:
    """Only this area's blueprint, with the SETTINGS config create_app() gives it."""
    app = Flask(__name__)
    app.config["SETTINGS"] = get_settings()
    app.register_blueprint(webhooks.bp)
    return app


@pytest.fixture
def client(jobs_env) -> FlaskClient:
    return make_app().test_client()


@pytest.fixture
def rconn(redis_server) -> redis.Redis:
    return redis.Redis.from_url(redis_server.url)


Deliver = Callable[..., Any]


def signed_headers(
    body: bytes,
    topic: str,
    *,
    webhook_id: str | None = None,
    event_id: str | None = None,
    shop: str = SHOP,
    secret: str | None = None,
    triggered_at: str = "2026-11-28T12:00:00.000Z",
) -> dict[str, str]:
    secret = secret or get_settings().api_secret
    return {
        "X-Shopify-Hmac-Sha256": compute_hmac(body, secret),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
        "Content-Type": "application/json",
    }


@pytest.fixture
def deliver(client) -> Deliver:
    """POST a correctly signed webhook; payload may be a dict or raw bytes."""

    def _deliver(topic: str, payload: dict[str, Any] | bytes, **kw: Any):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return client.post("/webhooks", data=body, headers=signed_headers(body, topic, **kw))

    return _deliver


@pytest.fixture
def shop_id(jobs_env) -> int:
    with session_scope() as session:
        shop = Shop(domain=SHOP, scopes="read_products", status="active")
        session.add(shop)
        session.flush()
        return shop.id


@pytest.fixture
def erp_saved(shop_id) -> int:
    """The shop's ERP connection saved (an address nothing answers at: the test stands in for the
    flow's reads): the flows that need an ERP run (jobs.shop_served, needs_erp)."""
    with session_scope() as session:
        session.add(ErpConnection(shop_id=shop_id, base_url="http://127.0.0.1:9/", username="ecommerce",
                                  password_enc=encrypt("consinco")))  # fmt: skip
    return shop_id
