"""Product, variant and inventory-item documents: creation, field updates, deletion.

Shared by productSet, productVariantsBulkUpdate and the bulk runner so every path writes the
same document shapes and secondary keys (sku, barcode, handle, product)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.shopify import inventory_store, metafield_store
from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx

PRODUCT_INPUTS = {
    "id",
    "title",
    "handle",
    "status",
    "vendor",
    "productType",
    "descriptionHtml",
    "templateSuffix",
    "tags",
    "productOptions",
    "variants",
    "metafields",
    "seo",
    "redirectNewHandle",
    "requiresSellingPlan",
}
VARIANT_INPUTS = {
    "id",
    "optionValues",
    "price",
    "compareAtPrice",
    "barcode",
    "sku",
    "inventoryPolicy",
    "inventoryItem",
    "inventoryQuantities",
    "metafields",
    "position",
    "taxable",
    "taxCode",
    "showUnitPrice",
    "requiresComponents",
    "unitPriceMeasurement",
}
ITEM_INPUTS = {
    "sku",
    "tracked",
    "cost",
    "measurement",
    "requiresShipping",
    "harmonizedSystemCode",
    "countryCodeOfOrigin",
}
_MEASURED_TYPES = {
    "KG": "WEIGHT",
    "G": "WEIGHT",
    "MG": "WEIGHT",
    "LB": "WEIGHT",
    "OZ": "WEIGHT",
    "L": "VOLUME",
    "ML": "VOLUME",
    "CL": "VOLUME",
    "M3": "VOLUME",
    "FLOZ": "VOLUME",
    "PT": "VOLUME",
    "QT": "VOLUME",
    "GAL": "VOLUME",
    "M": "LENGTH",
    "CM": "LENGTH",
    "MM": "LENGTH",
    "FT": "LENGTH",
    "YD": "LENGTH",
    "IN": "LENGTH",
    "M2": "AREA",
    "FT2": "AREA",
    "ITEM": "COUNT",
}


def not_emulated_input(data: dict[str, Any], allowed: set[str]) -> str | None:
    """The first input field this emulator would otherwise ignore (so nothing is dropped silently)."""
    for name, value in data.items():
        if name not in allowed and value not in (None, [], False):
            return name
    return None


def money(value: Any) -> str | None:
    """Shopify's Money/Decimal as a string with two decimals ("10.5" -> "10.50")."""
    if value is None or value == "":
        return None
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    except InvalidOperation as error:
        raise ValueError(f"invalid money value {value!r}") from error


def handleize(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "product"


def unique_handle(ctx: Ctx, base: str, product_id: str | None) -> str:
    """`base`, or `base-1`, `base-2`... when another product holds it (Shopify's auto handles)."""
    candidate, n = base, 0
    while (holder := handle_owner(ctx, candidate)) is not None and holder != product_id:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def handle_owner(ctx: Ctx, handle: str) -> str | None:
    found = ctx.store.find_one(ctx.shop, "product.handle", handle)
    return found["id"] if found else None


def save_product(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    doc["updatedAt"] = iso(ctx.now())
    return ctx.store.put(
        ctx.shop, doc, keys={"product.handle": doc["handle"], "product.status": doc["status"]}
    )


def new_product(ctx: Ctx) -> dict[str, Any]:
    product_id = ctx.store.new_gid("Product")
    now = iso(ctx.now())
    return {
        "__typename": "Product",
        "id": product_id,
        "legacyResourceId": str(num_of(product_id)),
        "title": "",
        "handle": "",
        "status": "ACTIVE",
        "vendor": "",
        "productType": "",
        "tags": [],
        "descriptionHtml": "",
        "description": "",
        "templateSuffix": None,
        "isGiftCard": False,
        "requiresSellingPlan": False,
        "createdAt": now,
        "updatedAt": now,
        "publishedAt": None,  # on no sales channel until publishablePublish (resolvers/publications)
        "publishedOn": [],
        "onlineStoreUrl": None,
        "seo": {"title": None, "description": None},
        "options": [],
        "giftCardTemplateSuffix": None,
        "customProductType": None,
    }


def variants_of(ctx: Ctx, product_id: str) -> list[dict[str, Any]]:
    return sorted(ctx.store.find(ctx.shop, "variant.product", product_id), key=lambda v: v["position"])


def save_variant(ctx: Ctx, variant: dict[str, Any]) -> dict[str, Any]:
    variant["updatedAt"] = iso(ctx.now())
    variant["title"] = " / ".join(o["value"] for o in variant["selectedOptions"]) or "Default Title"
    return ctx.store.put(
        ctx.shop,
        variant,
        keys={
            "variant.product": variant["productId"],
            "variant.sku": variant["sku"],
            "variant.barcode": variant["barcode"],
        },
    )


def new_variant(ctx: Ctx, product_id: str) -> dict[str, Any]:
    """A variant with its inventory item: untracked (no levels yet) unless the input's
    `inventoryItem.tracked` says otherwise, as Shopify creates an item through the API (the REST
    `inventory_management` null default; an app turns tracking on with `tracked: true`). An
    untracked item sells without limit whatever its inventoryPolicy, and
    inventorySetQuantities refuses it."""
    variant_id = ctx.store.new_gid("ProductVariant")
    item_id = ctx.store.new_gid("InventoryItem")
    now = iso(ctx.now())
    item = {
        "__typename": "InventoryItem",
        "id": item_id,
        "legacyResourceId": str(num_of(item_id)),
        "sku": None,
        "tracked": False,
        "requiresShipping": True,
        "variantId": variant_id,
        "createdAt": now,
        "updatedAt": now,
        "measurement": {"id": ctx.store.new_gid("InventoryItemMeasurement"), "weight": None},
        "unitCost": None,
        "countryCodeOfOrigin": None,
        "harmonizedSystemCode": None,
        "provinceCodeOfOrigin": None,
        "inventoryHistoryUrl": None,
        "trackedEditable": {"locked": False, "reason": None},
    }
    save_item(ctx, item)
    return {
        "__typename": "ProductVariant",
        "id": variant_id,
        "legacyResourceId": str(num_of(variant_id)),
        "productId": product_id,
        "inventoryItemId": item_id,
        "sku": None,
        "barcode": None,
        "price": "0.00",
        "compareAtPrice": None,
        "inventoryPolicy": "DENY",
        "position": 1,
        "selectedOptions": [],
        "taxable": True,
        "taxCode": None,
        "availableForSale": True,
        "showUnitPrice": False,
        "requiresComponents": False,
        "unitPriceMeasurement": None,
        "createdAt": now,
        "updatedAt": now,
        "displayName": "",
    }


def save_item(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    item["updatedAt"] = iso(ctx.now())
    return ctx.store.put(ctx.shop, item, keys={"item.sku": item["sku"], "item.variant": item["variantId"]})


def apply_variant_fields(ctx: Ctx, variant: dict[str, Any], data: dict[str, Any]) -> None:
    """Copy the plain fields of a ProductVariantSetInput / ProductVariantsBulkInput onto the
    variant and its inventory item (sku lives on the item; the variant mirrors it)."""
    for name in ("price", "compareAtPrice"):
        if name in data:
            variant[name] = money(data[name])
    for name in ("barcode", "inventoryPolicy", "taxable", "taxCode", "showUnitPrice", "requiresComponents"):
        if name in data:
            variant[name] = data[name]
    if data.get("unitPriceMeasurement") is not None:
        unit = data["unitPriceMeasurement"]
        variant["unitPriceMeasurement"] = {
            "measuredType": _MEASURED_TYPES.get(unit.get("quantityUnit") or "", "COUNT"),
            "quantityUnit": unit.get("quantityUnit"),
            "quantityValue": unit.get("quantityValue") or 0.0,
            "referenceUnit": unit.get("referenceUnit"),
            "referenceValue": unit.get("referenceValue") or 1,
        }
    item_input = dict(data.get("inventoryItem") or {})
    if data.get("sku") is not None and "sku" not in item_input:
        item_input["sku"] = data["sku"]
    item = ctx.store.get(ctx.shop, variant["inventoryItemId"])
    if item_input and item is not None:
        if "sku" in item_input:
            item["sku"] = item_input["sku"]
        for name in ("tracked", "requiresShipping", "harmonizedSystemCode", "countryCodeOfOrigin"):
            if name in item_input:
                item[name] = item_input[name]
        if item_input.get("cost") is not None:
            item["unitCost"] = {"amount": money(item_input["cost"]), "currencyCode": "BRL"}
        weight = (item_input.get("measurement") or {}).get("weight")
        if weight is not None:
            item["measurement"]["weight"] = {"unit": weight["unit"], "value": float(weight["value"])}
        save_item(ctx, item)
    if item is not None:
        variant["sku"] = item["sku"]


def delete_variant(ctx: Ctx, variant: dict[str, Any]) -> None:
    inventory_store.delete_item(ctx, variant["inventoryItemId"])
    metafield_store.delete_owner(ctx, variant["id"])
    ctx.store.delete(ctx.shop, variant["id"])


def delete_product_by_hand(ctx: Ctx, product_id: str) -> list[str]:
    """Control (not Shopify's API: the app never deletes a product): a person deletes the product in
    the Shopify admin. It goes with its variants, their inventory items and its metafields, and
    Shopify sends products/delete ({"id": <number>}) to the apps subscribed; the deliveries' ids."""
    for variant in variants_of(ctx, product_id):
        delete_variant(ctx, variant)
    metafield_store.delete_owner(ctx, product_id)
    ctx.store.delete(ctx.shop, product_id)
    return ctx.sandbox.emit(ctx.shop, "products/delete", {"id": num_of(product_id)})
