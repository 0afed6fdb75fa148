"""productVariantsBulkUpdate: price, compareAtPrice, barcode, inventoryPolicy and inventoryItem
(sku, tracked, measurement, cost) of existing variants of one product. All-or-nothing unless
`allowPartialUpdates`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog, metafield_store
from sandbox.shopify.registry import Ctx, mutation, user_error


def _problem(ctx: Ctx, product_id: str, index: int, data: dict[str, Any]) -> dict | None:
    path = ["variants", str(index)]
    for where, given, names, type_name in (
        (path, data, catalog.VARIANT_INPUTS, "ProductVariantsBulkInput"),
        (
            [*path, "inventoryItem"],
            data.get("inventoryItem") or {},
            catalog.ITEM_INPUTS,
            "InventoryItemInput",
        ),
    ):
        name = catalog.not_emulated_input(given, names)
        if name is not None:
            return user_error([*where, name], f"not emulated: {type_name}.{name}", "INVALID_INPUT")
    if not data.get("id"):
        return user_error([*path, "id"], "Product variant id is missing", "PRODUCT_VARIANT_ID_MISSING")
    variant = ctx.store.get(ctx.shop, data["id"])
    if variant is None or variant.get("__typename") != "ProductVariant":
        return user_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
    if variant["productId"] != product_id:
        return user_error(
            [*path, "id"], "Product variant does not belong to this product", "MUST_BE_FOR_THIS_PRODUCT"
        )
    for name in ("price", "compareAtPrice"):
        try:
            value = catalog.money(data.get(name))
        except ValueError:
            return user_error([*path, name], "Price is invalid", "INVALID_VALUE")
        if value is not None and Decimal(value) < 0:
            return user_error(
                [*path, name], "Price must be greater than or equal to 0", "NEGATIVE_PRICE_VALUE"
            )
    if data.get("inventoryQuantities"):
        return user_error(
            [*path, "inventoryQuantities"],
            "Inventory quantities can only be provided during create.",
            "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
        )
    return None


@mutation("productVariantsBulkUpdate")
def product_variants_bulk_update(
    _src: Any,
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict],
    allowPartialUpdates: bool = False,
    media: list | None = None,
) -> dict:
    ctx: Ctx = info.context
    product = ctx.store.get(ctx.shop, productId)
    if product is None or product.get("__typename") != "Product":
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")],
        }
    problems = {i: p for i, d in enumerate(variants) if (p := _problem(ctx, productId, i, d))}
    if problems and not allowPartialUpdates:
        return {"product": product, "productVariants": None, "userErrors": list(problems.values())}
    updated = []
    for index, data in enumerate(variants):
        if index in problems:
            continue
        variant = ctx.store.get(ctx.shop, data["id"])
        catalog.apply_variant_fields(ctx, variant, data)
        catalog.save_variant(ctx, variant)
        for item in data.get("metafields") or []:
            metafield_store.write(
                ctx,
                variant["id"],
                item.get("namespace"),
                item["key"],
                item.get("value") or "",
                item.get("type"),
            )
        updated.append(variant)
    catalog.save_product(ctx, product)
    return {"product": product, "productVariants": updated, "userErrors": list(problems.values())}
