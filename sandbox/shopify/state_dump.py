"""What a merchant would see in the admin, as JSON: products with variants and stock per
location, locations, price lists, bulk operations (for tests, the demo and the HTML page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.shopify import catalog, inventory_store, metafield_store
from sandbox.shopify.registry import Ctx

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox


def dump(sandbox: Sandbox, shop: str, limit: int | None = None) -> dict[str, Any]:
    """The shop's state; `limit` caps the number of products."""
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    store = sandbox.store
    locations = store.scan(shop, "Location")
    names = {loc["id"]: loc["name"] for loc in locations}
    products = []
    for product in store.scan(shop, "Product", limit=limit):
        variants = []
        for variant in catalog.variants_of(ctx, product["id"]):
            levels = inventory_store.levels_of_item(ctx, variant["inventoryItemId"])
            variants.append(
                {
                    "id": variant["id"],
                    "title": variant["title"],
                    "sku": variant["sku"],
                    "barcode": variant["barcode"],
                    "price": variant["price"],
                    "compareAtPrice": variant["compareAtPrice"],
                    "inventoryItemId": variant["inventoryItemId"],
                    "inventory": {
                        names.get(lv["locationId"], lv["locationId"]): lv["quantityValues"] for lv in levels
                    },
                }
            )
        products.append(
            {
                "id": product["id"],
                "title": product["title"],
                "handle": product["handle"],
                "status": product["status"],
                "updatedAt": product["updatedAt"],
                "metafields": {
                    f"{m['namespace']}.{m['key']}": m["value"]
                    for m in metafield_store.for_owner(ctx, product["id"])
                },
                "variants": variants,
            }
        )
    price_lists = [
        {
            "id": pl["id"],
            "name": pl["name"],
            "currency": pl["currency"],
            "prices": {
                p["variantId"]: p["price"]["amount"] for p in store.find(shop, "price.list", pl["id"])
            },
        }
        for pl in store.scan(shop, "PriceList")
    ]
    record = sandbox.shops.get(shop) or {}
    return {
        "shop": shop,
        "tier": record.get("tier"),
        "staff": [
            {"handle": m["handle"], "id": m["id"], "name": m["name"], "owner": m["isShopOwner"]}
            for m in record.get("staff", [])
        ],
        "locations": [
            {"id": loc["id"], "name": loc["name"], "isActive": loc["isActive"]} for loc in locations
        ],
        "counts": {
            k: store.count(shop, k) for k in ("Product", "ProductVariant", "InventoryLevel", "Metafield")
        },
        "products": products,
        "priceLists": price_lists,
        "catalogs": store.scan(shop, "MarketCatalog"),
        "markets": [{"id": m["id"], "name": m["name"]} for m in store.scan(shop, "Market")],
        "bulkOperations": [
            {k: op[k] for k in ("id", "status", "objectCount", "url", "errorCode")}
            for op in store.scan(shop, "BulkOperation")
        ],
    }
