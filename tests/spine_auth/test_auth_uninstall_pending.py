"""The merchant uninstalls the app and installs it again before the app/uninstalled delivery is
worked (the webhooks queue behind, a worker restarting, Redis down until the sweeper). The shop still
reads active on its old token, which Shopify revoked at the uninstall: the staff member's session
(an ID token: the app is installed) exchanges for a new grant, so the uninstall worked later is older
than the install and is taken for a stale one, and the store's gap without the app is recorded."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from jobs import inbox
from ledger import install_periods, kv
from ledger.db import session_scope
from ledger.models import Shop, utcnow
from shopify_app import webhooks
from shopify_app.webhook_verify import compute_hmac
from spine_auth.conftest import shop_row
from spine_auth.factories import SHOP_A, bearer, make_id_token, token_response

TOKEN_URL = f"https://{SHOP_A}/admin/oauth/access_token"


def _store_uninstall(settings, triggered) -> int:
    """An app/uninstalled delivery stored by the receiver and not worked yet."""
    kv.reset_clients()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.register_blueprint(webhooks.bp)
    body = json.dumps({"id": 1, "myshopify_domain": SHOP_A}).encode()
    answer = app.test_client().post(
        "/webhooks",
        data=body,
        headers={
            "X-Shopify-Hmac-Sha256": compute_hmac(body, settings.api_secret),
            "X-Shopify-Topic": "app/uninstalled",
            "X-Shopify-Shop-Domain": SHOP_A,
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": triggered.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 200, answer.data
    return answer.json["inbox_id"]


def _installed_a_minute_ago(settings, install_shop) -> None:
    install_shop(SHOP_A, access="shpat_revoked", refresh="shprt_revoked")
    with session_scope(settings.database_url) as session:
        session.execute(update(Shop).values(installed_at=utcnow() - timedelta(minutes=1)))


def test_a_session_before_a_pending_uninstall_is_worked_reinstalls_and_the_uninstall_is_then_stale(
    settings, client, install_shop, requests_mock
):
    _installed_a_minute_ago(settings, install_shop)
    uninstalled = (utcnow() - timedelta(seconds=30)).replace(microsecond=0)
    uninstall = _store_uninstall(settings, uninstalled)
    exchange = requests_mock.post(TOKEN_URL, json=token_response("shpat_new", "shprt_new"))

    assert client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001"))).status_code == 200
    assert exchange.call_count == 1  # the revoked token was not taken for a usable one
    assert client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001"))).status_code == 200
    assert exchange.call_count == 1  # once installed anew, the pending uninstall is older: no more exchanges

    inbox.process(uninstall)  # worked late

    shop = shop_row(settings, SHOP_A)
    assert (shop.status, shop.uninstalled_at) == ("active", None), shop.status_reason
    placed_after = utcnow()
    with session_scope(settings.database_url) as session:
        installs = install_periods.of_store(session, SHOP_A, shop_row(settings, SHOP_A).created_at)
        assert installs.gap_at(placed_after) is None  # an order placed now is the app's to send
        assert installs.gap_at(uninstalled + timedelta(seconds=5)) is not None  # the store's own then


def test_a_session_with_no_uninstall_pending_uses_the_token_it_has(
    settings, client, install_shop, requests_mock
):
    _installed_a_minute_ago(settings, install_shop)
    exchange = requests_mock.post(TOKEN_URL, json=token_response("shpat_new", "shprt_new"))
    assert client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001"))).status_code == 200
    assert exchange.call_count == 0
