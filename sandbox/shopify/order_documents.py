"""Documents an order is made of, built from the catalogue and a generated buyer: the
customer, the mailing address, line items at the variant's price, a code discount spread over
the lines to the cent, a shipping line and the BR tax id in `localizedFields`.

Shared by the checkout simulator and order editing (added lines), so both build the same shapes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.shopify import order_store
from sandbox.shopify.checkout_people import Buyer, mask
from sandbox.shopify.gids import num_of
from sandbox.shopify.order_totals import ZERO, allocate, bag, cents, money_v2
from sandbox.shopify.registry import Ctx


def mailing_address(ctx: Ctx, buyer: Buyer) -> dict[str, Any]:
    return {
        "__typename": "MailingAddress",
        "id": f"{order_store.new_id(ctx, 'MailingAddress')}?model_name=Address",
        "firstName": buyer.first_name,
        "lastName": buyer.last_name,
        "name": f"{buyer.first_name} {buyer.last_name}",
        "company": buyer.company,
        "address1": buyer.address1,
        "address2": buyer.address2,
        "city": buyer.city,
        "province": buyer.province,
        "provinceCode": buyer.province_code,
        "country": "Brazil",
        "countryCodeV2": "BR",
        "countryCode": "BR",
        "zip": buyer.zip,
        "phone": buyer.phone,
        "latitude": None,
        "longitude": None,
        "coordinatesValidated": False,
        "timeZone": "America/Sao_Paulo",
        "validationResultSummary": None,
        "formatted": [
            buyer.address1,
            *([buyer.address2] if buyer.address2 else []),
            f"{buyer.zip} {buyer.city} {buyer.province_code}",
            "Brazil",
        ],
        "formattedArea": f"{buyer.city} {buyer.province_code}, Brazil",
    }


def customer_doc(ctx: Ctx, buyer: Buyer, address: dict[str, Any], now: str) -> dict[str, Any]:
    customer_id = order_store.new_id(ctx, "Customer")
    doc = {
        "__typename": "Customer",
        "id": customer_id,
        "legacyResourceId": str(num_of(customer_id)),
        "firstName": buyer.first_name,
        "lastName": buyer.last_name,
        "displayName": f"{buyer.first_name} {buyer.last_name}",
        "email": buyer.email,
        "phone": buyer.phone,
        "defaultEmailAddress": {
            "emailAddress": buyer.email,
            "marketingState": "NOT_SUBSCRIBED",
            "marketingOptInLevel": None,
            "marketingUpdatedAt": None,
            "validFormat": True,
        },
        "defaultPhoneNumber": {"phoneNumber": buyer.phone},
        "defaultAddress": address,
        "createdAt": now,
        "updatedAt": now,
        "locale": "pt-BR",
        "note": None,
        "tags": [],
        "state": "DISABLED",
        "verifiedEmail": True,
        "taxExempt": False,
        "taxExemptions": [],
        "canDelete": False,
        "dataSaleOptOut": False,
        "multipassIdentifier": None,
        "lifetimeDuration": "now",
        "amountSpent": money_v2(ZERO),
        "validEmailAddress": True,
    }
    return ctx.store.put(ctx.shop, doc, keys={"customer.email": buyer.email})


def line_item_doc(ctx: Ctx, variant: dict[str, Any], quantity: int) -> dict[str, Any]:
    """A LineItem document for `quantity` units of `variant` at its current price."""
    product = ctx.store.get(ctx.shop, variant["productId"]) or {"title": "", "vendor": ""}
    item = ctx.store.get(ctx.shop, variant["inventoryItemId"]) or {}
    variant_title = None if variant["title"] == "Default Title" else variant["title"]
    return {
        "__typename": "LineItem",
        "id": order_store.new_id(ctx, "LineItem"),
        "name": f"{product['title']} - {variant_title}" if variant_title else product["title"],
        "title": product["title"],
        "variantTitle": variant_title,
        "sku": variant["sku"],
        "vendor": product["vendor"],
        "quantity": quantity,
        "currentQuantity": quantity,
        "requiresShipping": item.get("requiresShipping", True),
        "taxable": variant.get("taxable", True),
        "isGiftCard": False,
        "customAttributes": [],
        "discountAllocations": [],
        "duties": [],
        "image": None,
        "lineItemGroup": None,
        "sellingPlan": None,
        "contract": None,
        "staffMember": None,
        "weight": None,
        "_variantId": variant["id"],
        "_productId": variant["productId"],
        "_inventoryItemId": variant["inventoryItemId"],
        "_unitPrice": variant["price"],
        "_discount": "0.00",
        "_fulfilled": 0,
    }


def tip_line_doc(ctx: Ctx, value: Decimal) -> dict[str, Any]:
    """The line Shopify lists a checkout's tip as: titled "Tip", no product nor variant, ships
    nothing, untaxed, one unit at the tip's amount. order_totals keeps it out of the subtotal ("before
    shipping, duties, taxes, and tips") and in the total and totalTipReceivedSet; it is on no
    fulfillment order and moves no stock."""
    return {
        "__typename": "LineItem",
        "id": order_store.new_id(ctx, "LineItem"),
        "name": "Tip",
        "title": "Tip",
        "variantTitle": None,
        "sku": None,
        "vendor": None,
        "quantity": 1,
        "currentQuantity": 1,
        "requiresShipping": False,
        "taxable": False,
        "isGiftCard": False,
        "customAttributes": [],
        "discountAllocations": [],
        "duties": [],
        "image": None,
        "lineItemGroup": None,
        "sellingPlan": None,
        "contract": None,
        "staffMember": None,
        "weight": None,
        "_variantId": None,
        "_productId": None,
        "_inventoryItemId": None,
        "_unitPrice": f"{cents(value)}",
        "_discount": "0.00",
        "_fulfilled": 0,
        "_tip": True,
    }


def apply_code_discount(lines: list[dict[str, Any]], code: str, percent: float) -> list[dict[str, Any]]:
    """A code discount ACROSS all lines: the rounded total spread by line value, to the cent."""
    application = {
        "__typename": "DiscountCodeApplication",
        "code": code,
        "index": 0,
        "allocationMethod": "ACROSS",
        "targetSelection": "ALL",
        "targetType": "LINE_ITEM",
        "value": {"__typename": "PricingPercentageValue", "percentage": percent},
    }
    weights = [Decimal(line["_unitPrice"]) * line["quantity"] for line in lines]
    total = cents(sum(weights, ZERO) * Decimal(str(percent)) / 100)
    for line, share in zip(lines, allocate(total, weights), strict=True):
        line["_discount"] = f"{share}"
        line["_orderDiscount"] = f"{share}"  # order-level: left out of the line's own discount fields
        line["discountAllocations"] = [{"allocatedAmountSet": bag(share), "discountApplication": application}]
    return [application]


def shipping_line_doc(ctx: Ctx, rate: tuple[str, str, str | None, str]) -> dict[str, Any]:
    title, code, carrier, price = rate
    value = Decimal(price)
    return {
        "__typename": "ShippingLine",
        "id": order_store.new_id(ctx, "ShippingLine"),
        "title": title,
        "code": code,
        "source": "shopify",
        "carrierIdentifier": carrier,
        "custom": False,
        "deliveryCategory": None,
        "discountAllocations": [],
        "originalPriceSet": bag(value),
        "discountedPriceSet": bag(value),
        "currentDiscountedPriceSet": bag(value),
        "isRemoved": False,
        "phone": None,
        "shippingRateHandle": None,
        "taxLines": [],
        "price": f"{value}",
        "originalPrice": money_v2(value),
        "discountedPrice": money_v2(value),
    }


def localized_fields(tax_id: str, masked: bool) -> list[dict[str, Any]]:
    value = mask(tax_id) if masked else tax_id
    return [
        {
            "countryCode": "BR",
            "key": "TAX_CREDENTIAL_BR",
            "purpose": "TAX",
            "title": "CPF/CNPJ",
            "value": value,
        },
        {
            "countryCode": "BR",
            "key": "SHIPPING_CREDENTIAL_BR",
            "purpose": "SHIPPING",
            "title": "CPF/CNPJ",
            "value": value,
        },
    ]
