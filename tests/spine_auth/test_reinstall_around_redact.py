"""An uninstall and a reinstall around shop/redact (Shopify sends it 48 hours after an uninstall):
the request of an uninstall the merchant undid, and uninstalled again since, does not erase the later
installation; a reinstall committing while a shop/redact of a store with no row runs is not erased;
an uninstall learned after the reinstall that undid it still leaves its gap in the install periods."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from jobs import compliance, inbox
from ledger import install_periods, kv
from ledger.db import session_scope
from ledger.models import AuditEvent, OfflineToken, OrderLink, Shop, StoreLink, utcnow
from settings import DEFAULT_SCOPES
from shopify_app import oauth, shops, webhooks
from shopify_app.token_endpoint import TokenSet
from shopify_app.webhook_verify import compute_hmac

SHOP = "loja-reinstall.myshopify.com"


@pytest.fixture
def hooks(settings, redis_server):
    kv.reset_clients()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.register_blueprint(webhooks.bp)
    client = app.test_client()

    def deliver(topic: str, payload: dict[str, Any], triggered) -> int:
        body = json.dumps(payload).encode()
        headers = {
            "X-Shopify-Hmac-Sha256": compute_hmac(body, settings.api_secret),
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": triggered.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "Content-Type": "application/json",
        }
        resp = client.post("/webhooks", data=body, headers=headers)
        assert resp.status_code == 200, resp.data
        inbox_id = resp.json["inbox_id"]
        inbox.process(inbox_id)
        return inbox_id

    yield deliver
    kv.reset_clients()


def _install_at(settings, monkeypatch, when, access: str) -> int:
    original = shops.utcnow
    shops.utcnow = lambda: when
    try:
        return oauth.install(
            settings, SHOP, TokenSet(access, DEFAULT_SCOPES, "shprt_" + access, 3600), actor="u1"
        )
    finally:
        shops.utcnow = original


def test_the_first_uninstalls_redact_does_not_erase_an_installation_uninstalled_since(
    settings, hooks, monkeypatch
):
    """uninstall (T0) -> reinstall (T1) -> uninstall (T2) -> shop/redact of T0 (48 h after it, T2 an
    hour before): refused; the second installation's own request, 48 h after T2, erases it."""
    now = utcnow()
    t0 = now - timedelta(hours=97)
    shop_id = _install_at(settings, monkeypatch, now - timedelta(days=30), "shpat_1")
    hooks("app/uninstalled", {"id": 1, "myshopify_domain": SHOP}, t0)
    assert _install_at(settings, monkeypatch, t0 + timedelta(hours=8), "shpat_2") == shop_id
    with session_scope() as session:  # the second installation's set-up and work
        session.add(StoreLink(shop_id=shop_id, nro_empresa=1, nro_segmento=2))
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/5", nro_pedvenda=99))
    t2 = t0 + timedelta(hours=47)
    hooks("app/uninstalled", {"id": 1, "myshopify_domain": SHOP}, t2)

    hooks("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, t0 + timedelta(hours=48))  # T0's
    with session_scope() as session:
        assert session.get(Shop, shop_id) is not None and session.scalar(select(StoreLink)) is not None
        [refused] = session.scalars(select(AuditEvent).where(AuditEvent.action == "shop.redact.refused"))
        assert "uninstalled again" in refused.after["reason"]

    hooks("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, t2 + timedelta(hours=48))  # T2's
    with session_scope() as session:
        assert session.get(Shop, shop_id) is None and session.scalar(select(OrderLink)) is None


def test_a_redact_on_time_after_a_quick_reinstall_and_uninstall_still_erases(settings, hooks, monkeypatch):
    """The merchant reinstalled and uninstalled again within minutes of the first uninstall: the
    request 48 h after the first is taken as the last one's (Shopify's delay is not to the second)."""
    now = utcnow()
    shop_id = _install_at(settings, monkeypatch, now - timedelta(days=30), "shpat_1")
    hooks("app/uninstalled", {"id": 1, "myshopify_domain": SHOP}, now - timedelta(hours=48))
    _install_at(settings, monkeypatch, now - timedelta(hours=47, minutes=55), "shpat_2")
    hooks("app/uninstalled", {"id": 1, "myshopify_domain": SHOP}, now - timedelta(hours=47, minutes=50))
    hooks("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, now)
    with session_scope() as session:
        assert session.get(Shop, shop_id) is None


def test_a_reinstall_committing_while_a_redact_of_a_store_with_no_row_runs_is_kept(
    settings, hooks, monkeypatch
):
    """No shop row when shop/redact starts (erased before, or installed by Shopify and never
    opened): the store's domain is locked, so a reinstall waits for the redact and then installs
    afresh; before, the redact looked the shop up again and erased the reinstall with its token."""
    original = compliance._drop_shop_failed_jobs
    merchant: list[threading.Thread] = []

    def then_reinstall(*args: Any) -> int:
        answer = original(*args)
        token = TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600)
        merchant.append(
            threading.Thread(target=oauth.install, args=(settings, SHOP, token), kwargs={"actor": "u1"})
        )
        merchant[0].start()
        merchant[0].join(timeout=1)  # it waits for the redact's transaction
        return answer

    monkeypatch.setattr(compliance, "_drop_shop_failed_jobs", then_reinstall)
    hooks("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, utcnow())
    merchant[0].join(timeout=20)
    assert not merchant[0].is_alive()
    with session_scope() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == SHOP))
        assert shop is not None and shop.status == "active"
        assert session.scalar(select(OfflineToken).where(OfflineToken.shop_id == shop.id)) is not None


def test_an_uninstall_learned_after_the_reinstall_still_leaves_its_gap(settings, hooks, monkeypatch):
    """The uninstall (T0) is processed only after the reinstall (T1) that undid it: ignored for the
    token, but the store was without the app from T0 to T1: an order placed then is its own."""
    now = utcnow()
    shop_id = _install_at(settings, monkeypatch, now - timedelta(days=30), "shpat_1")
    _install_at(settings, monkeypatch, now - timedelta(hours=2), "shpat_2")  # T1
    for _ in range(2):  # (a second delivery changes nothing)
        hooks("app/uninstalled", {"id": 1, "myshopify_domain": SHOP}, now - timedelta(hours=5))  # T0
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        assert shop.status == "active" and session.scalar(select(OfflineToken)) is not None
        installs = install_periods.of_store(session, SHOP, shop.created_at)
    assert len(installs.periods) == 2
    assert installs.gap_at(now - timedelta(hours=3)) is not None
    assert (
        installs.gap_at(now - timedelta(hours=6)) is None
        and installs.gap_at(now - timedelta(hours=1)) is None
    )
