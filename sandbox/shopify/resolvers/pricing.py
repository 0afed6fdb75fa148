"""Price lists, fixed prices and catalogs (per-market prices): priceListCreate / Delete,
priceListFixedPricesAdd / Update / Delete (<= 250 per call, enforced by cost.py), catalogCreate,
markets. A market sells in its base currency (currencySettings; BRL unless set otherwise): a
price list joins a market catalog only in that currency, as Shopify refuses any other."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import catalog
from sandbox.shopify.connections import connection
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, field, mutation, query, user_error
from sandbox.shopify.search_query import Term, compare, matches

SHOP_CURRENCY = "BRL"
CURRENCY_NAMES = {"BRL": "Brazilian Real", "USD": "US Dollar", "EUR": "Euro"}


def currency_settings(code: str = SHOP_CURRENCY) -> dict:
    """A Market's currencySettings (MarketCurrencySettings): its base currency `code`."""
    return {
        "baseCurrency": {
            "currencyCode": code,
            "currencyName": CURRENCY_NAMES.get(code, code),
            "enabled": True,
            "manualRate": None,
            "rateUpdatedAt": None,
        },
        "localCurrencies": False,
        "roundingEnabled": True,
    }


def market_currency(market: dict) -> str:
    """The market's base currency: the shop's (BRL) for a market stored before it had one."""
    return (market.get("currencySettings") or currency_settings())["baseCurrency"]["currencyCode"]


def _doc(ctx: Ctx, object_id: str | None, *typenames: str) -> dict | None:
    doc = ctx.store.get(ctx.shop, object_id)
    return doc if doc and doc.get("__typename") in typenames else None


def _prices(ctx: Ctx, price_list_id: str) -> list[dict]:
    return ctx.store.find(ctx.shop, "price.list", price_list_id)


@query("priceList")
def resolve_price_list(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _doc(info.context, id, "PriceList")


@query("priceLists")
def resolve_price_lists(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(info.context.store.scan(info.context.shop, "PriceList"), args)


@query("markets")
def resolve_markets(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(info.context.store.scan(info.context.shop, "Market"), args)


@query("market")
def resolve_market(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _doc(info.context, id, "Market")


@query("catalogs")
def resolve_catalogs(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(info.context.store.scan(info.context.shop, "MarketCatalog"), args)


@query("catalog")
def resolve_catalog(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _doc(info.context, id, "MarketCatalog")


@field("PriceList", "prices")
def price_list_prices(price_list: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    """The list's prices: fixed ones only (the sandbox computes no relative price: `originType:
    RELATIVE` finds none), filtered by `query` on variant_id and product_id as Shopify's is (other
    fields are not filtered on)."""
    ctx: Ctx = info.context
    found = [] if args.get("originType") == "RELATIVE" else _prices(ctx, price_list["id"])
    if args.get("query"):
        found = [p for p in found if matches(args["query"], lambda terms, p=p: _price_matches(ctx, p, terms))]
    return connection(found, args)


def _price_matches(ctx: Ctx, price: dict, terms: list[Term]) -> bool:
    for term in terms:
        if term.field == "variant_id" and not compare(num_of(price["variantId"]), term.op, term.value):
            return False
        if term.field == "product_id":
            variant = ctx.store.get(ctx.shop, price["variantId"]) or {}
            if not compare(num_of(variant.get("productId")), term.op, term.value):
                return False
    return True


@field("PriceList", "fixedPricesCount")
def price_list_fixed_prices_count(price_list: dict, info: GraphQLResolveInfo) -> int:
    return len(_prices(info.context, price_list["id"]))


@field("PriceList", "catalog")
def price_list_catalog(price_list: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.find_one(info.context.shop, "catalog.price_list", price_list["id"])


@field("PriceListPrice", "variant")
def price_variant(price: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, price["variantId"])


@field("MarketCatalog", "priceList")
def catalog_price_list(market_catalog: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, market_catalog.get("priceListId"))


@field("MarketCatalog", "markets")
def catalog_markets(market_catalog: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    return connection(
        [m for m in (ctx.store.get(ctx.shop, i) for i in market_catalog["marketIds"]) if m], args
    )


@field("Market", "currencySettings")
def market_currency_settings(market: dict, info: GraphQLResolveInfo) -> dict:
    return market.get("currencySettings") or currency_settings()


def _currency_mismatch(ctx: Ctx, market_ids: list[str], currency: str) -> bool:
    """Shopify takes a market catalog's price list only in the market's currency."""
    markets = (_doc(ctx, i, "Market") for i in market_ids)
    return any(m is not None and market_currency(m) != currency for m in markets)


@field("Market", "catalogs")
def market_catalogs(market: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    """The market's catalogs in id order, each with its own priceList (null when it has none):
    what replaces the deprecated Market.priceList."""
    return connection(info.context.store.find(info.context.shop, "catalog.market", market["id"]), args)


@field("Market", "catalogsCount")
def market_catalogs_count(market: dict, info: GraphQLResolveInfo) -> dict:
    return {"count": len(info.context.store.find(info.context.shop, "catalog.market", market["id"])),
            "precision": "EXACT"}  # fmt: skip


@mutation("priceListCreate")
def price_list_create(_src: Any, info: GraphQLResolveInfo, input: dict) -> dict:
    ctx: Ctx = info.context
    if not input.get("name"):
        return {
            "priceList": None,
            "userErrors": [user_error(["input", "name"], "Name can't be blank", "BLANK")],
        }
    if ctx.store.find_one(ctx.shop, "price_list.name", input["name"]):
        return {
            "priceList": None,
            "userErrors": [user_error(["input", "name"], "Name has already been taken", "TAKEN")],
        }
    catalog_doc = _doc(ctx, input.get("catalogId"), "MarketCatalog") if input.get("catalogId") else None
    if input.get("catalogId") and catalog_doc is None:
        return {
            "priceList": None,
            "userErrors": [user_error(["input", "catalogId"], "Catalog not found", "CATALOG_DOES_NOT_EXIST")],
        }
    if catalog_doc is not None and _currency_mismatch(ctx, catalog_doc["marketIds"], input["currency"]):
        return {
            "priceList": None,
            "userErrors": [
                user_error(
                    ["input", "currency"],
                    "A price list’s currency must be the market currency.",
                    "CURRENCY_MARKET_MISMATCH",
                )
            ],
        }
    parent = input.get("parent")
    doc = {
        "__typename": "PriceList",
        "id": ctx.store.new_gid("PriceList"),
        "name": input["name"],
        "currency": input["currency"],
        "parent": {
            "adjustment": parent["adjustment"],
            "settings": parent.get("settings") or {"compareAtMode": "ADJUSTED"},
        }
        if parent
        else None,
    }
    ctx.store.put(ctx.shop, doc, keys={"price_list.name": input["name"]})
    if catalog_doc is not None:
        catalog_doc["priceListId"] = doc["id"]
        _save_catalog(ctx, catalog_doc)
    return {"priceList": doc, "userErrors": []}


@mutation("priceListDelete")
def price_list_delete(_src: Any, info: GraphQLResolveInfo, id: str) -> dict:
    """The list and its fixed prices go; a catalog that had it keeps on without one (its market
    shows the base prices), as the admin's "Delete price list" does."""
    ctx: Ctx = info.context
    if _doc(ctx, id, "PriceList") is None:
        return {
            "deletedId": None,
            "userErrors": [user_error(["id"], "Price list not found.", "PRICE_LIST_NOT_FOUND")],
        }
    for price in _prices(ctx, id):
        ctx.store.delete(ctx.shop, price["id"])
    for market_catalog in ctx.store.find(ctx.shop, "catalog.price_list", id):
        market_catalog["priceListId"] = None
        _save_catalog(ctx, market_catalog)
    ctx.store.delete(ctx.shop, id)
    return {"deletedId": id, "userErrors": []}


def _price_problems(ctx: Ctx, price_list: dict, prices: list[dict], path: str) -> list[dict]:
    problems = []
    for index, price in enumerate(prices):
        if _doc(ctx, price["variantId"], "ProductVariant") is None:
            problems.append(
                user_error([path, str(index), "variantId"], "Variant not found.", "VARIANT_NOT_FOUND")
            )
        for name in ("price", "compareAtPrice"):
            money = price.get(name)
            if money and money["currencyCode"] != price_list["currency"]:
                problems.append(
                    user_error(
                        [path, str(index), name],
                        "The price currency must match the price list's currency.",
                        "PRICE_LIST_CURRENCY_MISMATCH",
                    )
                )
    return problems


def _upsert_prices(ctx: Ctx, price_list: dict, prices: list[dict]) -> list[dict]:
    written = []
    for price in prices:
        pair = f"{price_list['id']}|{price['variantId']}"
        doc = ctx.store.find_one(ctx.shop, "price.pair", pair) or {
            "__typename": "PriceListPrice",
            "id": ctx.store.new_gid("PriceListPrice"),
            "variantId": price["variantId"],
            "originType": "FIXED",
            "quantityPriceBreaks": None,
        }
        doc["price"] = {
            "amount": catalog.money(price["price"]["amount"]),
            "currencyCode": price["price"]["currencyCode"],
        }
        compare = price.get("compareAtPrice")
        doc["compareAtPrice"] = (
            {"amount": catalog.money(compare["amount"]), "currencyCode": compare["currencyCode"]}
            if compare
            else None
        )
        written.append(
            ctx.store.put(ctx.shop, doc, keys={"price.list": price_list["id"], "price.pair": pair})
        )
    return written


@mutation("priceListFixedPricesAdd")
def price_list_fixed_prices_add(
    _src: Any, info: GraphQLResolveInfo, priceListId: str, prices: list[dict]
) -> dict:
    ctx: Ctx = info.context
    price_list = _doc(ctx, priceListId, "PriceList")
    if price_list is None:
        return {
            "prices": None,
            "userErrors": [user_error(["priceListId"], "Price list not found.", "PRICE_LIST_NOT_FOUND")],
        }
    problems = _price_problems(ctx, price_list, prices, "prices")
    if problems:
        return {"prices": None, "userErrors": problems}
    return {"prices": _upsert_prices(ctx, price_list, prices), "userErrors": []}


@mutation("priceListFixedPricesUpdate")
def price_list_fixed_prices_update(
    _src: Any,
    info: GraphQLResolveInfo,
    priceListId: str,
    pricesToAdd: list[dict],
    variantIdsToDelete: list[str],
) -> dict:
    ctx: Ctx = info.context
    price_list = _doc(ctx, priceListId, "PriceList")
    empty = {"priceList": None, "pricesAdded": None, "deletedFixedPriceVariantIds": None}
    if price_list is None:
        return {
            **empty,
            "userErrors": [user_error(["priceListId"], "Price list not found.", "PRICE_LIST_NOT_FOUND")],
        }
    problems = _price_problems(ctx, price_list, pricesToAdd, "pricesToAdd")
    if problems:
        return {**empty, "userErrors": problems}
    added = _upsert_prices(ctx, price_list, pricesToAdd)
    deleted = []
    for variant_id in variantIdsToDelete:
        found = ctx.store.find_one(ctx.shop, "price.pair", f"{priceListId}|{variant_id}")
        if found:
            ctx.store.delete(ctx.shop, found["id"])
            deleted.append(variant_id)
    return {
        "priceList": price_list,
        "pricesAdded": added,
        "deletedFixedPriceVariantIds": deleted,
        "userErrors": [],
    }


@mutation("priceListFixedPricesDelete")
def price_list_fixed_prices_delete(
    _src: Any, info: GraphQLResolveInfo, priceListId: str, variantIds: list[str]
) -> dict:
    """All or nothing, like priceListFixedPricesAdd here: a variant the list holds no fixed price
    for is named (VARIANT_NOT_FOUND, field ["variantIds", i]) and nothing is deleted."""
    ctx: Ctx = info.context
    if _doc(ctx, priceListId, "PriceList") is None:
        return {
            "deletedFixedPriceVariantIds": None,
            "userErrors": [user_error(["priceListId"], "Price list not found.", "PRICE_LIST_NOT_FOUND")],
        }
    found = [ctx.store.find_one(ctx.shop, "price.pair", f"{priceListId}|{v}") for v in variantIds]
    problems = [
        user_error(
            ["variantIds", str(index)],
            "A fixed price for the specified product variant doesn't exist.",
            "VARIANT_NOT_FOUND",
        )
        for index, doc in enumerate(found)
        if doc is None
    ]
    if problems:
        return {"deletedFixedPriceVariantIds": None, "userErrors": problems}
    for doc in found:
        assert doc is not None
        ctx.store.delete(ctx.shop, doc["id"])
    return {"deletedFixedPriceVariantIds": list(variantIds), "userErrors": []}


def _save_catalog(ctx: Ctx, doc: dict) -> None:
    ctx.store.put(
        ctx.shop, doc, keys={"catalog.price_list": doc.get("priceListId"), "catalog.market": doc["marketIds"]}
    )


@mutation("catalogCreate")
def catalog_create(_src: Any, info: GraphQLResolveInfo, input: dict) -> dict:
    ctx: Ctx = info.context
    context = input["context"]
    if context.get("companyLocationIds"):
        code = (
            "COMPANY_LOCATION_NOT_FOUND"
            if ctx.sandbox.shops.tier(ctx.shop) == "plus"
            else "COMPANY_LOCATION_CATALOG_STATUS_PLAN"
        )
        return {
            "catalog": None,
            "userErrors": [
                user_error(
                    ["input", "context", "companyLocationIds"],
                    "B2B catalogs need Shopify Plus and a company location.",
                    code,
                )
            ],
        }
    market_ids = context.get("marketIds") or []
    if not market_ids:
        return {
            "catalog": None,
            "userErrors": [
                user_error(
                    ["input", "context"],
                    "Must provide exactly one context type.",
                    "MUST_PROVIDE_EXACTLY_ONE_CONTEXT_TYPE",
                )
            ],
        }
    for index, market_id in enumerate(market_ids):
        if _doc(ctx, market_id, "Market") is None:
            return {
                "catalog": None,
                "userErrors": [
                    user_error(
                        ["input", "context", "marketIds", str(index)], "Market not found.", "MARKET_NOT_FOUND"
                    )
                ],
            }
    price_list = _doc(ctx, input.get("priceListId"), "PriceList")
    if input.get("priceListId") and price_list is None:
        return {
            "catalog": None,
            "userErrors": [
                user_error(["input", "priceListId"], "Price list not found.", "PRICE_LIST_NOT_FOUND")
            ],
        }
    if price_list is not None and _currency_mismatch(ctx, market_ids, price_list["currency"]):
        return {
            "catalog": None,
            "userErrors": [
                user_error(
                    ["input", "priceListId"],
                    "The catalog's market and price list currencies do not match.",
                    "MARKET_AND_PRICE_LIST_CURRENCY_MISMATCH",
                )
            ],
        }
    doc = {
        "__typename": "MarketCatalog",
        "id": ctx.store.new_gid("MarketCatalog"),
        "title": input["title"],
        "status": input["status"],
        "priceListId": input.get("priceListId"),
        "marketIds": market_ids,
        "operations": [],
        "publication": None,
    }
    _save_catalog(ctx, doc)
    return {"catalog": doc, "userErrors": []}


@field("Market", "priceList")
def market_price_list(market: dict, info: GraphQLResolveInfo) -> dict | None:
    """The price list of the market's first catalog that has one. Deprecated in 2026-10 ("Use
    `catalogs` instead") and still answered, as Shopify does; the app reads Market.catalogs."""
    ctx: Ctx = info.context
    for market_catalog in ctx.store.find(ctx.shop, "catalog.market", market["id"]):
        if market_catalog.get("priceListId"):
            return ctx.store.get(ctx.shop, market_catalog["priceListId"])
    return None
