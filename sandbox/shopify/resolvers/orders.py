"""Order reads: order(id), orderByIdentifier, orders(query:, sortKey:) and the computed fields
of Order, LineItem, OrderTransaction and Customer (plain fields come off the document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import metafield_store, order_store
from sandbox.shopify.connections import connection
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, field, query
from sandbox.shopify.search_query import Term, compare, parse

_DATE_FIELDS = {"updated_at": "updatedAt", "created_at": "createdAt", "processed_at": "processedAt"}
_SORT_KEYS = {
    "UPDATED_AT": lambda o: (o["updatedAt"], num_of(o["id"])),
    "CREATED_AT": lambda o: (o["createdAt"], num_of(o["id"])),
    "PROCESSED_AT": lambda o: (o["processedAt"], num_of(o["id"])),
    "ORDER_NUMBER": lambda o: (o["number"], 0),
    "TOTAL_PRICE": lambda o: (float(o["totalPriceSet"]["shopMoney"]["amount"]), num_of(o["id"])),
    "CURRENT_TOTAL_PRICE": lambda o: (
        float(o["currentTotalPriceSet"]["shopMoney"]["amount"]),
        num_of(o["id"]),
    ),
    "FINANCIAL_STATUS": lambda o: (o["displayFinancialStatus"], num_of(o["id"])),
    "FULFILLMENT_STATUS": lambda o: (o["displayFulfillmentStatus"], num_of(o["id"])),
}


def _instant(text: str) -> datetime | None:
    """A search value or stored DateTime as an aware datetime (a bare date is midnight UTC)."""
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if len(value) == 10:
        value += "T00:00:00+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _compare_dates(stored: str | None, op: str, wanted: str) -> bool:
    left, right = _instant(stored or ""), _instant(wanted)
    if left is None or right is None:
        return False
    return {
        "=": left == right,
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }[op]


def _status_matches(order: dict[str, Any], value: str) -> bool:
    value = value.lower()
    if value == "any":
        return True
    if value == "cancelled":
        return order["cancelledAt"] is not None
    if value == "closed":
        return bool(order["closed"])
    return value == "open" and not order["closed"] and order["cancelledAt"] is None


def _matches(order: dict[str, Any], term: Term) -> bool:
    name, value = term.field, term.value
    if name in _DATE_FIELDS:
        return _compare_dates(order.get(_DATE_FIELDS[name]), term.op, value)
    if name == "name":
        return order["name"].lower() in (value.lower(), f"#{value.lower().lstrip('#')}")
    if name == "id":
        return compare(num_of(order["id"]), term.op, value)
    if name in ("tag", "tags"):
        return value.lower() in (t.lower() for t in order["tags"])
    if name == "tag_not":
        return value.lower() not in (t.lower() for t in order["tags"])
    if name == "email":
        return (order.get("email") or "").lower() == value.lower()
    if name == "financial_status":
        return order["displayFinancialStatus"].lower() == value.lower()
    if name == "fulfillment_status":
        wanted = {"shipped": "FULFILLED", "unshipped": "UNFULFILLED", "partial": "PARTIALLY_FULFILLED"}
        return order["displayFulfillmentStatus"] == wanted.get(value.lower(), value.upper())
    if name == "status":
        return _status_matches(order, value)
    if name == "sku":
        return any((line["sku"] or "").lower() == value.lower() for line in order["_lines"])
    if name is None:
        return value.lower() in order["name"].lower() or value.lower() in (order.get("email") or "").lower()
    return True


@query("order")
def resolve_order(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return order_store.read(info.context, id)


@query("orderByIdentifier")
def resolve_order_by_identifier(_src: Any, info: GraphQLResolveInfo, identifier: dict) -> dict | None:
    ctx: Ctx = info.context
    if identifier.get("id"):
        return order_store.read(ctx, identifier["id"])
    custom = identifier.get("customId") or {}
    owner = metafield_store.owner_by_unique_value(
        ctx, "ORDER", custom.get("namespace"), custom.get("key", ""), custom.get("value", "")
    )
    return order_store.read(ctx, owner)


@query("orders")
def resolve_orders(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    ctx: Ctx = info.context
    terms = parse(args.get("query"))
    name_term = next((t for t in terms if t.field == "name" and t.op == "="), None)
    if name_term is not None:
        candidates = ctx.store.find(ctx.shop, "order.name", f"#{name_term.value.lstrip('#')}")
    else:
        candidates = ctx.store.scan(ctx.shop, "Order")
    found = [o for o in candidates if order_store.readable(ctx, o) and all(_matches(o, t) for t in terms)]
    sort = _SORT_KEYS.get(args.get("sortKey") or "ID")
    if sort is not None:
        found.sort(key=sort)
    return connection(found, args, ordered_by=sort)


# -- Order ---------------------------------------------------------------------------------
@field("Order", "customer")
def order_customer(order: dict, info: GraphQLResolveInfo) -> dict | None:
    return info.context.store.get(info.context.shop, order.get("customerId"))


@field("Order", "retailLocation")
def order_retail_location(order: dict, info: GraphQLResolveInfo) -> dict | None:
    """The location a POS sale was rung up at (sandbox.shopify.checkout: `_retailLocationId`), else
    what the document holds (null for an online order)."""
    if order.get("_retailLocationId"):
        return info.context.store.get(info.context.shop, order["_retailLocationId"])
    return order.get("retailLocation")


@field("Order", "lineItems")
def order_line_items(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(order["_lines"], args)


@field("Order", "nonFulfillableLineItems")
def order_non_fulfillable_line_items(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection([line for line in order["_lines"] if line["nonFulfillableQuantity"] > 0], args)


@field("Order", "shippingLines")
def order_shipping_lines(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    lines = order["_shippingLines"]
    if not args.get("includeRemovals"):
        lines = [s for s in lines if not s["isRemoved"]]
    return connection(lines, args)


@field("Order", "shippingLine")
def order_shipping_line(order: dict, _info: GraphQLResolveInfo) -> dict | None:
    return next((s for s in order["_shippingLines"] if not s["isRemoved"]), None)


@field("Order", "discountApplications")
def order_discount_applications(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(order["_discountApplications"], args)


@field("Order", "transactions")
def order_transactions(
    order: dict,
    _info: GraphQLResolveInfo,
    first: int | None = None,
    capturable: bool | None = None,
    manuallyResolvable: bool | None = None,
) -> list[dict]:
    found = order["_transactions"]
    if capturable is not None:
        found = [t for t in found if t["manuallyCapturable"] == capturable]
    return found[:first] if first is not None else found


@field("Order", "transactionsCount")
def order_transactions_count(order: dict, _info: GraphQLResolveInfo) -> dict:
    return {"count": len(order["_transactions"]), "precision": "EXACT"}


@field("Order", "localizedFields")
def order_localized_fields(order: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    found = order["_localizedFields"]
    if args.get("countryCodes"):
        found = [f for f in found if f["countryCode"] in args["countryCodes"]]
    if args.get("purposes"):
        found = [f for f in found if f["purpose"] in args["purposes"]]
    return connection(found, args)


@field("Order", "legacyResourceId")
def order_legacy_resource_id(order: dict, _info: GraphQLResolveInfo) -> str:
    return str(num_of(order["id"]))


# -- LineItem ------------------------------------------------------------------------------
@field("LineItem", "variant")
def line_item_variant(line: dict, info: GraphQLResolveInfo) -> dict | None:
    doc = info.context.store.get(info.context.shop, line.get("_variantId"))
    return doc if doc and doc.get("__typename") == "ProductVariant" else None


@field("LineItem", "product")
def line_item_product(line: dict, info: GraphQLResolveInfo) -> dict | None:
    doc = info.context.store.get(info.context.shop, line.get("_productId"))
    return doc if doc and doc.get("__typename") == "Product" else None


@field("LineItem", "taxLines")
def line_item_tax_lines(line: dict, _info: GraphQLResolveInfo, first: int | None = None) -> list:
    taxes = line.get("taxLines") or []  # order_totals: the tax inside the line (taxes included)
    return taxes[:first] if first is not None else taxes


# -- OrderTransaction ----------------------------------------------------------------------
@field("OrderTransaction", "parentTransaction")
def transaction_parent(txn: dict, info: GraphQLResolveInfo) -> dict | None:
    order = order_store.owning(info.context, txn["id"])
    return order_store.transaction(order, txn["parentId"]) if order and txn.get("parentId") else None


@field("OrderTransaction", "order")
def transaction_order(txn: dict, info: GraphQLResolveInfo) -> dict | None:
    return order_store.owning(info.context, txn["id"])


# -- Customer ------------------------------------------------------------------------------
def _customer_orders(ctx: Ctx, customer: dict) -> list[dict]:
    return ctx.store.find(ctx.shop, "order.customer", customer["id"])


@field("Customer", "numberOfOrders")
def customer_number_of_orders(customer: dict, info: GraphQLResolveInfo) -> str:
    return str(len(_customer_orders(info.context, customer)))


@field("Customer", "orders")
def customer_orders(customer: dict, info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection(_customer_orders(info.context, customer), args)


@field("Customer", "lastOrder")
def customer_last_order(customer: dict, info: GraphQLResolveInfo) -> dict | None:
    found = _customer_orders(info.context, customer)
    return found[-1] if found else None


@field("Customer", "addressesV2")
def customer_addresses(customer: dict, _info: GraphQLResolveInfo, **args: Any) -> dict:
    return connection([customer["defaultAddress"]] if customer.get("defaultAddress") else [], args)


@query("customer")
def resolve_customer(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    doc = info.context.store.get(info.context.shop, id)
    return doc if doc and doc.get("__typename") == "Customer" else None
