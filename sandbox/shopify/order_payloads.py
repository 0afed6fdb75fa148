"""Webhook bodies in Shopify's REST shape (orders/create, orders/updated, orders/paid,
orders/cancelled, orders/fulfilled, orders/edited), built from the order document.

Like the real Shopify, the REST order carries no CPF/CNPJ (that lives only in GraphQL
`Order.localizedFields`), so a receiver must read the order back through GraphQL.
Timestamps are in the shop's zone (America/Sao_Paulo), as Shopify renders them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.shopify.gids import num_of

SHOP_ZONE = ZoneInfo("America/Sao_Paulo")
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def local_time(iso_utc: str | None) -> str | None:
    """`2026-11-28T18:00:00Z` -> `2026-11-28T15:00:00-03:00`."""
    if not iso_utc:
        return None
    return datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(SHOP_ZONE).isoformat()


def _money(money_bag: dict[str, Any]) -> str:
    return money_bag["shopMoney"]["amount"]


def _set(money_bag: dict[str, Any]) -> dict[str, Any]:
    return {
        "shop_money": {
            "amount": money_bag["shopMoney"]["amount"],
            "currency_code": money_bag["shopMoney"]["currencyCode"],
        },
        "presentment_money": {
            "amount": money_bag["presentmentMoney"]["amount"],
            "currency_code": money_bag["presentmentMoney"]["currencyCode"],
        },
    }


def address(mailing: dict[str, Any] | None) -> dict[str, Any] | None:
    if not mailing:
        return None
    return {
        "first_name": mailing["firstName"],
        "last_name": mailing["lastName"],
        "name": mailing["name"],
        "company": mailing["company"],
        "address1": mailing["address1"],
        "address2": mailing["address2"],
        "city": mailing["city"],
        "province": mailing["province"],
        "province_code": mailing["provinceCode"],
        "country": mailing["country"],
        "country_code": mailing["countryCodeV2"],
        "zip": mailing["zip"],
        "phone": mailing["phone"],
        "latitude": None,
        "longitude": None,
    }


def customer(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if not doc:
        return None
    return {
        "id": num_of(doc["id"]),
        "admin_graphql_api_id": doc["id"],
        "email": doc["email"],
        "phone": doc["phone"],
        "first_name": doc["firstName"],
        "last_name": doc["lastName"],
        "created_at": local_time(doc["createdAt"]),
        "updated_at": local_time(doc["updatedAt"]),
        "state": doc["state"].lower(),
        "note": doc["note"],
        "verified_email": doc["verifiedEmail"],
        "tags": ", ".join(doc["tags"]),
        "currency": "BRL",
        "tax_exempt": False,
        "default_address": address(doc.get("defaultAddress")),
    }


def _discount_allocation(allocation: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": _money(allocation["allocatedAmountSet"]),
        "amount_set": _set(allocation["allocatedAmountSet"]),
        "discount_application_index": allocation["discountApplication"]["index"],
    }


def line_item(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": num_of(line["id"]),
        "admin_graphql_api_id": line["id"],
        "variant_id": num_of(line.get("_variantId") or ""),
        "product_id": num_of(line.get("_productId") or ""),
        "sku": line["sku"],
        "name": line["name"],
        "title": line["title"],
        "variant_title": line["variantTitle"],
        "vendor": line["vendor"],
        "quantity": line["quantity"],
        "current_quantity": line["currentQuantity"],
        "fulfillable_quantity": line["fulfillableQuantity"],
        "fulfillment_status": {"fulfilled": "fulfilled", "partial": "partial"}.get(line["fulfillmentStatus"]),
        "price": line["originalUnitPrice"],
        "price_set": _set(line["originalUnitPriceSet"]),
        "total_discount": line["totalDiscount"],
        "total_discount_set": _set(line["totalDiscountSet"]),
        "discount_allocations": [_discount_allocation(a) for a in line["discountAllocations"]],
        "requires_shipping": line["requiresShipping"],
        "taxable": line["taxable"],
        "gift_card": False,
        "grams": 0,
        "product_exists": True,
        "properties": [],
        "tax_lines": [],
        "duties": [],
        "fulfillment_service": "manual",
    }


def _shipping_line(shipping: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": num_of(shipping["id"]),
        "title": shipping["title"],
        "code": shipping["code"],
        "source": shipping["source"],
        "carrier_identifier": shipping["carrierIdentifier"],
        "price": _money(shipping["originalPriceSet"]),
        "price_set": _set(shipping["originalPriceSet"]),
        "discounted_price": _money(shipping["discountedPriceSet"]),
        "discounted_price_set": _set(shipping["discountedPriceSet"]),
        "discount_allocations": [],
        "tax_lines": [],
        "phone": None,
        "requested_fulfillment_service_id": None,
        "delivery_category": None,
    }


def _discount_application(application: dict[str, Any]) -> dict[str, Any]:
    if application["__typename"] == "ManualDiscountApplication":  # an order-edit line discount
        value = application["value"]
        fixed = value["__typename"] == "MoneyV2"
        return {
            "type": "manual",
            "title": application["title"],
            "description": application["description"],
            "value": value["amount"] if fixed else str(value["percentage"]),
            "value_type": "fixed_amount" if fixed else "percentage",
            "allocation_method": application["allocationMethod"].lower(),
            "target_selection": application["targetSelection"].lower(),
            "target_type": application["targetType"].lower(),
        }
    return {
        "type": "discount_code",
        "code": application["code"],
        "title": application["code"],
        "description": application["code"],
        "value": str(application["value"]["percentage"]),
        "value_type": "percentage",
        "allocation_method": application["allocationMethod"].lower(),
        "target_selection": application["targetSelection"].lower(),
        "target_type": application["targetType"].lower(),
    }


def _fulfillment(order: dict[str, Any], fulfillment: dict[str, Any]) -> dict[str, Any]:
    tracking = fulfillment["_trackingInfo"]
    return {
        "id": num_of(fulfillment["id"]),
        "admin_graphql_api_id": fulfillment["id"],
        "order_id": num_of(order["id"]),
        "name": fulfillment["name"],
        "status": fulfillment["status"].lower(),
        "created_at": local_time(fulfillment["createdAt"]),
        "updated_at": local_time(fulfillment["updatedAt"]),
        "location_id": num_of(fulfillment.get("_locationId") or ""),
        "tracking_company": tracking[0]["company"] if tracking else None,
        "tracking_number": tracking[0]["number"] if tracking else None,
        "tracking_numbers": [t["number"] for t in tracking if t["number"]],
        "tracking_url": tracking[0]["url"] if tracking else None,
        "tracking_urls": [t["url"] for t in tracking if t["url"]],
        "line_items": [
            {**line_item(line), "quantity": item["quantity"]}
            for item in fulfillment["_lineItems"]
            for line in order["_lines"]
            if line["id"] == item["_lineItemId"]
        ],
    }


def _company(bought: dict[str, Any] | None) -> dict[str, Any] | None:
    """A B2B order's company and location, as REST ids (null on any other order)."""
    if not bought:
        return None
    return {"id": num_of(bought["companyId"]), "location_id": num_of(bought["locationId"])}


def rest_order(order: dict[str, Any], buyer: dict[str, Any] | None) -> dict[str, Any]:
    """The REST order body Shopify sends on orders/* topics (no CPF/CNPJ)."""
    status = order["displayFinancialStatus"] or "PENDING"
    return {
        "id": num_of(order["id"]),
        "admin_graphql_api_id": order["id"],
        "app_id": None,
        "browser_ip": None,
        "buyer_accepts_marketing": False,
        "cancel_reason": (order["cancelReason"] or "").lower() or None,
        "cancelled_at": local_time(order["cancelledAt"]),
        "cart_token": None,
        "checkout_id": order["_checkoutId"],
        "checkout_token": order["checkoutToken"],
        "closed_at": local_time(order["closedAt"]),
        "company": _company(order.get("_purchasingCompany")),
        "confirmation_number": order["confirmationNumber"],
        "confirmed": True,
        "contact_email": order["email"],
        "created_at": local_time(order["createdAt"]),
        "currency": "BRL",
        "current_subtotal_price": _money(order["currentSubtotalPriceSet"]),
        "current_subtotal_price_set": _set(order["currentSubtotalPriceSet"]),
        "current_total_discounts": _money(order["currentTotalDiscountsSet"]),
        "current_total_discounts_set": _set(order["currentTotalDiscountsSet"]),
        "current_total_price": _money(order["currentTotalPriceSet"]),
        "current_total_price_set": _set(order["currentTotalPriceSet"]),
        "current_total_tax": _money(order["currentTotalTaxSet"]),
        "current_total_tax_set": _set(order["currentTotalTaxSet"]),
        "customer_locale": "pt-BR",
        "discount_codes": [
            {"code": a["code"], "amount": _money(order["totalDiscountsSet"]), "type": "percentage"}
            for a in order["_discountApplications"]
            if a["__typename"] == "DiscountCodeApplication"
        ],
        "email": order["email"],
        "estimated_taxes": False,
        "financial_status": status.lower(),
        "fulfillment_status": _FULFILLMENT.get(order["displayFulfillmentStatus"]),
        "landing_site": None,
        "name": order["name"],
        "note": order["note"],
        "note_attributes": [{"name": a["key"], "value": a["value"]} for a in order["customAttributes"]],
        "number": order["number"] - 1000,
        "order_number": order["number"],
        "order_status_url": None,
        "payment_gateway_names": order["paymentGatewayNames"],
        "phone": order["phone"],
        "presentment_currency": "BRL",
        "processed_at": local_time(order["processedAt"]),
        "source_name": order.get("sourceName") or "web",
        "subtotal_price": _money(order["subtotalPriceSet"]),
        "subtotal_price_set": _set(order["subtotalPriceSet"]),
        "tags": ", ".join(order["tags"]),
        "taxes_included": True,
        "test": False,
        "tax_lines": [],
        "total_discounts": _money(order["totalDiscountsSet"]),
        "total_discounts_set": _set(order["totalDiscountsSet"]),
        "total_line_items_price": f"{sum(float(line['originalTotal']) for line in order['_lines']):.2f}",
        "total_outstanding": _money(order["totalOutstandingSet"]),
        "total_price": _money(order["totalPriceSet"]),
        "total_price_set": _set(order["totalPriceSet"]),
        "total_shipping_price_set": _set(order["totalShippingPriceSet"]),
        "total_tax": _money(order["totalTaxSet"]),
        "total_tax_set": _set(order["totalTaxSet"]),
        "total_tip_received": _money(order["totalTipReceivedSet"]),
        "total_weight": 0,
        "updated_at": local_time(order["updatedAt"]),
        "user_id": None,
        "billing_address": address(order["billingAddress"]),
        "shipping_address": address(order["shippingAddress"]),
        "customer": customer(buyer),
        "discount_applications": [_discount_application(a) for a in order["_discountApplications"]],
        "fulfillments": [_fulfillment(order, f) for f in order["_fulfillments"]],
        "line_items": [line_item(line) for line in order["_lines"]],
        "refunds": [],
        "shipping_lines": [_shipping_line(s) for s in order["_shippingLines"] if not s["isRemoved"]],
    }


def order_edit(
    order: dict[str, Any],
    edit_id: str,
    committed_at: str,
    additions: list[dict[str, Any]],
    removals: list[dict[str, Any]],
    notify_customer: bool,
    staff_note: str | None,
) -> dict[str, Any]:
    """The orders/edited body: what changed, by line and delta (receivers re-read the order)."""
    return {
        "order_edit": {
            "id": num_of(edit_id),
            "app_id": None,
            "created_at": local_time(committed_at),
            "committed_at": local_time(committed_at),
            "notify_customer": notify_customer,
            "order_id": num_of(order["id"]),
            "staff_note": staff_note or "",
            "user_id": None,
            "line_items": {"additions": additions, "removals": removals},
            "discounts": {"additions": [], "removals": []},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


def emit_order(ctx: Any, order: dict[str, Any], *topics: str) -> None:
    """Send the REST order body on each topic (e.g. `orders/create`, `orders/paid`)."""
    buyer = ctx.store.get(ctx.shop, order.get("customerId"))
    body = rest_order(order, buyer)
    for topic in topics:
        ctx.sandbox.emit(ctx.shop, topic, body)
