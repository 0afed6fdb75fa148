"""The `shop` query and the shop's staff members, built from the shop record."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, query


def _staff(member: dict) -> dict:
    return {"__typename": "StaffMember", **{k: v for k, v in member.items() if k != "handle"}}


@query("shop")
def resolve_shop(_src: Any, info: GraphQLResolveInfo) -> dict:
    ctx: Ctx = info.context
    record = ctx.sandbox.shops.ensure(ctx.shop)
    owner = next(m for m in record["staff"] if m["isShopOwner"])
    tier = record["tier"]
    domain = record["domain"]
    return {
        "__typename": "Shop",
        "id": record["id"],
        "name": ctx.shop.replace("-", " ").title(),
        "myshopifyDomain": domain,
        "email": owner["email"],
        "contactEmail": owner["email"],
        "currencyCode": "BRL",
        "enabledPresentmentCurrencies": ["BRL"],
        "ianaTimezone": "America/Sao_Paulo",
        "createdAt": record["createdAt"],
        "description": None,
        "shopOwnerName": owner["name"],
        "plan": {
            "displayName": tier.title(),
            "publicDisplayName": tier.title(),
            "partnerDevelopment": False,
            "shopifyPlus": tier in ("plus", "enterprise"),
        },
        "primaryDomain": {
            "id": f"gid://shopify/Domain/{record['id'].rsplit('/', 1)[1]}",
            "host": domain,
            "url": f"https://{domain}",
            "sslEnabled": True,
            "localization": None,
            "marketWebPresence": None,
        },
        "billingAddress": {
            "id": f"gid://shopify/ShopAddress/{record['id'].rsplit('/', 1)[1]}",
            "address1": "Rua Direita, 100",
            "address2": None,
            "city": "São Paulo",
            "province": "São Paulo",
            "provinceCode": "SP",
            "zip": "01002-000",
            "country": "Brazil",
            "countryCode": "BR",
            "countryCodeV2": "BR",
            "company": None,
            "phone": None,
            "firstName": None,
            "lastName": None,
            "name": None,
            "latitude": None,
            "longitude": None,
            "coordinatesValidated": False,
            "formatted": ["Rua Direita, 100", "São Paulo SP 01002-000", "Brazil"],
            "formattedArea": "São Paulo SP, Brazil",
        },
        "accountOwner": _staff(owner),
        "_staff": [_staff(m) for m in record["staff"]],
    }


@field("Shop", "staffMembers")
def shop_staff_members(shop: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(shop["_staff"], args)


@query("staffMember")
def resolve_staff_member(_src: Any, info: GraphQLResolveInfo, id: str | None = None) -> dict | None:
    ctx: Ctx = info.context
    member = ctx.sandbox.shops.staff_member(ctx.shop, id or "owner")
    return _staff(member) if member else None
