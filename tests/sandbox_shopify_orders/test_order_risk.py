"""Order fraud risk: Shopify's own assessment of every checkout order (`risk` option), a fraud app's
assessments through the control endpoint and orderRiskAssessmentCreate (one per provider, the worst
level giving the recommendation), and orders/risk_assessment_changed to the topic's subscribers."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.shopify import checkout
from sandbox.shopify.clock import ManualClock, iso
from sandbox.shopify.order_payloads import local_time
from sandbox.shopify.tokens import APP_TITLE

from .helpers import API_SECRET, Catalogue, Receiver, ShopClient, signed_by

TOPIC = "orders/risk_assessment_changed"
RISK = """
query Risk($id: ID!) {
  order(id: $id) {
    risk {
      recommendation
      assessments { riskLevel provider { title } facts { description sentiment } }
    }
  }
}"""
CREATE = """
mutation Assess($input: OrderRiskAssessmentCreateInput!) {
  orderRiskAssessmentCreate(orderRiskAssessmentInput: $input) {
    orderRiskAssessment { riskLevel provider { title } facts { description sentiment } }
    userErrors { field message code }
  }
}"""
SUBSCRIPTIONS = """
{ webhookSubscriptions(first: 10, topics: [ORDERS_RISK_ASSESSMENT_CHANGED]) { nodes { id } } }"""
UNSUBSCRIBE = """
mutation Drop($id: ID!) { webhookSubscriptionDelete(id: $id) { userErrors { message } } }"""
SUBSCRIBE = """
mutation Subscribe($uri: String!) {
  webhookSubscriptionCreate(topic: ORDERS_RISK_ASSESSMENT_CHANGED, webhookSubscription: {uri: $uri}) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}"""


def _risk(shop: ShopClient, order_id: str) -> dict[str, Any]:
    return shop.data(RISK, {"id": order_id})["order"]["risk"]


def _levels(risk: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(provider title, level) per assessment, Shopify's as None."""
    return [((a["provider"] or {}).get("title"), a["riskLevel"]) for a in risk["assessments"]]


def _place(shop: ShopClient, **options: Any) -> str:
    lines = [{"sku": "ARZ-1", "quantity": 1}]
    return checkout.place_order(shop.handle.sandbox, "acme", lines=lines, gateway="pix", seed=3, **options)


def _assess(
    shop: ShopClient, order_id: str, level: Any, provider: str | None, **more: Any
) -> requests.Response:
    return shop.control(
        "/orders/risk", {"orderId": order_id, "riskLevel": level, "provider": provider, **more}
    )


def test_a_checkout_order_reads_shopify_low_assessment_and_accept(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    risk = _risk(shop, _place(shop))
    assert risk["recommendation"] == "ACCEPT"
    [assessment] = risk["assessments"]
    assert assessment["riskLevel"] == "LOW" and assessment["provider"] is None
    assert assessment["facts"] and {f["sentiment"] for f in assessment["facts"]} == {"POSITIVE"}


def test_the_checkout_risk_option_sets_shopify_assessment(shop: ShopClient, catalogue: Catalogue) -> None:
    placed = {}
    for level in ("high", "medium", "pending"):
        answer = shop.control("/checkout", {"lines": [{"sku": "FJN-1", "quantity": 1}], "risk": level})
        assert answer.status_code == 200, answer.text
        placed[level] = _risk(shop, answer.json()["orders"][0])
    high = placed["high"]
    assert high["recommendation"] == "CANCEL" and _levels(high) == [(None, "HIGH")]
    facts = high["assessments"][0]["facts"]
    assert {
        "description": "The billing address does not match the card's country",
        "sentiment": "NEGATIVE",
    } in facts
    assert {f["sentiment"] for f in facts} == {"NEGATIVE"}
    assert placed["medium"]["recommendation"] == "INVESTIGATE" and _levels(placed["medium"]) == [
        (None, "MEDIUM")
    ]
    assert placed["pending"]["recommendation"] == "NONE" and _levels(placed["pending"]) == [(None, "PENDING")]
    assert placed["pending"]["assessments"][0]["facts"] == []


def test_a_bad_checkout_risk_is_refused_before_any_order(shop: ShopClient, catalogue: Catalogue) -> None:
    refused = shop.control("/checkout", {"lines": [{"sku": "FJN-1", "quantity": 1}], "risk": "HIGH"})
    assert (
        refused.status_code == 400
        and "risk must be one of low, medium, high, pending" in refused.json()["error"]
    )
    assert shop.control("/checkout", {"risk": ["high"]}).status_code == 400
    auto = shop.control("/checkout/auto", {"rate_per_minute": 1, "risk": "extreme"})
    assert auto.status_code == 400
    assert shop.handle.sandbox.store.scan("acme", "Order") == []


def test_a_provider_assessment_is_replaced_not_added(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = _place(shop)
    facts = [{"description": "CPF com restrição de crédito", "sentiment": "NEGATIVE"}]
    high = _assess(shop, order_id, "HIGH", "ClearSale", facts=facts)
    assert high.status_code == 200, high.text
    assert high.json()["risk"]["recommendation"] == "CANCEL"
    risk = _risk(shop, order_id)
    assert risk["recommendation"] == "CANCEL" and _levels(risk) == [(None, "LOW"), ("ClearSale", "HIGH")]
    assert risk["assessments"][1]["facts"] == facts

    low = _assess(shop, order_id, "LOW", "ClearSale")
    assert low.json()["risk"]["recommendation"] == "ACCEPT"
    risk = _risk(shop, order_id)
    assert risk["recommendation"] == "ACCEPT" and _levels(risk) == [(None, "LOW"), ("ClearSale", "LOW")]
    assert risk["assessments"][1]["facts"] == []

    # Shopify's own new assessment replaces its first one; the worst level wins.
    _assess(shop, order_id, "MEDIUM", None)
    risk = _risk(shop, order_id)
    assert risk["recommendation"] == "INVESTIGATE" and _levels(risk) == [
        ("ClearSale", "LOW"),
        (None, "MEDIUM"),
    ]
    _assess(shop, order_id, "PENDING", "Konduto")
    assert _risk(shop, order_id)["recommendation"] == "INVESTIGATE"
    _assess(shop, order_id, "NONE", None)
    assert _risk(shop, order_id)["recommendation"] == "ACCEPT"  # PENDING alone would give NONE


def test_only_pending_assessments_recommend_nothing(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = _place(shop, risk="pending")
    _assess(shop, order_id, "PENDING", "ClearSale")
    assert _risk(shop, order_id)["recommendation"] == "NONE"
    _assess(shop, order_id, "LOW", None)
    assert _risk(shop, order_id)["recommendation"] == "ACCEPT"


def _unsubscribe(shop: ShopClient) -> None:
    for node in shop.data(SUBSCRIPTIONS)["webhookSubscriptions"]["nodes"]:
        assert shop.data(UNSUBSCRIBE, {"id": node["id"]})["webhookSubscriptionDelete"]["userErrors"] == []


def test_the_webhook_goes_to_subscribers_with_the_documented_body(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver, clock: ManualClock
) -> None:
    _unsubscribe(shop)  # whatever shopify.app.toml subscribes by default: none for the topic now
    order_id = _place(shop)
    _assess(shop, order_id, "MEDIUM", "ClearSale")
    shop.wait_webhooks()
    assert receiver.topics(TOPIC) == []  # not subscribed: nothing sent

    subscribed = shop.data(SUBSCRIBE, {"uri": f"{receiver.url}/webhooks"})["webhookSubscriptionCreate"]
    assert (
        subscribed["userErrors"] == []
        and subscribed["webhookSubscription"]["topic"] == "ORDERS_RISK_ASSESSMENT_CHANGED"
    )
    clock.advance(90)
    answer = _assess(shop, order_id, "HIGH", "ClearSale")
    assert answer.status_code == 200
    shop.wait_webhooks()
    [sent] = receiver.topics(TOPIC)
    assert signed_by(sent, API_SECRET)
    assert sent.headers["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
    assert sent.headers["X-Shopify-API-Version"] == "2026-10" and sent.headers["X-Shopify-Webhook-Id"]
    provider = shop.handle.sandbox.store.find_one("acme", "app.title", "ClearSale")
    number = order_id.rsplit("/", 1)[1]
    assert sent.json == {
        "provider_id": int(provider["id"].rsplit("/", 1)[1]),
        "provider_title": "ClearSale",
        "risk_level": "high",
        "created_at": local_time(iso(clock.now())),
        "order_id": number,
        "admin_graphql_api_order_id": order_id,
    }

    # Shopify's own: its analysis of a new order (not while pending) and a later one, provider null.
    placed = _place(shop)
    _place(shop, risk="pending")
    shop.wait_webhooks()
    shopify = [r.json for r in receiver.topics(TOPIC)[1:]]
    assert [(b["admin_graphql_api_order_id"], b["risk_level"]) for b in shopify] == [(placed, "low")]
    assert shopify[0]["provider_id"] is None and shopify[0]["provider_title"] is None


def test_bad_assessments_are_refused(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = _place(shop)
    assert _assess(shop, "gid://shopify/Order/999999", "HIGH", None).status_code == 404
    for level in ("high", "EXTREME", None):
        assert _assess(shop, order_id, level, "ClearSale").status_code == 400
    assert _assess(shop, order_id, "HIGH", "").status_code == 400
    bad_sentiment = [{"description": "x", "sentiment": "BAD"}]
    assert _assess(shop, order_id, "HIGH", "ClearSale", facts=bad_sentiment).status_code == 400
    too_many = [{"description": f"fato {n}", "sentiment": "NEUTRAL"} for n in range(21)]
    assert _assess(shop, order_id, "HIGH", "ClearSale", facts=too_many).status_code == 400
    assert _levels(_risk(shop, order_id)) == [(None, "LOW")]  # nothing kept
    # "New risk assessments can be provided until the order is marked as fulfilled."
    carried = _place(shop, pos="register")
    refused = _assess(shop, carried, "HIGH", "ClearSale")
    assert refused.status_code == 409 and "fulfilled" in refused.json()["error"]


def test_the_mutation_assesses_as_the_calling_app(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = _place(shop)
    facts = [{"description": "E-mail criado há menos de um dia", "sentiment": "NEGATIVE"}]
    made = shop.data(CREATE, {"input": {"orderId": order_id, "riskLevel": "MEDIUM", "facts": facts}})
    created = made["orderRiskAssessmentCreate"]
    assert created["userErrors"] == []
    assert created["orderRiskAssessment"] == {
        "riskLevel": "MEDIUM",
        "provider": {"title": APP_TITLE},
        "facts": facts,
    }
    again = {"orderId": order_id, "riskLevel": "LOW", "facts": []}
    assert shop.data(CREATE, {"input": again})["orderRiskAssessmentCreate"]["userErrors"] == []
    risk = _risk(shop, order_id)
    assert risk["recommendation"] == "ACCEPT" and _levels(risk) == [(None, "LOW"), (APP_TITLE, "LOW")]

    unknown = {"orderId": "gid://shopify/Order/999999", "riskLevel": "HIGH", "facts": []}
    missing = shop.data(CREATE, {"input": unknown})["orderRiskAssessmentCreate"]
    assert missing["orderRiskAssessment"] is None
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [
        (["orderRiskAssessmentInput", "orderId"], "NOT_FOUND")
    ]
    too_many = [{"description": f"fato {n}", "sentiment": "NEUTRAL"} for n in range(21)]
    crowded = {"orderId": order_id, "riskLevel": "HIGH", "facts": too_many}
    refused = shop.data(CREATE, {"input": crowded})["orderRiskAssessmentCreate"]
    assert [e["code"] for e in refused["userErrors"]] == ["TOO_MANY_FACTS"]
    carried = {"orderId": _place(shop, pos="register"), "riskLevel": "HIGH", "facts": []}
    fulfilled = shop.data(CREATE, {"input": carried})["orderRiskAssessmentCreate"]
    assert [e["code"] for e in fulfilled["userErrors"]] == ["ORDER_ALREADY_FULFILLED"]
    assert _risk(shop, order_id)["recommendation"] == "ACCEPT"  # the refused ones changed nothing
