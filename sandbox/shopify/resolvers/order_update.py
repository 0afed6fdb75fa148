"""orderUpdate: an order's attributes, such as its shipping address, note and tags (not its lines:
those change through orderEditBegin).

The input names the order (`id`) and what changes; a field left out keeps its value. As on Shopify,
`shippingAddress` overwrites the shipping address as a whole ("Overwrites the existing shipping
address": a MailingAddressInput field left out is empty afterwards), `note` and `tags` overwrite
theirs. Emulated: shippingAddress, note, tags, email, phone, poNumber, customAttributes; another
input field answers NOT_EMULATED. An order that does not exist: userError on `id`. A change sends
orders/updated (Shopify sends no orders/edited for it); an input that changes nothing sends none.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx, mutation, user_error

PLAIN = ("note", "email", "phone", "poNumber", "customAttributes")
ADDRESS_FIELDS = ("firstName", "lastName", "company", "address1", "address2", "city", "province",
                  "provinceCode", "zip", "phone")  # fmt: skip


def mailing_address(ctx: Ctx, given: dict[str, Any]) -> dict[str, Any]:
    """A MailingAddress made of a MailingAddressInput (the fields it leaves out are empty)."""
    fields = {name: given.get(name) or None for name in ADDRESS_FIELDS}
    code = given.get("countryCode") or None
    country = given.get("country") or ("Brazil" if code == "BR" else code)
    person = " ".join(p for p in (fields["firstName"], fields["lastName"]) if p)
    area = " ".join(p for p in (fields["zip"], fields["city"], fields["provinceCode"]) if p)
    city = " ".join(p for p in (fields["city"], fields["provinceCode"]) if p)
    return {
        "__typename": "MailingAddress",
        "id": f"{order_store.new_id(ctx, 'MailingAddress')}?model_name=Address",
        **fields,
        "name": person or fields["company"],
        "country": country,
        "countryCodeV2": code,
        "countryCode": code,
        "latitude": None,
        "longitude": None,
        "coordinatesValidated": False,
        "timeZone": "America/Sao_Paulo",
        "validationResultSummary": None,
        "formatted": [p for p in (fields["address1"], fields["address2"], area, country) if p],
        "formattedArea": ", ".join(p for p in (city, country) if p),
    }


def _same_address(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    keys = (*ADDRESS_FIELDS, "countryCodeV2")
    return old is not None and all(old.get(k) == new.get(k) for k in keys)


@mutation("orderUpdate")
def order_update(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict:
    ctx: Ctx = info.context
    unknown = sorted(set(input) - {"id", "shippingAddress", "tags", *PLAIN})
    if unknown:
        raise GraphQLError(f"not emulated: OrderInput.{unknown[0]}", info.field_nodes,
                           extensions={"code": "NOT_EMULATED"})  # fmt: skip
    order = order_store.get(ctx, input["id"])
    if order is None:
        return {"order": None, "userErrors": [user_error(["id"], "Order does not exist")]}
    changed = False
    for name in PLAIN:
        if name in input and order.get(name) != input[name]:
            order[name], changed = input[name], True
    if "tags" in input:
        tags = [t.strip() for tag in input["tags"] or [] for t in tag.split(",") if t.strip()]
        if tags != order["tags"]:
            order["tags"], changed = tags, True
    if input.get("shippingAddress") is not None:
        address = mailing_address(ctx, input["shippingAddress"])
        if not _same_address(order.get("shippingAddress"), address):
            order["shippingAddress"], changed = address, True
            matches = _same_address(order.get("billingAddress"), address)
            order["billingAddressMatchesShippingAddress"] = matches
    if changed:
        order = order_store.save(ctx, order)
        emit_order(ctx, order, "orders/updated")
    return {"order": order, "userErrors": []}
