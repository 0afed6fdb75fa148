"""Typed results of the operations the flows use, parsed by pure functions from response data.

Why: flows must not dig through raw GraphQL dicts (a renamed field would break them silently);
each parser reads exactly the fields its .graphql document selects and fails loudly
(UnexpectedResponse) when a required one is missing. Orders live in order_results.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shopify_app.admin_api.errors import UnexpectedResponse, UserError

FINISHED_BULK_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
# A product's fields the ERP owns, by their ProductSetInput names (what jobs.catalog_map sends).
OWNED_PRODUCT_FIELDS = ("title", "status", "vendor", "productType", "descriptionHtml")


def require(obj: dict[str, Any] | None, key: str, where: str) -> Any:
    """obj[key], or UnexpectedResponse naming the field (null counts as missing)."""
    if not isinstance(obj, dict) or obj.get(key) is None:
        raise UnexpectedResponse(f"Shopify's answer has no {where}.{key}")
    return obj[key]


def search_time(moment: str) -> str:
    """An ISO time as a search query's value (`updated_at:>='...'`): UTC, whole seconds, `Z`, as
    Shopify's own examples write it; the fraction dropped (floored), so a >= still re-reads the
    boundary. A time with no zone is taken as UTC."""
    when = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def nodes(connection: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The `nodes` of a connection (an absent connection is empty)."""
    return list((connection or {}).get("nodes") or [])


def gid(obj: dict[str, Any] | None) -> str | None:
    """`obj.id` of a nested `{id}` selection, or None."""
    return obj.get("id") if isinstance(obj, dict) else None


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_user_errors(raw: list[dict[str, Any]] | None) -> list[UserError]:
    """A payload's userErrors as typed entries (field path, message, code, element index)."""
    return [
        UserError(
            field=tuple(str(part) for part in (item.get("field") or [])),
            message=str(item.get("message", "")),
            code=item.get("code"),
            element_index=item.get("elementIndex"),
        )
        for item in raw or []
    ]


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def parse_money_bag(bag: dict[str, Any] | None) -> Money | None:
    """The shop-currency side of a MoneyBag (the currency the ERP books in)."""
    shop = (bag or {}).get("shopMoney")
    if not shop:
        return None
    return Money(Decimal(str(shop["amount"])), shop["currencyCode"])


# ---- products and variants ----------------------------------------------------------------


@dataclass(frozen=True)
class VariantRef:
    """What a flow keeps about a variant: the ids that bind it to the ERP SKU."""

    id: str
    sku: str | None
    barcode: str | None
    price: Decimal | None
    compare_at_price: Decimal | None
    inventory_item_id: str | None
    product_id: str | None


def parse_variant(raw: dict[str, Any]) -> VariantRef:
    return VariantRef(
        id=require(raw, "id", "variant"),
        sku=raw.get("sku") or None,
        barcode=raw.get("barcode") or None,
        price=decimal_or_none(raw.get("price")),
        compare_at_price=decimal_or_none(raw.get("compareAtPrice")),
        inventory_item_id=gid(raw.get("inventoryItem")),
        product_id=gid(raw.get("product")),
    )


@dataclass(frozen=True)
class CatalogVariant:
    """A variant as the catalog's look-up of products already in Shopify reads it (CatalogVariants)."""

    id: str
    sku: str | None
    barcode: str | None
    product_id: str
    product_title: str
    custom_id: str | None  # the product's custom-id metafield (None: it has none)
    bundle: bool = False  # requiresComponents: a bundle's variant, made of other variants
    channels: int | None = None  # how many sales channels the product is on (None: not read)


def parse_catalog_variant(raw: dict[str, Any]) -> CatalogVariant:
    product = raw.get("product") or {}
    return CatalogVariant(
        id=require(raw, "id", "variant"),
        sku=raw.get("sku") or None,
        barcode=raw.get("barcode") or None,
        product_id=require(product, "id", "product"),
        product_title=product.get("title") or "",
        custom_id=(product.get("customId") or {}).get("value") or None,
        bundle=bool(raw.get("requiresComponents")),
        channels=(product.get("resourcePublicationsCount") or {}).get("count"),
    )


@dataclass(frozen=True)
class ProductRef:
    id: str
    handle: str | None
    variants: list[VariantRef]
    custom_id: str | None = None  # the custom-id metafield's value, where the answer asked for it
    # The OWNED_PRODUCT_FIELDS the answer carried, as Shopify holds them ("" for null).
    owned: dict[str, str] = field(default_factory=dict)

    def variant_by_sku(self, sku: str) -> VariantRef | None:
        return next((v for v in self.variants if v.sku == sku), None)


def parse_product(raw: dict[str, Any]) -> ProductRef:
    return ProductRef(
        id=require(raw, "id", "product"),
        handle=raw.get("handle"),
        variants=[parse_variant(v) for v in nodes(raw.get("variants"))],
        custom_id=(raw.get("customId") or {}).get("value"),
        owned=owned_fields(raw),
    )


def owned_fields(raw: dict[str, Any]) -> dict[str, str]:
    """The OWNED_PRODUCT_FIELDS a product's answer carries ("" for null)."""
    return {name: str(raw.get(name) or "") for name in OWNED_PRODUCT_FIELDS if name in raw}


@dataclass(frozen=True)
class ProductSetResult:
    """productSet (synchronous): the upserted product with its variants."""

    product: ProductRef


def parse_product_set(payload: dict[str, Any]) -> ProductSetResult:
    return ProductSetResult(product=parse_product(require(payload, "product", "productSet")))


@dataclass(frozen=True)
class Metafield:
    namespace: str
    key: str
    value: str
    id: str | None = None
    type: str | None = None


def parse_metafield(raw: dict[str, Any]) -> Metafield:
    return Metafield(raw["namespace"], raw["key"], raw.get("value", ""), raw.get("id"), raw.get("type"))


# ---- inventory and locations ----------------------------------------------------------------


@dataclass(frozen=True)
class InventoryLevel:
    """Quantities by name ("available", "on_hand", ...) of one item at one location."""

    inventory_item_id: str
    location_id: str
    quantities: dict[str, int]
    id: str | None = None
    sku: str | None = None


def parse_inventory_level(raw: dict[str, Any], item_id: str, sku: str | None = None) -> InventoryLevel:
    return InventoryLevel(
        inventory_item_id=gid(raw.get("item")) or item_id,
        location_id=require(raw.get("location"), "id", "inventoryLevel.location"),
        quantities={q["name"]: int(q["quantity"]) for q in raw.get("quantities") or []},
        id=raw.get("id"),
        sku=sku,
    )


def parse_inventory_items(items: list[dict[str, Any]]) -> list[InventoryLevel]:
    """inventoryItems nodes flattened to one level per (item, location)."""
    levels = []
    for item in items:
        for level in nodes(item.get("inventoryLevels")):
            levels.append(parse_inventory_level(level, item["id"], item.get("sku")))
    return levels


@dataclass(frozen=True)
class InventoryChange:
    inventory_item_id: str | None
    location_id: str | None
    name: str
    delta: int
    quantity_after: int | None


@dataclass(frozen=True)
class InventoryAdjustment:
    """inventorySetQuantities: the adjustment group Shopify recorded (None when nothing changed)."""

    id: str | None
    reason: str | None
    changes: list[InventoryChange] = field(default_factory=list)


def parse_inventory_adjustment(payload: dict[str, Any]) -> InventoryAdjustment:
    group = payload.get("inventoryAdjustmentGroup")
    if not group:
        return InventoryAdjustment(id=None, reason=None)
    return InventoryAdjustment(
        id=group.get("id"),
        reason=group.get("reason"),
        changes=[
            InventoryChange(
                inventory_item_id=gid(c.get("item")),
                location_id=gid(c.get("location")),
                name=c["name"],
                delta=int(c["delta"]),
                quantity_after=c.get("quantityAfterChange"),
            )
            for c in group.get("changes") or []
        ],
    )


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    is_active: bool
    fulfills_online_orders: bool
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = None


def parse_location(raw: dict[str, Any]) -> Location:
    address = raw.get("address") or {}
    return Location(
        id=require(raw, "id", "location"),
        name=raw.get("name", ""),
        is_active=bool(raw.get("isActive", True)),
        fulfills_online_orders=bool(raw.get("fulfillsOnlineOrders", False)),
        city=address.get("city"),
        province_code=address.get("provinceCode"),
        zip=address.get("zip"),
        country_code=address.get("countryCode"),
    )


# ---- prices, catalogs, markets ------------------------------------------------------------------


@dataclass(frozen=True)
class PriceList:
    id: str
    name: str
    currency: str


@dataclass(frozen=True)
class Catalog:
    id: str
    title: str
    status: str
    price_list_id: str | None = None  # when the selection asked for its priceList
    price_list_currency: str | None = None  # the list's currency, when asked for


@dataclass(frozen=True)
class Market:
    """A market; its price lists are its catalogs' (CatalogOperations.market_catalogs: the
    market's own `priceList` field is deprecated for `catalogs`)."""

    id: str
    name: str
    handle: str
    status: str
    currency: str | None = None  # its base currency (currencySettings): what it sells in


def parse_price_list(raw: dict[str, Any]) -> PriceList:
    return PriceList(require(raw, "id", "priceList"), raw.get("name", ""), raw.get("currency", ""))


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    price_list = raw.get("priceList") or {}
    return Catalog(
        require(raw, "id", "catalog"),
        raw.get("title", ""),
        raw.get("status", ""),
        gid(raw.get("priceList")),
        price_list.get("currency"),
    )


def parse_market(raw: dict[str, Any]) -> Market:
    return Market(
        id=require(raw, "id", "market"),
        name=raw.get("name", ""),
        handle=raw.get("handle", ""),
        status=raw.get("status", ""),
        currency=((raw.get("currencySettings") or {}).get("baseCurrency") or {}).get("currencyCode"),
    )


def variant_ids_of_prices(prices: list[dict[str, Any]] | None) -> list[str]:
    """Variant ids of priceListFixedPricesAdd/Update's `prices` / `pricesAdded`."""
    return [gid(p.get("variant")) or "" for p in prices or []]


# ---- jobs, bulk operations, uploads, webhooks ---------------------------------------------------


@dataclass(frozen=True)
class Job:
    """An asynchronous Shopify job (orderCancel): poll `job(id)` until done."""

    id: str
    done: bool


def parse_job(raw: dict[str, Any]) -> Job:
    return Job(id=require(raw, "id", "job"), done=bool(raw.get("done")))


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    type: str | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    url: str | None = None
    partial_data_url: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    query: str | None = None  # the bulk mutation (or query) it runs

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_BULK_STATUSES


def parse_bulk_operation(raw: dict[str, Any]) -> BulkOperation:
    return BulkOperation(
        id=require(raw, "id", "bulkOperation"),
        status=require(raw, "status", "bulkOperation"),
        type=raw.get("type"),
        error_code=raw.get("errorCode"),
        object_count=int(raw.get("objectCount") or 0),
        root_object_count=int(raw.get("rootObjectCount") or 0),
        url=raw.get("url"),
        partial_data_url=raw.get("partialDataUrl"),
        created_at=raw.get("createdAt"),
        completed_at=raw.get("completedAt"),
        query=raw.get("query"),
    )


@dataclass(frozen=True)
class StagedTarget:
    """Where to upload a file: a form POST to `url` with `parameters`, then `resource_url`'s key."""

    url: str
    resource_url: str | None
    parameters: list[tuple[str, str]]

    @property
    def staged_upload_path(self) -> str:
        """The `key` parameter: what bulkOperationRunMutation's stagedUploadPath wants."""
        for name, value in self.parameters:
            if name == "key":
                return value
        raise UnexpectedResponse("staged upload target has no 'key' parameter")


def parse_staged_target(raw: dict[str, Any]) -> StagedTarget:
    return StagedTarget(
        url=require(raw, "url", "stagedTarget"),
        resource_url=raw.get("resourceUrl"),
        parameters=[(p["name"], p["value"]) for p in raw.get("parameters") or []],
    )


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    topic: str
    uri: str | None


def parse_webhook_subscription(raw: dict[str, Any]) -> WebhookSubscription:
    return WebhookSubscription(
        require(raw, "id", "webhookSubscription"), raw.get("topic", ""), raw.get("uri")
    )
