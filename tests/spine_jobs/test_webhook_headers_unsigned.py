"""Only a webhook's body is signed: its topic, shop and Triggered-At headers are not. One signed body
of shop A (any topic) resent with other headers erased or uninstalled shop B, and a future
Triggered-At made a shop/redact look later than a reinstall. The compliance handlers now refuse a
body that does not name the header's shop (WEBHOOK_SHOP_MISMATCH, the delivery failed with the
reason), and the trigger time is never later than the delivery came in (jobs.inbox)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import (
    AuditEvent,
    InboxStatus,
    Message,
    OfflineToken,
    Schedule,
    Shop,
    StoreLink,
    WebhookInbox,
)
from settings import get_settings
from shopify_app.webhook_verify import compute_hmac

SHOP_A = "loja-a.myshopify.com"
SHOP_B = "loja-b.myshopify.com"


def _shop_b_with_data():
    with session_scope() as s:
        shop = Shop(
            domain=SHOP_B,
            scopes="read_products",
            status="active",
            installed_at=datetime.now(UTC) - timedelta(days=10),
        )
        s.add(shop)
        s.flush()
        s.add(OfflineToken(shop_id=shop.id, access_token_enc=b"enc"))
        s.add(Schedule(shop_id=shop.id, flow="stock", cron="* * * * *"))
        s.add(StoreLink(shop_id=shop.id, nro_empresa=1, nro_segmento=2))
        s.add(
            Message(
                shop_id=shop.id, flow="orders", direction="shopify_to_erp", unit_key="order:1", status="done"
            )
        )
        return shop.id


def _post(client, body, sig, topic, shop, triggered):
    return client.post(
        "/webhooks",
        data=body,
        headers={
            "X-Shopify-Hmac-Sha256": sig,  # the signature Shopify sent with shop A's delivery
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Webhook-Id": "replayed-1",
            "X-Shopify-Triggered-At": triggered,
            "Content-Type": "application/json",
        },
    )


def test_an_order_body_of_shop_a_resent_as_shop_redact_of_shop_b_erases_nothing(client, rconn):
    _shop_b_with_data()
    # A genuine orders/create delivery of shop A: body + signature as Shopify sent them.
    body = json.dumps({"id": 9001, "name": "#1001", "total_price": "10.00"}).encode()
    sig = compute_hmac(body, get_settings().api_secret)
    answer = _post(client, body, sig, "shop/redact", SHOP_B, "2100-01-01T00:00:00Z")
    assert answer.status_code == 200, answer.json
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as s:
        # What should hold: shop B (active, installed 10 days ago, never uninstalled) is untouched.
        left = {
            "shop": s.scalar(select(Shop).where(Shop.domain == SHOP_B)),
            "token": s.scalar(select(OfflineToken)),
            "messages": s.scalars(select(Message)).all(),
        }
        actions = [a.action for a in s.scalars(select(AuditEvent))]
        assert left["shop"] is not None and left["token"] is not None and left["messages"], (
            f"shop B erased by a replayed body of shop A: {actions}"
        )
    with session_scope() as s:
        row = s.scalar(select(WebhookInbox).where(WebhookInbox.webhook_id == "replayed-1"))
        assert row.status == InboxStatus.FAILED.value and "names no shop" in row.reason


def test_shop_as_uninstall_body_resent_for_shop_b_uninstalls_nothing(client, rconn):
    _shop_b_with_data()
    body = json.dumps({"id": 1, "domain": SHOP_A, "myshopify_domain": SHOP_A}).encode()
    sig = compute_hmac(body, get_settings().api_secret)
    answer = _post(client, body, sig, "app/uninstalled", SHOP_B, "2100-01-01T00:00:00Z")
    assert answer.status_code == 200
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as s:
        shop = s.scalar(select(Shop).where(Shop.domain == SHOP_B))
        token = s.scalar(select(OfflineToken))
        status = shop.status
    assert status == "active" and token is not None, "shop B uninstalled by shop A's app/uninstalled body"


def test_a_future_triggered_at_cannot_make_a_redact_look_later_than_a_reinstall(client, rconn):
    """Shop B reinstalled an hour ago: a shop/redact with a sane Triggered-At is refused, but the
    same signed body with Triggered-At in the future (unsigned header) erases it."""
    sid = _shop_b_with_data()
    with session_scope() as s:
        s.get(Shop, sid).installed_at = datetime.now(UTC) - timedelta(hours=1)
    body = json.dumps({"shop_id": 1, "shop_domain": SHOP_B}).encode()
    sig = compute_hmac(body, get_settings().api_secret)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _post(client, body, sig, "shop/redact", SHOP_B, now)
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as s:
        assert s.scalar(select(Shop).where(Shop.domain == SHOP_B)) is not None  # refused, as designed
    r = client.post(
        "/webhooks",
        data=body,
        headers={
            "X-Shopify-Hmac-Sha256": sig,
            "X-Shopify-Topic": "shop/redact",
            "X-Shopify-Shop-Domain": SHOP_B,
            "X-Shopify-Webhook-Id": "replayed-2",
            "X-Shopify-Triggered-At": "2100-01-01T00:00:00Z",
        },
    )
    assert r.status_code == 200
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as s:
        gone = s.scalar(select(Shop).where(Shop.domain == SHOP_B)) is None
        actions = [a.action for a in s.scalars(select(AuditEvent))]
    assert not gone, "a future Triggered-At erased a shop reinstalled an hour ago"
    assert actions.count("shop.redact.refused") == 2
