"""Metafields and their definitions as documents, shared by productSet, variant updates and
metafieldsSet. A definition of type `id` makes its values unique per store: that is what a
`customId` identifier looks up."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any

from sandbox.shopify.clock import iso
from sandbox.shopify.gids import kind_of, num_of
from sandbox.shopify.registry import Ctx

APP_NAMESPACE = "$app"
OWNER_TYPES = {
    "Product": "PRODUCT",
    "ProductVariant": "PRODUCTVARIANT",
    "Order": "ORDER",
    "Location": "LOCATION",
    "Shop": "SHOP",
    "Customer": "CUSTOMER",
}


def namespace_of(namespace: str | None) -> str:
    return namespace or APP_NAMESPACE


def owner_type(owner_id: str) -> str | None:
    return OWNER_TYPES.get(kind_of(owner_id) or "")


def definition(ctx: Ctx, owner: str, namespace: str | None, key: str) -> dict[str, Any] | None:
    return ctx.store.find_one(ctx.shop, "mfdef", f"{owner}|{namespace_of(namespace)}.{key}")


def get(ctx: Ctx, owner_id: str, namespace: str | None, key: str) -> dict[str, Any] | None:
    return ctx.store.find_one(ctx.shop, "mf.owner_key", f"{owner_id}|{namespace_of(namespace)}.{key}")


def for_owner(ctx: Ctx, owner_id: str) -> list[dict[str, Any]]:
    return ctx.store.find(ctx.shop, "mf.owner", owner_id)


def owner_by_unique_value(ctx: Ctx, owner: str, namespace: str | None, key: str, value: str) -> str | None:
    """The owner id holding `value` in an id-typed metafield (custom id look-up)."""
    found = ctx.store.find_one(ctx.shop, f"mf.value:{owner}:{namespace_of(namespace)}.{key}", value)
    return found["ownerId"] if found else None


def check(
    ctx: Ctx, owner_id: str, namespace: str | None, key: str, value: str | None, type_name: str | None
) -> tuple[str, str] | None:
    """Why this metafield cannot be written, as (message, code), or None when it can."""
    owner = owner_type(owner_id)
    if owner is None:
        return "Owner does not exist or is not a valid owner type.", "INVALID"
    if value is None or value == "":
        return "Value can't be blank.", "BLANK"
    known = definition(ctx, owner, namespace, key)
    wanted_type = (
        known["type"]["name"]
        if known
        else (type_name or (get(ctx, owner_id, namespace, key) or {}).get("type"))
    )
    if wanted_type is None:
        return "Type can't be blank.", "BLANK"
    if known and type_name and type_name != wanted_type:
        return f"Type '{type_name}' does not match the definition's type '{wanted_type}'.", "INVALID_TYPE"
    invalid = _invalid_value(wanted_type, value)
    if invalid is not None:
        return invalid, "INVALID_VALUE"
    if wanted_type == "id":
        holder = owner_by_unique_value(ctx, owner, namespace, key, value)
        if holder is not None and holder != owner_id:
            return "Value is already assigned to another resource.", "TAKEN"
    return None


_URL_SCHEMES = ("https", "http", "mailto", "sms", "tel")


def _invalid_value(type_name: str, value: str) -> str | None:
    """Shopify's built-in validation of the types the app writes (every type has one): why the
    value is refused, or None."""
    if type_name == "url":
        scheme, _, rest = value.partition(":")
        if scheme.lower() not in _URL_SCHEMES or not rest or any(c.isspace() for c in value):
            return f"Value must be a URL with one of the schemes {', '.join(_URL_SCHEMES)}: {value!r}."
    elif type_name == "single_line_text_field" and ("\n" in value or "\r" in value):
        return "Value must be a single line of text."
    elif type_name == "number_integer" and not re.fullmatch(r"-?[0-9]+", value):
        return f"Value must be an integer: {value!r}."
    elif type_name in ("date_time", "date"):
        try:
            (datetime.fromisoformat if type_name == "date_time" else date.fromisoformat)(value)
        except ValueError:
            return f"Value must be an ISO 8601 {type_name.replace('_', ' ')}: {value!r}."
    return None


def write(
    ctx: Ctx, owner_id: str, namespace: str | None, key: str, value: str, type_name: str | None
) -> dict:
    """Create or update one metafield (call `check` first)."""
    owner = owner_type(owner_id) or ""
    ns = namespace_of(namespace)
    existing = get(ctx, owner_id, ns, key)
    known = definition(ctx, owner, ns, key)
    now = iso(ctx.now())
    doc = existing or {
        "__typename": "Metafield",
        "id": ctx.store.new_gid("Metafield"),
        "namespace": ns,
        "key": key,
        "ownerId": owner_id,
        "ownerType": owner,
        "createdAt": now,
        "description": None,
    }
    doc["legacyResourceId"] = str(num_of(doc["id"]))
    doc["type"] = known["type"]["name"] if known else (type_name or doc.get("type"))
    doc["value"] = value
    doc["updatedAt"] = now
    doc["compareDigest"] = hashlib.sha256(f"{doc['id']}:{value}".encode()).hexdigest()
    doc["definitionId"] = known["id"] if known else None
    return ctx.store.put(
        ctx.shop,
        doc,
        keys={
            "mf.owner": owner_id,
            "mf.owner_key": f"{owner_id}|{ns}.{key}",
            f"mf.value:{owner}:{ns}.{key}": value,
        },
    )


def replace_all(ctx: Ctx, owner_id: str, inputs: list[dict[str, Any]], keep: set[tuple[str, str]]) -> None:
    """Set `inputs` on the owner and delete its other metafields (productSet's list semantics),
    except those in `keep` ((namespace, key) pairs such as the custom id)."""
    wanted = {(namespace_of(i.get("namespace")), i["key"]) for i in inputs} | keep
    for existing in for_owner(ctx, owner_id):
        if (existing["namespace"], existing["key"]) not in wanted:
            ctx.store.delete(ctx.shop, existing["id"])
    for item in inputs:
        write(ctx, owner_id, item.get("namespace"), item["key"], item.get("value") or "", item.get("type"))


def delete_owner(ctx: Ctx, owner_id: str) -> None:
    for existing in for_owner(ctx, owner_id):
        ctx.store.delete(ctx.shop, existing["id"])
