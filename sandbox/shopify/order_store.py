"""Order documents in the store: saving with their look-up keys, finding an order by any of its
parts (line item, fulfillment order, transaction, fulfillment), and the stock movements an
order causes (commit on checkout, ship on fulfilment, unship when a fulfillment is cancelled,
release or restock on edit / cancel).

An order is one document: its line items, shipping lines, transactions, fulfillment orders and
fulfillments live inside it (keys starting with `_`), because every mutation touches several of
them at once and one document keeps that atomic and consistent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.shopify import inventory_store
from sandbox.shopify.clock import iso
from sandbox.shopify.gids import gid, num_of
from sandbox.shopify.order_totals import bag, money_v2, recompute
from sandbox.shopify.registry import Ctx

ORDER_NUMBER_START = 1000  # the first order is #1001, like a new Shopify store


def new_id(ctx: Ctx, kind: str) -> str:
    return gid(kind, ctx.store.next_num())


def next_order_number(ctx: Ctx) -> int:
    """#1001, #1002... per shop (the store counter starts at 1000 and adds one)."""
    return ctx.store.next_num(f"order_number:{ctx.shop}")


def _part_ids(order: dict[str, Any]) -> list[str]:
    ids = [line["id"] for line in order["_lines"]]
    ids += [t["id"] for t in order["_transactions"]]
    ids += [f["id"] for f in order["_fulfillments"]]
    ids += [r["id"] for r in order.get("_refunds") or []]
    for fulfillment_order in order["_fulfillmentOrders"]:
        ids.append(fulfillment_order["id"])
        ids += [item["id"] for item in fulfillment_order["_lineItems"]]
    return ids


def save(ctx: Ctx, order: dict[str, Any], touch: bool = True) -> dict[str, Any]:
    """Recompute the derived fields and store the order with its look-up keys."""
    if touch:
        order["updatedAt"] = iso(ctx.now())
    recompute(order)
    return ctx.store.put(
        ctx.shop,
        order,
        keys={
            "order.name": order["name"],
            "order.customer": order.get("customerId"),
            "order.part": _part_ids(order),
            "order.tag": [t.lower() for t in order["tags"]],
        },
    )


def get(ctx: Ctx, order_id: str | None) -> dict[str, Any] | None:
    doc = ctx.store.get(ctx.shop, order_id)
    return doc if doc and doc.get("__typename") == "Order" else None


# Shopify lets an app read the last 60 days of orders only, unless it holds read_all_orders (the
# Order object's description in the 2026-10 schema): an older order reads null and is not listed.
READABLE_DAYS = 60
ALL_ORDERS_SCOPE = "read_all_orders"


def readable(ctx: Ctx, doc: dict[str, Any] | None) -> bool:
    """Whether the request may read this document: any but an order older than READABLE_DAYS when
    its token lacks read_all_orders (a request of no app's token, ctx.scopes None, reads all)."""
    if (
        doc is None
        or doc.get("__typename") != "Order"
        or ctx.scopes is None
        or ALL_ORDERS_SCOPE in ctx.scopes
    ):
        return True
    created = _seconds(doc.get("createdAt"))
    return created is None or created >= ctx.now() - READABLE_DAYS * 86400


def read(ctx: Ctx, order_id: str | None) -> dict[str, Any] | None:
    """`get` as an app's read sees it (None for an order older than its grant reaches)."""
    doc = get(ctx, order_id)
    return doc if readable(ctx, doc) else None


def _seconds(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@contextmanager
def for_control(sandbox: Any, shop: str, order_id: str) -> Iterator[tuple[Ctx, dict[str, Any]]]:
    """A control endpoint's change to one order (not Shopify's): its context and the order, inside
    one store transaction; the caller saves. LookupError when the shop has no such order."""
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    with ctx.store.transaction():
        order = get(ctx, order_id)
        if order is None:
            raise LookupError(f"no order {order_id} in {shop}")
        yield ctx, order


def owning(ctx: Ctx, part_id: str | None) -> dict[str, Any] | None:
    """The order holding a line item / fulfillment order / transaction / fulfillment / refund id."""
    if not part_id:
        return None
    return ctx.store.find_one(ctx.shop, "order.part", part_id)


def line(order: dict[str, Any], line_id: str) -> dict[str, Any] | None:
    return next((item for item in order["_lines"] if item["id"] == line_id), None)


def fulfillment_order(order: dict[str, Any], fo_id: str) -> dict[str, Any] | None:
    return next((fo for fo in order["_fulfillmentOrders"] if fo["id"] == fo_id), None)


def transaction(order: dict[str, Any], txn_id: str) -> dict[str, Any] | None:
    return next((t for t in order["_transactions"] if t["id"] == txn_id), None)


# -- stock ---------------------------------------------------------------------------------
def _tracked_item(ctx: Ctx, variant_id: str | None) -> dict[str, Any] | None:
    variant = ctx.store.get(ctx.shop, variant_id)
    if not variant:
        return None
    item = ctx.store.get(ctx.shop, variant["inventoryItemId"])
    return item if item and item.get("tracked") else None


def _move(ctx: Ctx, variant_id: str | None, location_id: str, changes: dict[str, int]) -> None:
    item = _tracked_item(ctx, variant_id)
    if item is None:
        return
    level = inventory_store.activate(ctx, item["id"], location_id)
    for name, delta in changes.items():
        level["quantityValues"][name] = level["quantityValues"].get(name, 0) + delta
    level["updatedAt"] = iso(ctx.now())
    inventory_store.save(ctx, level)


def commit_stock(ctx: Ctx, variant_id: str | None, location_id: str, quantity: int) -> None:
    """An order took `quantity`: available goes down, committed up (on hand unchanged)."""
    _move(ctx, variant_id, location_id, {"available": -quantity, "committed": quantity})


def ship_stock(ctx: Ctx, variant_id: str | None, location_id: str, quantity: int) -> None:
    """Fulfilled units leave the building: committed and on hand go down."""
    _move(ctx, variant_id, location_id, {"committed": -quantity, "on_hand": -quantity})


def unship_stock(ctx: Ctx, variant_id: str | None, location_id: str, quantity: int) -> None:
    """A cancelled fulfillment: the units count as committed and on hand again (ship_stock undone)."""
    _move(ctx, variant_id, location_id, {"committed": quantity, "on_hand": quantity})


def return_stock(ctx: Ctx, variant_id: str | None, location_id: str, quantity: int) -> None:
    """Shipped units brought back and restocked (a refund's RETURN): on hand and available again."""
    _move(ctx, variant_id, location_id, {"on_hand": quantity, "available": quantity})


def release_stock(ctx: Ctx, variant_id: str | None, location_id: str, quantity: int, restock: bool) -> None:
    """Units no longer ordered: back to available when restocked, else written off."""
    if restock:
        _move(ctx, variant_id, location_id, {"committed": -quantity, "available": quantity})
    else:
        _move(ctx, variant_id, location_id, {"committed": -quantity, "on_hand": -quantity})


def available_at(ctx: Ctx, variant: dict[str, Any], location_id: str) -> int | None:
    """Available units of the variant at a location (None when its inventory is not tracked)."""
    item = ctx.store.get(ctx.shop, variant["inventoryItemId"])
    if not item or not item.get("tracked"):
        return None
    level = inventory_store.level(ctx, item["id"], location_id)
    return level["quantityValues"]["available"] if level else 0


def choose_location(ctx: Ctx, variant: dict[str, Any], quantity: int) -> str | None:
    """Where an order line ships from: the first active location (primary first) that has the
    quantity available; any location when stock is untracked or oversold on purpose (CONTINUE);
    None when the variant cannot be sold."""
    locations = sorted(
        (loc for loc in ctx.store.scan(ctx.shop, "Location") if loc["isActive"]),
        key=lambda loc: (not loc["isPrimary"], num_of(loc["id"]) or 0),
    )
    for location in locations:
        available = available_at(ctx, variant, location["id"])
        if available is None or available >= quantity:
            return location["id"]
    if variant.get("inventoryPolicy") == "CONTINUE" and locations:
        return locations[0]["id"]
    return None


# -- fulfillment orders --------------------------------------------------------------------
def fulfillment_order_at(
    ctx: Ctx, order: dict[str, Any], location_id: str, method: str | None = None
) -> dict[str, Any]:
    """The open fulfillment order of `location_id` (`method`: of that delivery method type, as a
    POS sale's items taken at the counter, RETAIL, and those shipped to the customer, SHIPPING, are
    two fulfillment orders of one location), created when there is none."""
    for existing in order["_fulfillmentOrders"]:
        same = method is None or (existing.get("deliveryMethod") or {}).get("methodType") == method
        if existing["_locationId"] == location_id and existing["status"] in ("OPEN", "IN_PROGRESS") and same:
            return existing
    location = ctx.store.get(ctx.shop, location_id) or {"name": "", "address": {}}
    address = location.get("address") or {}
    now = iso(ctx.now())
    created = {
        "__typename": "FulfillmentOrder",
        "id": new_id(ctx, "FulfillmentOrder"),
        "orderId": order["id"],
        "orderName": order["name"],
        "orderProcessedAt": order["processedAt"],
        "status": "OPEN",
        "requestStatus": "UNSUBMITTED",
        "createdAt": now,
        "updatedAt": now,
        "fulfillAt": now,
        "fulfillBy": None,
        "fulfillmentHolds": [],
        "supportedActions": [{"action": "CREATE_FULFILLMENT", "externalUrl": None}],
        "_locationId": location_id,
        "_lineItems": [],
        "deliveryMethod": delivery_method(ctx, order, method),
        "assignedLocation": {
            "name": location.get("name", ""),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("provinceCode"),
            "countryCode": address.get("countryCode") or "BR",
            "zip": address.get("zip"),
            "phone": address.get("phone"),
            "_locationId": location_id,
        },
    }
    order["_fulfillmentOrders"].append(created)
    return created


def delivery_method(ctx: Ctx, order: dict[str, Any], method: str | None = None) -> dict[str, Any]:
    """The DeliveryMethod a new fulfillment order of `order` carries: `method` when given (RETAIL:
    a POS sale's items handed over at the counter), else what the buyer chose at checkout (PICK_UP,
    LOCAL, SHIPPING), SHIPPING for an order that says nothing."""
    chosen = order.get("_deliveryMethod") or {}
    if method is not None and method != chosen.get("methodType"):
        chosen = {"methodType": method, "presentedName": "Retail" if method == "RETAIL" else None}
    return {
        "__typename": "DeliveryMethod",
        "id": new_id(ctx, "DeliveryMethod"),
        "methodType": chosen.get("methodType") or "SHIPPING",
        "presentedName": chosen.get("presentedName"),
        "serviceCode": chosen.get("serviceCode"),
        "minDeliveryDateTime": None,
        "maxDeliveryDateTime": None,
        "additionalInformation": None,
        "brandedPromise": None,
        "sourceReference": None,
    }


def add_to_fulfillment_order(
    ctx: Ctx, order: dict[str, Any], line_item: dict[str, Any], location_id: str, method: str | None = None
) -> dict[str, Any]:
    """Put a new order line on the fulfillment order of its location (`method`: of that delivery
    method type); returns that fulfillment order."""
    fulfillment = fulfillment_order_at(ctx, order, location_id, method)
    fulfillment["_lineItems"].append(
        {
            "__typename": "FulfillmentOrderLineItem",
            "id": new_id(ctx, "FulfillmentOrderLineItem"),
            "_lineItemId": line_item["id"],
            "totalQuantity": line_item["currentQuantity"],
            "remainingQuantity": line_item["currentQuantity"],
            "sku": line_item["sku"],
            "productTitle": line_item["title"],
            "variantTitle": line_item["variantTitle"],
            "vendor": line_item["vendor"],
            "requiresShipping": line_item["requiresShipping"],
            "inventoryItemId": line_item.get("_inventoryItemId"),
            "_variantId": line_item.get("_variantId"),
            "warnings": [],
            "financialSummaries": [],
            "weight": None,
            "image": None,
        }
    )
    line_item["_locationId"] = location_id
    return fulfillment


def fulfillment_order_lines_for(order: dict[str, Any], line_id: str) -> list[tuple[dict, dict]]:
    """(fulfillment order, its line item) pairs that hold order line `line_id`."""
    return [
        (fo, item)
        for fo in order["_fulfillmentOrders"]
        for item in fo["_lineItems"]
        if item["_lineItemId"] == line_id
    ]


def refresh_fulfillment_order_status(order: dict[str, Any]) -> None:
    """OPEN / IN_PROGRESS / CLOSED from the remaining quantities (CANCELLED stays); a local pickup
    marked ready for pickup stays IN_PROGRESS until it is picked up."""
    for fo in order["_fulfillmentOrders"]:
        if fo["status"] == "CANCELLED":
            continue
        remaining = sum(item["remainingQuantity"] for item in fo["_lineItems"])
        total = sum(item["totalQuantity"] for item in fo["_lineItems"])
        if remaining == 0:
            fo["status"] = "CLOSED"
        elif remaining < total or fo.get("_fulfilledAny") or fo.get("_preparedForPickup"):
            fo["status"] = "IN_PROGRESS"
        else:
            fo["status"] = "OPEN"


# -- transactions --------------------------------------------------------------------------
AUTHORIZATION_DAYS = 7  # Shopify Payments authorisations expire after 7 days


def new_transaction(
    ctx: Ctx,
    kind: str,
    status: str,
    gateway: str,
    value: Decimal,
    parent_id: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """An OrderTransaction document (kind AUTHORIZATION / SALE / CAPTURE / REFUND / VOID / CHANGE)."""
    now = ctx.now()
    return {
        "__typename": "OrderTransaction",
        "id": new_id(ctx, "OrderTransaction"),
        "kind": kind,
        "status": status,
        "gateway": gateway,
        "formattedGateway": gateway,
        "amountSet": bag(value),
        "createdAt": iso(now),
        "processedAt": iso(now),
        "parentId": parent_id,
        "test": False,
        "errorCode": None,
        "authorizationExpiresAt": iso(now + AUTHORIZATION_DAYS * 86400) if kind == "AUTHORIZATION" else None,
        "authorizationCode": f"{ctx.store.next_num('authorization_code'):06d}"
        if kind == "AUTHORIZATION"
        else None,
        "manualPaymentGateway": False,
        "paymentId": f"pay_{num_of(ctx.store.new_gid('Payment'))}",
        "receiptJson": "{}",
        "fees": [],
        "accountNumber": account,
        "settlementCurrency": None,
        "settlementCurrencyRate": None,
        "amountRoundingSet": None,
        "currencyExchangeAdjustment": None,
        "paymentDetails": None,
        "paymentIcon": None,
        "device": None,
        "location": None,
        "user": None,
        "shopifyPaymentsSet": None,
        "maximumRefundableV2": money_v2(value) if kind in ("SALE", "CAPTURE") else None,
        "_closed": False,
        # An authorisation of a gateway allowing several captures (SandboxOptions.gateway_multi_capture):
        # a fact of the authorisation, fixed when it is made (order_totals reads it).
        "_multiCapturable": kind == "AUTHORIZATION" and ctx.sandbox.options.multi_capturable(gateway),
    }
