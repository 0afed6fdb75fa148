"""productSet: upsert a product with options, variants and metafields in one call.

Identifier by id, handle or customId (a metafield of type `id`, set on a product created for it
unless SandboxOptions.product_set_sets_custom_id is off); list fields are replaced whole
(variants and metafields left out are deleted; the custom id metafield is kept). A variant with
an id updates that variant of the product (an id that is none of them is refused before anything
is written: PRODUCT_VARIANT_DOES_NOT_EXIST); one without is matched to an existing one by its
option values, else created.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog, inventory_store, metafield_store
from sandbox.shopify.registry import Ctx, mutation, user_error
from sandbox.shopify.resolvers.products import product_by_identifier

MAX_VARIANTS = 2048
MAX_OPTIONS = 3
MAX_TEXT = 255  # a product's title, vendor, product type; a variant's SKU and barcode


def _error(path: list[str], message: str, code: str) -> dict:
    return {"product": None, "productSetOperation": None, "userErrors": [user_error(path, message, code)]}


def _option_key(values: list[dict[str, Any]]) -> tuple:
    return tuple(sorted(((v.get("optionName") or "").lower(), (v.get("name") or "").lower()) for v in values))


def _selected_key(variant: dict[str, Any]) -> tuple:
    return tuple(sorted((o["name"].lower(), o["value"].lower()) for o in variant["selectedOptions"]))


def _options(ctx: Ctx, data: dict[str, Any], variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Product options from `productOptions`, else derived from the variants' option values."""
    names: dict[str, list[str]] = {}
    for option in data.get("productOptions") or []:
        names[option.get("name") or ""] = [v.get("name") or "" for v in option.get("values") or []]
    for variant in variants:
        for value in variant.get("optionValues") or []:
            values = names.setdefault(value.get("optionName") or "Title", [])
            if value.get("name") not in values:
                values.append(value.get("name") or "")
    if not names:
        names = {"Title": ["Default Title"]}
    return [
        {
            "id": ctx.store.new_gid("ProductOption"),
            "name": name,
            "position": position,
            "values": values,
            "optionValues": [
                {"id": ctx.store.new_gid("ProductOptionValue"), "name": v, "hasVariants": True}
                for v in values
            ],
        }
        for position, (name, values) in enumerate(names.items(), start=1)
    ]


def _validate(ctx: Ctx, identifier: dict | None, data: dict[str, Any]) -> dict | None:
    if identifier and data.get("id"):
        return _error(
            ["input", "id"], "The id field is not allowed if identifier is provided.", "ID_NOT_ALLOWED"
        )
    variants = data.get("variants") or []
    for path, given, allowed, type_name in [
        (["input"], data, catalog.PRODUCT_INPUTS, "ProductSetInput"),
        *(
            (["input", "variants", str(i)], v, catalog.VARIANT_INPUTS, "ProductVariantSetInput")
            for i, v in enumerate(variants)
        ),
        *(
            (
                ["input", "variants", str(i), "inventoryItem"],
                v.get("inventoryItem") or {},
                catalog.ITEM_INPUTS,
                "InventoryItemInput",
            )
            for i, v in enumerate(variants)
        ),
    ]:
        name = catalog.not_emulated_input(given, allowed)
        if name is not None:
            return _error([*path, name], f"not emulated: {type_name}.{name}", "INVALID_INPUT")
    if len(variants) > MAX_VARIANTS:
        return _error(
            ["input", "variants"], f"Exceeded the maximum of {MAX_VARIANTS} variants.", "VARIANTS_OVER_LIMIT"
        )
    if len(data.get("productOptions") or []) > MAX_OPTIONS:
        return _error(
            ["input", "productOptions"],
            f"Exceeded the maximum of {MAX_OPTIONS} options.",
            "OPTIONS_OVER_LIMIT",
        )
    for name in ("title", "vendor", "productType"):
        if len(data.get(name) or "") > MAX_TEXT:
            return _error(
                ["input", name],
                f"{name[0].upper()}{name[1:]} is too long (maximum is {MAX_TEXT} characters)",
                "INVALID_PRODUCT",
            )
    declared = {
        ((option.get("name") or "").lower(), (value.get("name") or "").lower())
        for option in data.get("productOptions") or []
        for value in option.get("values") or []
    }
    seen: set[tuple] = set()
    for index, variant in enumerate(variants):
        key = _option_key(variant.get("optionValues") or [])
        if data.get("productOptions") and not set(key) <= declared:
            return _error(
                ["input", "variants", str(index), "optionValues"],
                "Option value does not exist.",
                "OPTION_VALUE_DOES_NOT_EXIST",
            )
        for name in ("sku", "barcode"):
            text = (variant.get("inventoryItem") or {}).get("sku") if name == "sku" else variant.get(name)
            if len(text or "") > MAX_TEXT:
                return _error(
                    ["input", "variants", str(index), name],
                    f"{name.capitalize()} is too long (maximum is {MAX_TEXT} characters)",
                    "INVALID_VARIANT",
                )
        if key in seen:
            return _error(
                ["input", "variants", str(index), "optionValues"],
                "The variant option values are duplicated.",
                "DUPLICATED_OPTION_VALUE",
            )
        seen.add(key)
        for name in ("price", "compareAtPrice"):
            try:
                amount = catalog.money(variant.get(name))
            except ValueError:
                return _error(["input", "variants", str(index), name], "Price is invalid.", "INVALID_VARIANT")
            if amount is not None and Decimal(amount) < 0:
                return _error(
                    ["input", "variants", str(index), name],
                    "Price must be greater than or equal to 0",
                    "INVALID_VARIANT",
                )
    if variants and not data.get("productOptions"):
        return _error(
            ["input", "productOptions"],
            "Must specify product options when updating variants.",
            "PRODUCT_OPTIONS_INPUT_MISSING",
        )
    for index, item in enumerate(data.get("metafields") or []):
        if not item.get("key"):
            return _error(
                ["input", "metafields", str(index), "key"], "Key can't be blank.", "INVALID_METAFIELD"
            )
    custom = (identifier or {}).get("customId")
    if custom and data.get("metafields") is not None:
        wanted = (custom.get("namespace"), custom.get("key"), custom.get("value"))
        if not any((m.get("namespace"), m.get("key"), m.get("value")) == wanted for m in data["metafields"]):
            return _error(
                ["input", "metafields"],
                "The input argument `metafields` (if present) must contain the `customId` value.",
                "METAFIELD_MISMATCH",
            )
    return None


def _find(ctx: Ctx, identifier: dict | None, data: dict[str, Any]) -> tuple[dict | None, dict | None]:
    """(existing product or None, error payload or None)."""
    if identifier:
        if identifier.get("customId"):
            custom = identifier["customId"]
            known = metafield_store.definition(ctx, "PRODUCT", custom.get("namespace"), custom["key"])
            if known is None or known["type"]["name"] != "id":
                return None, _error(
                    ["identifier", "customId"],
                    "The custom ID metafield definition does not exist or is not of type id.",
                    "INVALID_INPUT",
                )
        found = product_by_identifier(ctx, identifier)
        if found is None and identifier.get("id"):
            return None, _error(["identifier", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return found, None
    if data.get("id"):
        found = product_by_identifier(ctx, {"id": data["id"]})
        if found is None:
            return None, _error(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return found, None
    return None, None


@mutation("productSet")
def product_set(
    _src: Any, info: GraphQLResolveInfo, input: dict, identifier: dict | None = None, synchronous: bool = True
) -> dict:
    ctx: Ctx = info.context
    invalid = _validate(ctx, identifier, input)
    if invalid:
        return invalid
    product, failed = _find(ctx, identifier, input)
    if failed:
        return failed
    unknown = _unknown_variant(ctx, product, input.get("variants") or [])
    if unknown:
        return unknown
    creating = product is None
    if creating or input.get("variants") is not None:  # Shopify's daily limit, before anything is written
        inputs = input.get("variants")
        at_most = max(1, len(inputs or [])) if creating else sum(1 for v in inputs or [] if not v.get("id"))
        ctx.sandbox.variant_throttle.admit(ctx, at_most, lambda: _new_variants(ctx, product, inputs))
    product = product or catalog.new_product(ctx)
    wanted_handle = input.get("handle") or (identifier or {}).get("handle")
    if wanted_handle:
        holder = catalog.handle_owner(ctx, wanted_handle)
        if holder is not None and holder != product["id"]:
            return _error(
                ["input", "handle"], f"Handle '{wanted_handle}' has already been taken", "HANDLE_NOT_UNIQUE"
            )
        product["handle"] = wanted_handle
    elif creating:
        product["handle"] = catalog.unique_handle(
            ctx, catalog.handleize(input.get("title") or "product"), product["id"]
        )
    if creating and not input.get("title"):
        return _error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT")
    if input.get("seo") is not None:
        product["seo"] = {"title": input["seo"].get("title"), "description": input["seo"].get("description")}
    for name in (
        "title",
        "status",
        "vendor",
        "productType",
        "descriptionHtml",
        "templateSuffix",
        "requiresSellingPlan",
    ):
        if name in input and input[name] is not None:
            product[name] = input[name]
    if "tags" in input:
        product["tags"] = list(input["tags"] or [])
    product["description"] = product["descriptionHtml"]
    variants_input = input.get("variants")
    if variants_input is not None or creating:
        product["options"] = _options(ctx, input, variants_input or [])
    catalog.save_product(ctx, product)
    if variants_input is not None or creating:
        failed = _set_variants(ctx, product, variants_input or [{"optionValues": []}])
        if failed:
            return failed
    keep = _custom_id(
        ctx, product, identifier, write=not creating or ctx.sandbox.options.product_set_sets_custom_id
    )
    if "metafields" in input:
        metafield_store.replace_all(ctx, product["id"], input["metafields"] or [], keep)
    saved = ctx.store.get(ctx.shop, product["id"])
    if not synchronous:
        operation = {
            "__typename": "ProductSetOperation",
            "id": ctx.store.new_gid("ProductSetOperation"),
            "status": "COMPLETE",
            "product": saved,
            "userErrors": [],
        }
        ctx.store.put(ctx.shop, operation)
        return {"product": None, "productSetOperation": operation, "userErrors": []}
    return {"product": saved, "productSetOperation": None, "userErrors": []}


def _new_variants(ctx: Ctx, product: dict | None, inputs: list[dict[str, Any]] | None) -> int:
    """How many variants this productSet creates (`_set_variants` matches an input without id to a
    variant by its option values): a new product's all (at least its default one)."""
    if product is None:
        return max(1, len(inputs or []))
    existing = {_selected_key(v) for v in catalog.variants_of(ctx, product["id"])}
    created = 0
    for data in inputs or []:
        key = _option_key(data.get("optionValues") or []) or (("title", "default title"),)
        if not data.get("id") and key not in existing:
            created += 1
    return created


def _unknown_variant(ctx: Ctx, product: dict | None, variants: list[dict[str, Any]]) -> dict | None:
    """A variant `id` that is none of this product's variants (deleted, another product's, or a
    product about to be created): refused before anything is written, as Shopify's mutation
    fails whole."""
    known = {v["id"] for v in catalog.variants_of(ctx, product["id"])} if product is not None else set()
    for index, data in enumerate(variants):
        if data.get("id") and data["id"] not in known:
            return _error(
                ["input", "variants", str(index), "id"],
                "Product variant does not exist",
                "PRODUCT_VARIANT_DOES_NOT_EXIST",
            )
    return None


def _custom_id(ctx: Ctx, product: dict, identifier: dict | None, *, write: bool) -> set[tuple[str, str]]:
    """Write the identifier's custom id on the product (unless `write` is off: a product created
    while the options say productSet does not set it); it is never deleted by list replacement."""
    custom = (identifier or {}).get("customId")
    if not custom:
        return set()
    if write:
        metafield_store.write(
            ctx, product["id"], custom.get("namespace"), custom["key"], custom["value"], "id"
        )
    return {(metafield_store.namespace_of(custom.get("namespace")), custom["key"])}


def _set_variants(ctx: Ctx, product: dict, inputs: list[dict[str, Any]]) -> dict | None:
    existing = catalog.variants_of(ctx, product["id"])
    by_id = {v["id"]: v for v in existing}
    by_options = {_selected_key(v): v for v in existing}
    kept: set[str] = set()
    named = {data["id"] for data in inputs if data.get("id")}  # the input's own by id, never matched
    for position, data in enumerate(inputs, start=1):
        if data.get("id"):
            variant = by_id[data["id"]]  # one of the product's (_unknown_variant)
        else:
            key = _option_key(data.get("optionValues") or []) or (("title", "default title"),)
            variant = by_options.get(key)
            if variant is not None and (variant["id"] in kept or variant["id"] in named):
                variant = None
        created = variant is None
        variant = variant or catalog.new_variant(ctx, product["id"])
        variant["position"] = position
        variant["selectedOptions"] = [
            {
                "name": v.get("optionName") or "Title",
                "value": v.get("name") or "",
                "optionValue": {"id": None, "name": v.get("name") or "", "hasVariants": True},
            }
            for v in data.get("optionValues") or []
        ] or [
            {
                "name": "Title",
                "value": "Default Title",
                "optionValue": {"id": None, "name": "Default Title", "hasVariants": True},
            }
        ]
        catalog.apply_variant_fields(ctx, variant, data)
        catalog.save_variant(ctx, variant)
        kept.add(variant["id"])
        if "metafields" in data:
            metafield_store.replace_all(ctx, variant["id"], data["metafields"] or [], set())
        for quantity in data.get("inventoryQuantities") or [] if created else []:
            level = inventory_store.activate(ctx, variant["inventoryItemId"], quantity["locationId"])
            inventory_store.set_quantity(ctx, level, quantity["name"], quantity["quantity"])
    for variant in existing:
        if variant["id"] not in kept:
            catalog.delete_variant(ctx, variant)
    return None
