"""Metafields: metafieldsSet (<= 25, atomic), metafieldsDelete, metafieldDefinitionCreate (type
`id` for custom ids), and the `metafield` / `metafields` fields of every owner type."""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import metafield_store
from sandbox.shopify.clock import iso
from sandbox.shopify.connections import connection
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error

MAX_METAFIELDS_PER_CALL = 25
OWNER_GRAPHQL_TYPES = ("Product", "ProductVariant", "Order", "Location", "Shop", "Customer")
_JSON_TYPES = (
    "json",
    "number_integer",
    "number_decimal",
    "boolean",
    "rating",
    "weight",
    "money",
    "dimension",
    "volume",
)


def _metafield(owner: dict, info: GraphQLResolveInfo, key: str, namespace: str | None = None) -> dict | None:
    return metafield_store.get(info.context, owner["id"], namespace, key)


def _metafields(owner: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    found = metafield_store.for_owner(info.context, owner["id"])
    if args.get("namespace"):
        found = [m for m in found if m["namespace"] == args["namespace"]]
    if args.get("keys"):
        found = [m for m in found if f"{m['namespace']}.{m['key']}" in args["keys"]]
    return connection(found, args)


for _type in OWNER_GRAPHQL_TYPES:
    field(_type, "metafield")(_metafield)
    field(_type, "metafields")(_metafields)


@field("Metafield", "owner")
def metafield_owner(metafield: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, metafield["ownerId"])


@field("Metafield", "jsonValue")
def metafield_json_value(metafield: dict, _info: GraphQLResolveInfo) -> Any:
    if metafield["type"] in _JSON_TYPES or metafield["type"].startswith("list."):
        try:
            return json.loads(metafield["value"])
        except ValueError:
            return metafield["value"]
    return metafield["value"]


@field("Metafield", "definition")
def metafield_definition(metafield: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, metafield.get("definitionId"))


@mutation("metafieldsSet")
def metafields_set(_src: Any, info: GraphQLResolveInfo, metafields: list[dict]) -> dict:
    ctx: Ctx = info.context
    if len(metafields) > MAX_METAFIELDS_PER_CALL:
        return {
            "metafields": None,
            "userErrors": [
                user_error(
                    ["metafields"],
                    f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_CALL}.",
                    "LESS_THAN_OR_EQUAL_TO",
                )
            ],
        }
    errors = []
    for index, item in enumerate(metafields):
        if ctx.store.get(ctx.shop, item["ownerId"]) is None:
            errors.append(
                user_error(
                    ["metafields", str(index), "ownerId"],
                    "Owner does not exist.",
                    "INVALID",
                    elementIndex=index,
                )
            )
            continue
        problem = metafield_store.check(
            ctx, item["ownerId"], item.get("namespace"), item["key"], item.get("value"), item.get("type")
        )
        if problem:
            errors.append(
                user_error(["metafields", str(index), "value"], problem[0], problem[1], elementIndex=index)
            )
    if errors:
        return {"metafields": None, "userErrors": errors}
    written = [
        metafield_store.write(ctx, m["ownerId"], m.get("namespace"), m["key"], m["value"], m.get("type"))
        for m in metafields
    ]
    return {"metafields": written, "userErrors": []}


@mutation("metafieldsDelete")
def metafields_delete(_src: Any, info: GraphQLResolveInfo, metafields: list[dict]) -> dict:
    """Delete by (ownerId, namespace, key); each identifier answers itself, or null when no such
    metafield exists (as Shopify does)."""
    ctx: Ctx = info.context
    if not metafields:
        refused = user_error(["metafields"], "At least one identifier must be specified.")
        return {"deletedMetafields": None, "userErrors": [refused]}
    deleted: list[dict | None] = []
    for item in metafields:
        found = metafield_store.get(ctx, item["ownerId"], item.get("namespace"), item["key"])
        if found is None:
            deleted.append(None)
            continue
        ctx.store.delete(ctx.shop, found["id"])
        deleted.append({"ownerId": found["ownerId"], "namespace": found["namespace"], "key": found["key"]})
    return {"deletedMetafields": deleted, "userErrors": []}


@mutation("metafieldDefinitionCreate")
def metafield_definition_create(_src: Any, info: GraphQLResolveInfo, definition: dict) -> dict:
    ctx: Ctx = info.context
    namespace = metafield_store.namespace_of(definition.get("namespace"))
    owner, key = definition["ownerType"], definition["key"]
    if metafield_store.definition(ctx, owner, namespace, key) is not None:
        return {
            "createdDefinition": None,
            "userErrors": [
                user_error(["definition", "key"], "Key is in use for this namespace and owner type.", "TAKEN")
            ],
        }
    definition_id = ctx.store.new_gid("MetafieldDefinition")
    doc = {
        "__typename": "MetafieldDefinition",
        "id": definition_id,
        "name": definition["name"],
        "namespace": namespace,
        "key": key,
        "ownerType": owner,
        "description": definition.get("description"),
        "type": {
            "name": definition["type"],
            "category": "REFERENCE" if definition["type"] == "id" else "TEXT",
            "valueType": "STRING",
            "supportsDefinitionMigrations": False,
            "supportedValidations": [],
        },
        "pinnedPosition": None,
        "useAsCollectionCondition": False,
        "validationStatus": "ALL_VALID",
        "validations": [],
        "createdAt": iso(ctx.now()),
    }
    ctx.store.put(ctx.shop, doc, keys={"mfdef": f"{owner}|{namespace}.{key}"})
    return {"createdDefinition": doc, "userErrors": []}


@query("metafieldDefinitions")
def metafield_definitions(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    found = ctx.store.scan(ctx.shop, "MetafieldDefinition")
    found = [d for d in found if d["ownerType"] == args.get("ownerType", d["ownerType"])]
    if args.get("namespace"):
        found = [d for d in found if d["namespace"] == args["namespace"]]
    if args.get("key"):
        found = [d for d in found if d["key"] == args["key"]]
    return connection(found, args)


@field("MetafieldDefinition", "metafieldsCount")
def definition_metafields_count(definition: dict, info: GraphQLResolveInfo, **_: Any) -> int:
    ctx: Ctx = info.context
    return sum(1 for m in ctx.store.scan(ctx.shop, "Metafield") if m.get("definitionId") == definition["id"])
