"""Shops: created on first use, seeded with what a Brazilian merchant's store starts with
(locations, an owner and staff, a market, the app's webhook subscriptions)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of
from sandbox.shopify.options import APP_WEBHOOK_TOPICS, TIERS
from sandbox.shopify.resolvers.pricing import currency_settings

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

SHOP_DOMAIN = re.compile(r"^(?P<name>[a-zA-Z0-9][a-zA-Z0-9\-]*)\.myshopify\.com$")

STAFF = (
    ("owner", "Maria", "Oliveira", True),
    ("gerente", "João", "Santos", False),
    ("estoquista", "Ana", "Pereira", False),
)


def shop_name(host: str | None) -> str | None:
    """`acme` from `acme.myshopify.com[:port]`, else None."""
    match = SHOP_DOMAIN.match((host or "").split(":")[0].strip().lower())
    return match.group("name") if match else None


def topic_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE`."""
    return topic.replace("/", "_").upper()


class Shops:
    """Shop records (table `shops`) and their seed data."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def get(self, shop: str) -> dict[str, Any] | None:
        return self.sandbox.store.get_row("shops", shop)

    def exists(self, shop: str) -> bool:
        return self.get(shop) is not None

    def ensure(self, shop: str) -> dict[str, Any]:
        """The shop's record, creating and seeding the shop the first time."""
        store = self.sandbox.store
        with store.transaction():
            record = self.get(shop)
            if record is None:
                record = self._create(shop)
        return record

    def tier(self, shop: str) -> str:
        record = self.get(shop)
        return record["tier"] if record else self.sandbox.options.default_tier

    def set_tier(self, shop: str, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; one of {sorted(TIERS)}")
        record = self.ensure(shop)
        record["tier"] = tier
        self.sandbox.store.put_row("shops", shop, record)

    def reset(self, shop: str) -> dict[str, Any]:
        """Forget everything about the shop and seed it again."""
        store = self.sandbox.store
        with store.transaction():
            store.drop_shop(shop)
            self.sandbox.throttle.reset(shop)
            self.sandbox.variant_throttle.forget(shop)
            return self._create(shop)

    def staff_member(self, shop: str, user: str) -> dict[str, Any] | None:
        """A staff member by handle (`owner`), gid or numeric id."""
        for member in self.ensure(shop)["staff"]:
            if user in (member["handle"], member["id"], str(num_of(member["id"]))):
                return member
        return None

    def _create(self, shop: str) -> dict[str, Any]:
        store, options = self.sandbox.store, self.sandbox.options
        now = iso(self.sandbox.clock.now())
        record: dict[str, Any] = {
            "name": shop,
            "domain": f"{shop}.myshopify.com",
            "id": store.new_gid("Shop"),
            "tier": options.default_tier,
            "createdAt": now,
            "staff": [
                {
                    "id": store.new_gid("StaffMember"),
                    "handle": handle,
                    "firstName": first,
                    "lastName": last,
                    "name": f"{first} {last}",
                    "email": f"{handle}@{shop}.example.com.br",
                    "isShopOwner": owner,
                    "active": True,
                    "exists": True,
                    "locale": "pt-BR",
                    "accountType": "COLLABORATOR" if not owner else "REGULAR",
                    "phone": None,
                    "initials": [first[0], last[0]],
                }
                for handle, first, last, owner in STAFF
            ],
        }
        store.put_row("shops", shop, record)
        for position, (name, street, city, state) in enumerate(options.seed_locations):
            self._seed_location(shop, name, street, city, state, position == 0, now)
        market_id = store.new_gid("Market")
        store.put(
            shop,
            {
                "__typename": "Market",
                "id": market_id,
                "name": "Brasil",
                "handle": "br",
                "enabled": True,
                "primary": True,
                "status": "ACTIVE",
                "type": "REGION",
                "assignedCustomization": False,
                "currencySettings": currency_settings(),
            },
            keys={"kind": "market"},
        )
        for topic in APP_WEBHOOK_TOPICS:
            subscribe(self.sandbox, shop, options.api_key, topic, f"{options.app_url}/webhooks")
        return record

    def _seed_location(
        self, shop: str, name: str, street: str, city: str, state: str, primary: bool, now: str
    ) -> None:
        store = self.sandbox.store
        location_id = store.new_gid("Location")
        address = {
            "address1": street,
            "address2": None,
            "city": city,
            "province": state,
            "provinceCode": state,
            "country": "Brazil",
            "countryCode": "BR",
            "zip": "01000-000",
            "phone": None,
            "latitude": None,
            "longitude": None,
            "formatted": [street, f"{city} {state}", "Brazil"],
        }
        store.put(
            shop,
            {
                "__typename": "Location",
                "id": location_id,
                "name": name,
                "isActive": True,
                "isPrimary": primary,
                "fulfillsOnlineOrders": True,
                "shipsInventory": True,
                "hasActiveInventory": True,
                "activatable": False,
                "deactivatable": True,
                "deletable": False,
                "deactivatedAt": None,
                "isFulfillmentService": False,
                "addressVerified": True,
                "address": address,
                "legacyResourceId": str(num_of(location_id)),
                "createdAt": now,
                "updatedAt": now,
            },
            keys={"location.name": name},
        )


def subscribe(sandbox: Sandbox, shop: str, api_key: str, topic: str, uri: str) -> dict[str, Any]:
    """Store a webhook subscription (`topic` as `orders/create`)."""
    store = sandbox.store
    now = iso(sandbox.clock.now())
    subscription_id = store.new_gid("WebhookSubscription")
    doc = {
        "__typename": "WebhookSubscription",
        "id": subscription_id,
        "topic": topic_enum(topic),
        "topicPath": topic,
        "uri": uri,
        "callbackUrl": uri,
        "format": "JSON",
        "filter": None,
        "includeFields": [],
        "metafieldNamespaces": [],
        "name": None,
        "apiKey": api_key,
        "legacyResourceId": str(num_of(subscription_id)),
        "createdAt": now,
        "updatedAt": now,
    }
    return store.put(shop, doc, keys={"webhook.topic": topic, "webhook.app": api_key})
