"""B2B companies as the merchant keeps them (Customers > Companies, Shopify Plus): a Company, its
CompanyLocation (billing and shipping CompanyAddress, `taxSettings.taxRegistrationId`: in Brazil
the location's CNPJ) and a CompanyContact (a customer who buys for the company).

What the sandbox needs of B2B: the checkout places an order for a company location
(`checkout.place_order(company_location=...)`: `Order.purchasingEntity` is then a
PurchasingCompany, the order's addresses are the location's, and its `localizedFields` carry a
CPF/CNPJ only when the contact typed one, as a B2B checkout does not ask for it), and the merchant
fills in or changes a location's tax registration ID afterwards (`set_tax_registration`), or adds
another location to a company (`add_location`: its own address, billing as shipping as Shopify
fills it by default, and maybe the CNPJ of another location). These are control calls
(`routes_checkout.py`), not GraphQL: the app reads companies, never writes them.

An order's purchasingEntity (resolvers/companies.py): the PurchasingCompany of a B2B order; the
order's Customer otherwise (null for a guest checkout, which has no customer).
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.shopify import order_store
from sandbox.shopify.checkout_people import Buyer, make_buyer
from sandbox.shopify.clock import iso
from sandbox.shopify.order_documents import customer_doc, mailing_address
from sandbox.shopify.registry import Ctx


class CompanyError(ValueError):
    """A control call named no such company location, or asked something the admin refuses."""


def company_address(ctx: Ctx, buyer: Buyer, company_name: str, now: str) -> dict[str, Any]:
    """A CompanyAddress at the buyer's generated address (its recipient: the buyer)."""
    return {
        "__typename": "CompanyAddress",
        "id": order_store.new_id(ctx, "CompanyAddress"),
        "companyName": company_name,
        "firstName": buyer.first_name,
        "lastName": buyer.last_name,
        "recipient": None,
        "address1": buyer.address1,
        "address2": buyer.address2,
        "city": buyer.city,
        "province": buyer.province,
        "zoneCode": buyer.province_code,
        "country": "Brazil",
        "countryCode": "BR",
        "zip": buyer.zip,
        "phone": buyer.phone,
        "formattedArea": f"{buyer.city}, {buyer.province_code}, Brazil",
        "formattedAddress": [
            company_name,
            buyer.address1,
            *([buyer.address2] if buyer.address2 else []),
            f"{buyer.zip} {buyer.city} {buyer.province_code}",
            "Brazil",
        ],
        "createdAt": now,
        "updatedAt": now,
    }


def create_company(
    sandbox: Any,
    shop: str,
    name: str,
    location_name: str = "Matriz",
    tax_registration_id: str | None = None,
    seed: int | None = None,
) -> dict[str, str]:
    """A company with one location and one contact (its main contact, a customer of the shop);
    the location's billing and shipping addresses are one generated Brazilian address. Returns
    the ids: {"company", "location", "contact", "customer"}."""
    rng = random.Random(seed)
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    sandbox.shops.ensure(shop)
    with ctx.store.transaction():
        now = iso(ctx.now())
        person = make_buyer(rng, company_rate=0.0)  # the contact: a person with a CPF of their own
        place = make_buyer(rng, company_rate=0.0)  # where the company is
        customer = customer_doc(ctx, person, mailing_address(ctx, person), now)
        company_id = order_store.new_id(ctx, "Company")
        location_id = order_store.new_id(ctx, "CompanyLocation")
        contact_id = order_store.new_id(ctx, "CompanyContact")
        location = _location_doc(
            ctx, location_id, company_id, location_name, name, place, tax_registration_id, now
        )
        ctx.store.put(shop, location)
        ctx.store.put(
            shop,
            {
                "__typename": "CompanyContact",
                "id": contact_id,
                "title": "Compras",
                "locale": "pt-BR",
                "isMainContact": True,
                "createdAt": now,
                "updatedAt": now,
                "_companyId": company_id,
                "_customerId": customer["id"],
            },
        )
        ctx.store.put(
            shop,
            {
                "__typename": "Company",
                "id": company_id,
                "name": name,
                "externalId": None,
                "note": None,
                "createdAt": now,
                "updatedAt": now,
                "customerSince": now,
                "_locationIds": [location_id],
                "_mainContactId": contact_id,
            },
        )
    return {"company": company_id, "location": location_id, "contact": contact_id, "customer": customer["id"]}


def _location_doc(
    ctx: Ctx,
    location_id: str,
    company_id: str,
    location_name: str,
    company_name: str,
    place: Buyer,
    tax_registration_id: str | None,
    now: str,
) -> dict[str, Any]:
    """A CompanyLocation at `place`: its billing address is its shipping address, as Shopify
    fills it by default ("billing address same as shipping address")."""
    return {
        "__typename": "CompanyLocation",
        "id": location_id,
        "name": location_name,
        "externalId": None,
        "note": None,
        "phone": place.phone,
        "locale": "pt-BR",
        "currency": "BRL",
        "createdAt": now,
        "updatedAt": now,
        "billingAddress": company_address(ctx, place, company_name, now),
        "shippingAddress": company_address(ctx, place, company_name, now),
        "_companyId": company_id,
        "_taxRegistrationId": tax_registration_id,
    }


def add_location(
    sandbox: Any,
    shop: str,
    company_id: str,
    location_name: str,
    tax_registration_id: str | None = None,
    seed: int | None = None,
) -> str:
    """Another location of the company (a store, a delivery point) at a generated address of its
    own, billing and shipping alike; `tax_registration_id` may be another location's (the stores
    of one legal entity often share its CNPJ). Returns the location's id."""
    rng = random.Random(seed)
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    with ctx.store.transaction():
        company = ctx.store.get(shop, company_id)
        if not company or company.get("__typename") != "Company":
            raise CompanyError(f"no company {company_id} in {shop}")
        now = iso(ctx.now())
        location_id = order_store.new_id(ctx, "CompanyLocation")
        place = make_buyer(rng, company_rate=0.0)
        found = _location_doc(
            ctx, location_id, company_id, location_name, company["name"], place, tax_registration_id, now
        )
        ctx.store.put(shop, found)
        ctx.store.put(
            shop, {**company, "_locationIds": [*company["_locationIds"], location_id], "updatedAt": now}
        )
    return location_id


def location(ctx: Ctx, location_id: str) -> dict[str, Any]:
    """The CompanyLocation document; CompanyError when the shop has none such."""
    found = ctx.store.get(ctx.shop, location_id)
    if not found or found.get("__typename") != "CompanyLocation":
        raise CompanyError(f"no company location {location_id} in {ctx.shop}")
    return found


def set_tax_registration(sandbox: Any, shop: str, location_id: str, tax_registration_id: str | None) -> None:
    """The merchant fills in (or clears) a location's tax registration ID in the admin (Customers >
    Companies > the location > Tax settings). Shopify stores what was typed."""
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    with ctx.store.transaction():
        found = location(ctx, location_id)
        found["_taxRegistrationId"] = tax_registration_id or None
        found["updatedAt"] = iso(ctx.now())
        ctx.store.put(shop, found)


def buyer_of(ctx: Ctx, location_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(company, location, contact) of an order placed for `location_id` by the company's main
    contact."""
    where = location(ctx, location_id)
    company = ctx.store.get(ctx.shop, where["_companyId"]) or {}
    contact = ctx.store.get(ctx.shop, company.get("_mainContactId")) or {}
    return company, where, contact


def mailing_from(ctx: Ctx, address: dict[str, Any] | None) -> dict[str, Any] | None:
    """The order's MailingAddress copied from a company location's CompanyAddress (a B2B checkout
    fills the order's addresses from the location)."""
    if not address:
        return None
    names = " ".join(p for p in (address["firstName"], address["lastName"]) if p)
    return {
        "__typename": "MailingAddress",
        "id": f"{order_store.new_id(ctx, 'MailingAddress')}?model_name=Address",
        "firstName": address["firstName"],
        "lastName": address["lastName"],
        "name": names or address["companyName"],
        "company": address["companyName"],
        "address1": address["address1"],
        "address2": address["address2"],
        "city": address["city"],
        "province": address["province"],
        "provinceCode": address["zoneCode"],
        "country": address["country"],
        "countryCodeV2": address["countryCode"],
        "countryCode": address["countryCode"],
        "zip": address["zip"],
        "phone": address["phone"],
        "latitude": None,
        "longitude": None,
        "coordinatesValidated": False,
        "timeZone": "America/Sao_Paulo",
        "validationResultSummary": None,
        "formatted": address["formattedAddress"][1:],
        "formattedArea": address["formattedArea"],
    }
