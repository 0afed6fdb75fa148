"""webhookSubscriptions (list), webhookSubscriptionCreate / Delete. Compliance topics are
configuration-only on Shopify (not in WebhookSubscriptionTopic), so they are delivered but not listed."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error
from sandbox.shopify.schema import API_VERSION
from sandbox.shopify.shops import subscribe

# Resources whose name has two words (so ORDERS_PARTIALLY_FULFILLED -> orders/partially_fulfilled).
_TWO_WORD_RESOURCES = {
    "APP_SUBSCRIPTIONS",
    "APP_PURCHASES",
    "BULK_OPERATIONS",
    "INVENTORY_LEVELS",
    "INVENTORY_ITEMS",
    "ORDER_TRANSACTIONS",
    "FULFILLMENT_ORDERS",
    "FULFILLMENT_EVENTS",
    "PRODUCT_LISTINGS",
    "DRAFT_ORDERS",
    "CUSTOMER_GROUPS",
    "SELLING_PLAN_GROUPS",
    "PRODUCT_FEEDS",
    "PAYMENT_TERMS",
    "PAYMENT_SCHEDULES",
    "SUBSCRIPTION_CONTRACTS",
    "SUBSCRIPTION_BILLING_ATTEMPTS",
    "TAX_SERVICES",
    "CUSTOMER_PAYMENT_METHODS",
    "COLLECTION_LISTINGS",
    "COMPANY_LOCATIONS",
    "COMPANY_CONTACTS",
    "SCHEDULED_PRODUCT_LISTINGS",
}


def topic_path(enum_value: str) -> str:
    """`ORDERS_CREATE` -> `orders/create`, `BULK_OPERATIONS_FINISH` -> `bulk_operations/finish`."""
    words = enum_value.split("_")
    size = 2 if "_".join(words[:2]) in _TWO_WORD_RESOURCES else 1
    return f"{'_'.join(words[:size]).lower()}/{'_'.join(words[size:]).lower()}"


def _listed(info: GraphQLResolveInfo, doc: dict) -> bool:
    topics = info.schema.get_type("WebhookSubscriptionTopic").values
    return doc["topic"] in topics and doc["apiKey"] == info.context.api_key


@query("webhookSubscriptions")
def resolve_webhook_subscriptions(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    found = [d for d in ctx.store.scan(ctx.shop, "WebhookSubscription") if _listed(info, d)]
    if args.get("topics"):
        found = [d for d in found if d["topic"] in args["topics"]]
    if args.get("uri") or args.get("callbackUrl"):
        found = [d for d in found if d["uri"] == (args.get("uri") or args.get("callbackUrl"))]
    return connection(found, args)


@query("webhookSubscription")
def resolve_webhook_subscription(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    doc = info.context.store.get(info.context.shop, id)
    return doc if doc and doc.get("__typename") == "WebhookSubscription" else None


@field("WebhookSubscription", "endpoint")
def subscription_endpoint(doc: dict, _info: GraphQLResolveInfo) -> dict:
    return {"__typename": "WebhookHttpEndpoint", "callbackUrl": doc["uri"]}


@field("WebhookSubscription", "apiVersion")
def subscription_api_version(_doc: dict, _info: GraphQLResolveInfo) -> dict:
    return {"handle": API_VERSION, "displayName": API_VERSION, "supported": True}


@mutation("webhookSubscriptionCreate")
def webhook_subscription_create(
    _src: Any, info: GraphQLResolveInfo, topic: str, webhookSubscription: dict
) -> dict:
    ctx: Ctx = info.context
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [user_error(["webhookSubscription", "uri"], "Address can't be blank")],
        }
    path = topic_path(topic)
    for existing in ctx.store.find(ctx.shop, "webhook.topic", path):
        if existing["uri"] == uri and existing["apiKey"] == ctx.api_key:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    user_error(
                        ["webhookSubscription", "callbackUrl"],
                        "Address for this topic has already been taken",
                    )
                ],
            }
    doc = subscribe(ctx.sandbox, ctx.shop, ctx.api_key, path, uri)
    for name in ("filter", "includeFields", "metafieldNamespaces", "name"):
        if webhookSubscription.get(name) is not None:
            doc[name] = webhookSubscription[name]
    ctx.store.put(ctx.shop, doc)
    return {"webhookSubscription": doc, "userErrors": []}


@mutation("webhookSubscriptionDelete")
def webhook_subscription_delete(_src: Any, info: GraphQLResolveInfo, id: str) -> dict:
    ctx: Ctx = info.context
    doc = ctx.store.get(ctx.shop, id)
    if doc is None or doc.get("__typename") != "WebhookSubscription":
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [user_error(["id"], "Webhook subscription does not exist")],
        }
    ctx.store.delete(ctx.shop, id)
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}
