"""Webhooks: Shopify's signature and headers, retries on failure, chaos duplicates."""

from __future__ import annotations

import base64
import hashlib
import hmac

from .helpers import API_SECRET, ShopClient


def _valid(received) -> bool:
    digest = hmac.new(API_SECRET.encode(), received.body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), received.headers["X-Shopify-Hmac-Sha256"])


def test_emit_delivers_signed_webhook_with_shopify_headers(shop: ShopClient, receiver) -> None:
    sandbox = shop.handle.sandbox
    ids = sandbox.emit("acme", "orders/create", {"id": 820982911946154508, "name": "#1001"})
    assert len(ids) == 1
    assert sandbox.webhooks.wait_idle()
    [got] = receiver.topics("orders/create")
    assert _valid(got)
    assert got.json == {"id": 820982911946154508, "name": "#1001"}
    assert got.headers["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
    assert got.headers["X-Shopify-API-Version"] == "2026-10"
    assert got.headers["X-Shopify-Webhook-Id"] == ids[0]
    assert got.headers["X-Shopify-Event-Id"]
    assert got.headers["X-Shopify-Triggered-At"].endswith("Z")


def test_tampered_body_fails_the_check(shop: ShopClient, receiver) -> None:
    shop.handle.sandbox.emit("acme", "app/uninstalled", {"id": 1})
    assert shop.handle.sandbox.webhooks.wait_idle()
    [got] = receiver.topics("app/uninstalled")
    got.body = got.body.replace(b"1", b"2")
    assert not _valid(got)


def test_failed_delivery_is_retried_with_same_webhook_id(shop: ShopClient, receiver) -> None:
    receiver.script = [500, 503]
    shop.handle.sandbox.emit("acme", "orders/paid", {"id": 7})
    assert shop.handle.sandbox.webhooks.wait_idle()
    got = receiver.topics("orders/paid")
    assert len(got) == 3
    assert len({r.headers["X-Shopify-Webhook-Id"] for r in got}) == 1
    outcomes = [d["outcome"] for d in shop.handle.sandbox.webhooks.deliveries if d["topic"] == "orders/paid"]
    assert outcomes == ["500", "503", "200"]


def test_chaos_duplicates_every_delivery(shop: ShopClient, receiver) -> None:
    shop.handle.sandbox.webhooks.chaos.duplicate_rate = 1.0
    shop.handle.sandbox.emit("acme", "orders/updated", {"id": 9})
    assert shop.handle.sandbox.webhooks.wait_idle()
    got = receiver.topics("orders/updated")
    assert len(got) == 2
    assert got[0].headers["X-Shopify-Webhook-Id"] == got[1].headers["X-Shopify-Webhook-Id"]


def test_subscriptions_listed_and_created(shop: ShopClient, receiver) -> None:
    listed = shop.data("{ webhookSubscriptions(first: 20) { nodes { topic uri } } }")["webhookSubscriptions"]
    topics = {n["topic"] for n in listed["nodes"]}
    assert {"ORDERS_CREATE", "ORDERS_EDITED", "APP_UNINSTALLED", "BULK_OPERATIONS_FINISH"} <= topics
    assert all(n["uri"] == f"{receiver.url}/webhooks" for n in listed["nodes"])
    created = shop.data(
        """mutation($uri: String!) { webhookSubscriptionCreate(topic: PRODUCTS_UPDATE,
             webhookSubscription: {uri: $uri}) { webhookSubscription { id topic }
             userErrors { message } } }""",
        {"uri": f"{receiver.url}/extra"},
    )["webhookSubscriptionCreate"]
    assert created["webhookSubscription"]["topic"] == "PRODUCTS_UPDATE"
    shop.handle.sandbox.emit("acme", "products/update", {"id": 3})
    assert shop.handle.sandbox.webhooks.wait_idle()
    assert len(receiver.topics("products/update")) == 1
