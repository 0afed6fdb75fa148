"""B2B reads (companies.py holds the documents): Order.purchasingEntity, PurchasingCompany,
company(id) / companyLocation(id) / companyContact(id) and the links between them.

Order.purchasingEntity is the PurchasingCompany (company, location, contact) of an order placed
for a company location; for any other order it is the order's Customer (null for a guest
checkout). A CompanyLocation's tax registration ID is read through `taxSettings` (and the
deprecated `taxRegistrationId`, which returns the same value).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, query


def _typed(ctx: Ctx, object_id: str | None, typename: str) -> dict | None:
    doc = ctx.store.get(ctx.shop, object_id)
    return doc if doc and doc.get("__typename") == typename else None


@field("Order", "purchasingEntity")
def order_purchasing_entity(order: dict, info: GraphQLResolveInfo) -> dict | None:
    ctx: Ctx = info.context
    bought = order.get("_purchasingCompany")
    if bought:
        return {"__typename": "PurchasingCompany", **bought}
    return _typed(ctx, order.get("customerId"), "Customer")


@field("PurchasingCompany", "company")
def purchasing_company(entity: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, entity["companyId"], "Company")


@field("PurchasingCompany", "location")
def purchasing_location(entity: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, entity["locationId"], "CompanyLocation")


@field("PurchasingCompany", "contact")
def purchasing_contact(entity: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, entity.get("contactId"), "CompanyContact")


@query("company")
def resolve_company(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _typed(info.context, id, "Company")


@query("companyLocation")
def resolve_company_location(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _typed(info.context, id, "CompanyLocation")


@query("companyContact")
def resolve_company_contact(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _typed(info.context, id, "CompanyContact")


@field("Company", "locations")
def company_locations(company: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    found = [_typed(ctx, loc, "CompanyLocation") for loc in company["_locationIds"]]
    return connection([loc for loc in found if loc], args)


@field("Company", "mainContact")
def company_main_contact(company: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, company.get("_mainContactId"), "CompanyContact")


@field("CompanyLocation", "company")
def location_company(location: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, location["_companyId"], "Company")


@field("CompanyLocation", "taxSettings")
def location_tax_settings(location: dict, _info: GraphQLResolveInfo) -> dict:
    return {"taxRegistrationId": location["_taxRegistrationId"], "taxExempt": False, "taxExemptions": []}


@field("CompanyLocation", "taxRegistrationId")
def location_tax_registration_id(location: dict, _info: GraphQLResolveInfo) -> str | None:
    return location["_taxRegistrationId"]


@field("CompanyContact", "company")
def contact_company(contact: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, contact["_companyId"], "Company")


@field("CompanyContact", "customer")
def contact_customer(contact: dict, info: GraphQLResolveInfo) -> dict | None:
    return _typed(info.context, contact["_customerId"], "Customer")
