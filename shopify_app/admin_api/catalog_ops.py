"""Product, variant, metafield, price-list and market operations of the Admin client."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import (
    Catalog,
    CatalogVariant,
    Market,
    Metafield,
    PriceList,
    ProductRef,
    ProductSetResult,
    VariantRef,
    parse_catalog,
    parse_catalog_variant,
    parse_market,
    parse_metafield,
    parse_price_list,
    parse_product,
    parse_product_set,
    parse_variant,
    variant_ids_of_prices,
)

MAX_METAFIELDS_PER_CALL = 25
MAX_PRICES_PER_CALL = 250
MARKETS_PAGE_SIZE = 100
MAX_NODES = 250  # ids per nodes(ids:) call
# CatalogVariants asks 4 points a variant (itself, its product, the custom id, the channel count):
# 250 a page would ask 1,002, over Shopify's ceiling of 1,000, and be halved to 125 a page.
CATALOG_PAGE = 240
ONLINE_STORE = "Online Store"


def online_store(publications: Sequence[tuple[str, str | None]]) -> str | None:
    """The Online Store's publication among (id, catalog title) pairs: the APP publication whose
    catalog title is "Online Store" (the channel's own name, which Shopify does not translate)."""
    for pid, title in publications:
        if (title or "").strip().lower() == ONLINE_STORE.lower():
            return pid
    return None


def sku_query(sku: str) -> str:
    """Shopify search syntax for an exact SKU (quotes and backslashes escaped)."""
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    return f'sku:"{escaped}"'


class CatalogOperations:
    executor: Executor

    # ---- products -------------------------------------------------------------------------

    def product_set(
        self,
        product: dict[str, Any],
        *,
        custom_id: tuple[str, str, str] | None = None,
        handle: str | None = None,
        product_id: str | None = None,
        resend: bool = True,
    ) -> ProductSetResult:
        """Upsert a product with its variants (synchronous). Identify it by custom id
        (namespace, key, value), handle or id; `product` is a ProductSetInput without `id`.
        Lists in the input replace Shopify's whole (what is left out is deleted). `resend=False`:
        not sent again after a lost answer (Executor.execute)."""
        identifier: dict[str, Any] | None = None
        variables: dict[str, Any] = {}
        if custom_id is not None:
            namespace, key, value = custom_id
            identifier = {"customId": {"namespace": namespace, "key": key, "value": value}}
            variables = {"idNamespace": namespace, "idKey": key}  # the answer's customId: this one
        elif handle is not None:
            identifier = {"handle": handle}
        elif product_id is not None:
            identifier = {"id": product_id}
        payload = self.executor.mutate(
            "ProductSet",
            {"identifier": identifier, "input": product, **variables},
            "productSet",
            resend=resend,
        )
        return parse_product_set(payload)

    def publications(self) -> list[tuple[str, str | None]]:
        """The shop's sales-channel publications: (id, its catalog's title, e.g. "Online Store")."""
        found = paginate(self.executor, "Publications", ("publications",))
        return [(raw["id"], (raw.get("catalog") or {}).get("title")) for raw in found]

    def publish(self, resource_id: str, publication_ids: Sequence[str]) -> None:
        """Publish a product (or collection) to these publications (publishablePublish): a product
        productSet created is on no sales channel until then, whatever its status."""
        self.executor.mutate(
            "PublishablePublish",
            {"id": resource_id, "input": [{"publicationId": p} for p in publication_ids]},
            "publishablePublish",
        )

    def published_on(self, product_ids: Sequence[str], publication_id: str) -> set[str]:
        """Which of these products are published to this publication (`nodes`, 250 ids a call; a
        product Shopify no longer has is in none)."""
        found: set[str] = set()
        ids = list(product_ids)
        for start in range(0, len(ids), MAX_NODES):
            data = self.executor.query(
                "ProductsPublished", {"ids": ids[start : start + MAX_NODES], "publication": publication_id}
            )
            found.update(n["id"] for n in data.get("nodes") or [] if n and n.get("publishedOnPublication"))
        return found

    def variants_bulk_update(
        self, product_id: str, variants: Sequence[dict[str, Any]], *, allow_partial_updates: bool = False
    ) -> list[VariantRef]:
        """Update variants of one product (sku goes through inventoryItem.sku)."""
        payload = self.executor.mutate(
            "ProductVariantsBulkUpdate",
            {
                "productId": product_id,
                "variants": list(variants),
                "allowPartialUpdates": allow_partial_updates,
            },
            "productVariantsBulkUpdate",
        )
        return [parse_variant(v) for v in payload.get("productVariants") or []]

    def catalog_variants(self, query: str | None = None) -> Iterator[CatalogVariant]:
        """Variants matching a search query (None: every variant of the shop), with their product's
        title and custom id, page after page (jobs/catalog_adopt.py)."""
        variables = {"query": query} if query else {}
        found = paginate(
            self.executor, "CatalogVariants", ("productVariants",), variables, first=CATALOG_PAGE
        )
        for raw in found:
            yield parse_catalog_variant(raw)

    def product_by_custom_id(self, namespace: str, key: str, value: str) -> ProductRef | None:
        data = self.executor.query(
            "ProductByIdentifier",
            {"identifier": {"customId": {"namespace": namespace, "key": key, "value": value}}},
        )
        raw = data.get("productByIdentifier")
        return parse_product(raw) if raw else None

    def product_by_handle(self, handle: str) -> ProductRef | None:
        raw = self.executor.query("ProductByIdentifier", {"identifier": {"handle": handle}}).get(
            "productByIdentifier"
        )
        return parse_product(raw) if raw else None

    def variants_by_sku(self, sku: str) -> list[VariantRef]:
        """Every variant whose SKU is exactly `sku` (SKUs are not unique in Shopify)."""
        found = paginate(
            self.executor, "ProductVariantsBySku", ("productVariants",), {"query": sku_query(sku)}
        )
        return [v for v in (parse_variant(raw) for raw in found) if v.sku == sku]

    # ---- metafields ---------------------------------------------------------------------------

    def ensure_metafield_definition(
        self, namespace: str, key: str, name: str, *, owner_type: str = "PRODUCT", type_name: str = "id"
    ) -> str | None:
        """Create the definition (e.g. the custom id, type `id`); None when it already exists."""
        definition = {
            "namespace": namespace,
            "key": key,
            "name": name,
            "ownerType": owner_type,
            "type": type_name,
        }
        try:
            payload = self.executor.mutate(
                "MetafieldDefinitionCreate", {"definition": definition}, "metafieldDefinitionCreate"
            )
        except ShopifyUserErrors as exc:
            if exc.codes == {"TAKEN"}:
                return None
            raise
        return (payload.get("createdDefinition") or {}).get("id")

    def metafields_set(self, metafields: Sequence[dict[str, Any]]) -> list[Metafield]:
        """Set up to 25 metafields atomically: [{ownerId, namespace, key, type, value}]."""
        if not 0 < len(metafields) <= MAX_METAFIELDS_PER_CALL:
            raise ValueError(f"metafieldsSet takes 1..{MAX_METAFIELDS_PER_CALL} metafields (atomic per call)")
        payload = self.executor.mutate("MetafieldsSet", {"metafields": list(metafields)}, "metafieldsSet")
        return [parse_metafield(m) for m in payload.get("metafields") or []]

    def metafields_delete(self, metafields: Sequence[dict[str, str]]) -> int:
        """Delete metafields by identifier ([{ownerId, namespace, key}]); how many existed and went
        (one not found is no error: it is already gone)."""
        if not metafields:
            return 0
        variables = {"metafields": list(metafields)}
        payload = self.executor.mutate("MetafieldsDelete", variables, "metafieldsDelete")
        return sum(1 for m in payload.get("deletedMetafields") or [] if m)

    # ---- prices, catalogs, markets ------------------------------------------------------------------

    def price_list_create(self, name: str, currency: str, *, catalog_id: str | None = None) -> PriceList:
        """A price list whose unlisted variants keep the base price (0% adjustment)."""
        payload = self.executor.mutate(
            "PriceListCreate",
            {
                "input": {
                    "name": name,
                    "currency": currency,
                    "catalogId": catalog_id,
                    "parent": {"adjustment": {"type": "PERCENTAGE_DECREASE", "value": 0}},
                }
            },
            "priceListCreate",
        )
        return parse_price_list(payload.get("priceList") or {})

    def price_list_fixed_prices_add(self, price_list_id: str, prices: Sequence[dict[str, Any]]) -> list[str]:
        """Fixed prices [{variantId, price: {amount, currencyCode}, compareAtPrice}] (<= 250)."""
        _check_prices(prices)
        payload = self.executor.mutate(
            "PriceListFixedPricesAdd",
            {"priceListId": price_list_id, "prices": list(prices)},
            "priceListFixedPricesAdd",
        )
        return variant_ids_of_prices(payload.get("prices"))

    def price_list_fixed_prices_update(
        self,
        price_list_id: str,
        prices_to_add: Sequence[dict[str, Any]],
        variant_ids_to_delete: Sequence[str] = (),
    ) -> list[str]:
        _check_prices(prices_to_add)
        payload = self.executor.mutate(
            "PriceListFixedPricesUpdate",
            {
                "priceListId": price_list_id,
                "pricesToAdd": list(prices_to_add),
                "variantIdsToDelete": list(variant_ids_to_delete),
            },
            "priceListFixedPricesUpdate",
        )
        return variant_ids_of_prices(payload.get("pricesAdded"))

    def price_list_fixed_prices_delete(self, price_list_id: str, variant_ids: Sequence[str]) -> list[str]:
        """Remove the fixed prices of these variants (1..250): they fall back to the list's
        adjustment. A variant holding no fixed price there is a VARIANT_NOT_FOUND userError."""
        if not 0 < len(variant_ids) <= MAX_PRICES_PER_CALL:
            raise ValueError(
                f"priceListFixedPricesDelete takes 1..{MAX_PRICES_PER_CALL} variant ids per call"
            )
        payload = self.executor.mutate(
            "PriceListFixedPricesDelete",
            {"priceListId": price_list_id, "variantIds": list(variant_ids)},
            "priceListFixedPricesDelete",
        )
        return [str(v) for v in payload.get("deletedFixedPriceVariantIds") or []]

    def catalog_create(
        self,
        title: str,
        market_ids: Sequence[str],
        *,
        price_list_id: str | None = None,
        status: str = "ACTIVE",
    ) -> Catalog:
        payload = self.executor.mutate(
            "CatalogCreate",
            {
                "input": {
                    "title": title,
                    "status": status,
                    "context": {"marketIds": list(market_ids)},
                    "priceListId": price_list_id,
                }
            },
            "catalogCreate",
        )
        return parse_catalog(payload.get("catalog") or {})

    def market_catalogs(self, market_id: str) -> list[Catalog]:
        """The market's catalogs (the merchant's and the app's), each with its price list's id and
        currency: what a market's price lists are (Market.priceList is deprecated for `catalogs`)."""
        path, variables = ("market", "catalogs"), {"id": market_id}
        found = paginate(self.executor, "MarketCatalogs", path, variables, first=MARKETS_PAGE_SIZE)
        return [parse_catalog(raw) for raw in found]

    def markets(self) -> Iterator[Market]:
        # 100 a page, as MarketCatalogs; a shop has far fewer markets than that. Its price lists
        # are its catalogs' (market_catalogs).
        for raw in paginate(self.executor, "Markets", ("markets",), first=MARKETS_PAGE_SIZE):
            yield parse_market(raw)


def _check_prices(prices: Sequence[dict[str, Any]]) -> None:
    if len(prices) > MAX_PRICES_PER_CALL:
        raise ValueError(f"price list calls take at most {MAX_PRICES_PER_CALL} prices")
