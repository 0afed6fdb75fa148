"""A customers/data_request delivered while the store has no shop row (Shopify's managed install
delivers webhooks before anyone opens the app) is exported into an audit record with no shop: once
the merchant opened the app, neither the Audit page nor GET /api/audit/<id>/export showed it. The
new shop row now takes the privacy records kept for its domain (shopify_app.shops)."""

from __future__ import annotations

import json
import uuid

from spine_auth.factories import API_KEY, API_SECRET, APP_URL, bearer, make_id_token, token_response
from sqlalchemy import select

from app import create_app
from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import AuditEvent, StaffRole
from settings import Settings
from shopify_app.oauth import install
from shopify_app.token_endpoint import TokenSet
from shopify_app.webhook_verify import compute_hmac

SHOP = "loja-nova.myshopify.com"
EMAIL = "maria.souza@example.com"


def _deliver(client, topic, payload):
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks",
        data=body,
        headers={
            "X-Shopify-Hmac-Sha256": compute_hmac(body, API_SECRET),
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": "2026-11-28T12:00:00Z",
            "Content-Type": "application/json",
        },
    )


def test_a_data_request_answered_before_the_app_was_first_opened_is_on_its_audit_and_downloadable(
    env, rconn, redis_server
):
    from ledger import kv

    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    env.setenv("SHOPIFY_APP_URL", APP_URL)
    kv.reset_clients()
    settings = Settings.from_env()
    app = create_app(settings, blueprints=("shopify_app.webhooks", "shopify_app.api"), cli_modules=())
    client = app.test_client()
    # Managed install: Shopify delivers before the app was ever opened (no shop row).
    _deliver(client, "orders/create", {"id": 9001, "email": EMAIL, "customer": {"id": 7001, "email": EMAIL}})
    _deliver(
        client,
        "customers/data_request",
        {
            "shop_domain": SHOP,
            "customer": {"id": 7001, "email": EMAIL},
            "orders_requested": [9001],
            "data_request": {"id": 99},
        },
    )
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "customer.data_exported")).all()
        assert event.shop_id is None
        event_id = event.id
    # The merchant opens the app (token exchange installs), and is the shop's owner.
    shop_id = install(settings, SHOP, TokenSet.from_response(token_response()), actor="1")
    with session_scope() as s:
        s.add(StaffRole(shop_id=shop_id, user_id="1", role="owner"))
    auth = bearer(make_id_token(SHOP, "1"))
    listed = client.get("/api/audit?limit=200", headers=auth).get_json()
    actions = [e["action"] for e in listed["events"]]
    export = client.get(f"/api/audit/{event_id}/export", headers=auth)
    assert "customer.data_exported" in actions, "the data request is not on the shop's audit page"
    assert export.status_code == 200, "the customer's export cannot be downloaded"
    assert EMAIL in json.dumps(export.get_json())
