"""Order fraud risk: Shopify's own assessment of every order the checkout places, the later
assessments of a fraud-analysis app (or a new one of Shopify's), the recommendation the worst of
them gives, and the `orders/risk_assessment_changed` webhook.

Shopify keeps one assessment per provider on an order (`Order.risk`, an OrderRiskSummary): its own
(`provider` null) and one per app that called orderRiskAssessmentCreate; a provider's new
assessment replaces its earlier one. The order's recommendation follows the worst level: any HIGH
-> CANCEL, else any MEDIUM -> INVESTIGATE, else any LOW or NONE -> ACCEPT, else (only PENDING, or
none) NONE. "New risk assessments can be provided until the order is marked as fulfilled" (the
topic's description in the 2026-10 schema): a fulfilled order refuses one (ORDER_ALREADY_FULFILLED).

The summary is plain data on the order document (`risk`: `recommendation` and `assessments`, each
`riskLevel`, `facts` [{description, sentiment}] and `provider`: null for Shopify, else the App
document itself, `id` and `title`), so the default resolver answers `risk { recommendation
assessments { riskLevel provider { title } facts { description sentiment } } }` with no resolver
registered. An assessment's `_createdAt` (not a GraphQL field) is the webhook's `created_at`.

The webhook body is the one Shopify documents for the topic: provider (id, title; null for
Shopify), lowercase risk level, creation time, order id; not the recommendation.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.shopify import order_store
from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of
from sandbox.shopify.order_payloads import local_time
from sandbox.shopify.registry import Ctx
from sandbox.shopify.tokens import APP_TITLE

TOPIC = "orders/risk_assessment_changed"
LEVELS = ("HIGH", "MEDIUM", "LOW", "NONE", "PENDING")  # RiskAssessmentResult
SENTIMENTS = ("NEGATIVE", "NEUTRAL", "POSITIVE")  # RiskFactSentiment
MAX_FACTS = 20  # OrderRiskAssessmentCreateInput.facts: "Up to 20 facts can be provided."
MAX_DESCRIPTION = 256  # RiskFact.description: "Descriptions longer than 256 characters are truncated."
# The checkout's `risk` option -> the level of Shopify's own assessment.
CHECKOUT_RISKS = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "pending": "PENDING"}
# What Shopify's fraud analysis says for each level (its indicator wording; a pending one has none yet).
SHOPIFY_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "LOW": (("Characteristics of this order are similar to non-fraudulent orders", "POSITIVE"),),
    "MEDIUM": (
        ("Some characteristics of this order are similar to fraudulent orders", "NEGATIVE"),
        ("There was 1 payment attempt", "NEUTRAL"),
    ),
    "HIGH": (
        ("The billing address does not match the card's country", "NEGATIVE"),
        ("Characteristics of this order are similar to fraudulent orders", "NEGATIVE"),
    ),
    "PENDING": (),
}
_FULFILLED = "FULFILLED"


class RiskError(ValueError):
    """An assessment Shopify refuses: `code` is its OrderRiskAssessmentCreateUserErrorCode, `field`
    the path of the input part at fault (under the mutation's input)."""

    def __init__(self, message: str, code: str, field: list[str]) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def recommendation(assessments: list[dict[str, Any]]) -> str:
    """The order's OrderRiskRecommendationResult: the worst assessment wins."""
    levels = {a["riskLevel"] for a in assessments}
    if "HIGH" in levels:
        return "CANCEL"
    if "MEDIUM" in levels:
        return "INVESTIGATE"
    return "ACCEPT" if levels & {"LOW", "NONE"} else "NONE"


def _assessment(level: str, facts: list[dict[str, str]], provider: dict | None, now: str) -> dict[str, Any]:
    return {"riskLevel": level, "facts": facts, "provider": provider, "_createdAt": now}


def shopify_facts(level: str) -> list[dict[str, str]]:
    return [{"description": d, "sentiment": s} for d, s in SHOPIFY_FACTS.get(level, ())]


def at_checkout(level: str, now: str) -> dict[str, Any]:
    """The `risk` of a new order: Shopify's own assessment of `level`, with its facts."""
    assessments = [_assessment(level, shopify_facts(level), None, now)]
    return {"recommendation": recommendation(assessments), "assessments": assessments}


def _checked_facts(facts: Any) -> list[dict[str, str]]:
    """The facts as stored (descriptions truncated as Shopify does); RiskError for a malformed list
    (which GraphQL's input coercion refuses before the mutation, so only the control API meets it)."""
    if not isinstance(facts, list):
        raise RiskError("facts must be a list of {description, sentiment}", "INVALID", ["facts"])
    if len(facts) > MAX_FACTS:
        raise RiskError(f"Up to {MAX_FACTS} facts can be provided", "TOO_MANY_FACTS", ["facts"])
    checked = []
    for index, fact in enumerate(facts):
        where = ["facts", str(index)]
        description = fact.get("description") if isinstance(fact, dict) else None
        if not isinstance(description, str) or not description.strip():
            raise RiskError("a fact's description is required text", "INVALID", [*where, "description"])
        if fact.get("sentiment") not in SENTIMENTS:
            message = f"sentiment must be one of {', '.join(SENTIMENTS)}"
            raise RiskError(message, "INVALID", [*where, "sentiment"])
        checked.append({"description": description[:MAX_DESCRIPTION], "sentiment": fact["sentiment"]})
    return checked


def assess(
    ctx: Ctx, order: dict[str, Any], level: Any, provider: dict[str, Any] | None, facts: Any = None
) -> dict[str, Any]:
    """`provider`'s (None: Shopify's) new assessment of `order`: it replaces that provider's earlier
    one or is added, and the recommendation is recomputed. Facts default to Shopify's wording for
    Shopify's own assessment, none for an app's. The caller saves the order and `announce`s it.
    RiskError: a bad level or facts, or a fulfilled order."""
    if level not in LEVELS:
        raise RiskError(f"riskLevel must be one of {', '.join(LEVELS)}", "INVALID", ["riskLevel"])
    if facts is None:
        facts = shopify_facts(level) if provider is None else []
    checked = _checked_facts(facts)
    if order["displayFulfillmentStatus"] == _FULFILLED:
        raise RiskError(
            "The order is fulfilled and can no longer accept new risk assessments",
            "ORDER_ALREADY_FULFILLED",
            ["orderId"],
        )
    assessment = _assessment(level, checked, provider, iso(ctx.now()))
    risk = order["risk"]
    mine = _provider_id(provider)
    kept = [a for a in risk["assessments"] if _provider_id(a["provider"]) != mine]
    risk["assessments"] = [*kept, assessment]
    risk["recommendation"] = recommendation(risk["assessments"])
    return assessment


def _provider_id(provider: dict[str, Any] | None) -> str | None:
    return provider["id"] if provider else None


def app(ctx: Ctx, title: str, api_key: str | None = None) -> dict[str, Any]:
    """The App named `title` on the shop (made on first use: an id of its own), as an assessment's
    provider holds it. `api_key`: the calling app's (its App.apiKey)."""
    found = ctx.store.find_one(ctx.shop, "app.title", title)
    if found is None:
        app_id = ctx.store.new_gid("App")
        handle = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or None
        found = {"__typename": "App", "id": app_id, "title": title, "handle": handle}
        ctx.store.put(ctx.shop, found, keys={"app.title": title})
    if api_key is not None and found.get("apiKey") != api_key:
        found["apiKey"] = api_key
        ctx.store.put(ctx.shop, found, keys={"app.title": title})
    return found


def calling_app(ctx: Ctx) -> dict[str, Any]:
    """The App making the request: the sandbox's one app, titled as its shopify.app.toml names it."""
    return app(ctx, APP_TITLE, ctx.api_key)


def webhook_body(order: dict[str, Any], assessment: dict[str, Any]) -> dict[str, Any]:
    """The orders/risk_assessment_changed body, as Shopify documents it."""
    provider = assessment["provider"]
    return {
        "provider_id": num_of(provider["id"]) if provider else None,
        "provider_title": provider["title"] if provider else None,
        "risk_level": assessment["riskLevel"].lower(),
        "created_at": local_time(assessment.get("_createdAt")),
        "order_id": str(num_of(order["id"])),
        "admin_graphql_api_order_id": order["id"],
    }


def announce(ctx: Ctx, order: dict[str, Any], assessment: dict[str, Any]) -> list[str]:
    """Send orders/risk_assessment_changed to the shop's subscribers of the topic."""
    return ctx.sandbox.emit(ctx.shop, TOPIC, webhook_body(order, assessment))


def summary(order: dict[str, Any]) -> dict[str, Any]:
    """The order's risk as GraphQL reads it (`risk { recommendation assessments { riskLevel provider
    { id title } facts { description sentiment } } }`), for the control API's answer."""
    risk = order["risk"]
    return {
        "recommendation": risk["recommendation"],
        "assessments": [
            {"riskLevel": a["riskLevel"], "provider": _app_view(a["provider"]), "facts": a["facts"]}
            for a in risk["assessments"]
        ],
    }


def _app_view(provider: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"id": provider["id"], "title": provider["title"]} if provider else None


def control_assess(
    sandbox: Any, shop: str, order_id: str, level: Any, provider_title: str | None, facts: Any = None
) -> dict[str, Any]:
    """Control (not Shopify's): an assessment by the app titled `provider_title` (None: Shopify's
    own), saved and announced; returns the order's new `summary`. LookupError: no such order;
    RiskError: a bad level or facts, or a fulfilled order."""
    with order_store.for_control(sandbox, shop, order_id) as (ctx, order):
        provider = app(ctx, provider_title) if provider_title is not None else None
        assessment = assess(ctx, order, level, provider, facts)
        order_store.save(ctx, order, touch=False)
        announce(ctx, order, assessment)
    return summary(order)
