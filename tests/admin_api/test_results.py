"""Pure parsers: typed results from response data, and idempotency keys."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopify_app.admin_api.errors import UnexpectedResponse, UserError
from shopify_app.admin_api.idempotency import idempotency_key
from shopify_app.admin_api.order_results import parse_order, parse_order_edit
from shopify_app.admin_api.results import (
    parse_bulk_operation,
    parse_inventory_adjustment,
    parse_inventory_items,
    parse_product_set,
    parse_staged_target,
    parse_user_errors,
)


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "BRL"}}


ORDER = {
    "id": "gid://shopify/Order/1001",
    "name": "#1001",
    "createdAt": "2026-11-28T10:00:00Z",
    "updatedAt": "2026-11-28T10:05:00Z",
    "cancelledAt": None,
    "displayFinancialStatus": "AUTHORIZED",
    "displayFulfillmentStatus": "UNFULFILLED",
    "note": None,
    "email": "ana@example.com",
    "phone": None,
    "tags": ["erp"],
    "paymentGatewayNames": ["pix"],
    "currencyCode": "BRL",
    "customAttributes": [{"key": "entrega", "value": "manhã"}],
    "customer": {
        "id": "gid://shopify/Customer/5",
        "firstName": "Ana",
        "lastName": "Souza",
        "defaultEmailAddress": {"emailAddress": "ana@example.com"},
        "defaultPhoneNumber": None,
    },
    "shippingAddress": {
        "firstName": "Ana",
        "address1": "Rua XV, 100",
        "city": "Curitiba",
        "provinceCode": "PR",
        "zip": "80020-000",
        "countryCodeV2": "BR",
    },
    "billingAddress": None,
    "localizedFields": {
        "nodes": [
            {
                "key": "SHIPPING_CREDENTIAL_BR",
                "title": "CPF",
                "value": "",
                "purpose": "SHIPPING",
                "countryCode": "BR",
            },
            {
                "key": "TAX_CREDENTIAL_BR",
                "title": "CPF/CNPJ",
                "value": "123.456.789-09",
                "purpose": "TAX",
                "countryCode": "BR",
            },
        ]
    },
    "subtotalPriceSet": money("29.70"),
    "totalPriceSet": money("34.70"),
    "totalDiscountsSet": money("0.00"),
    "totalShippingPriceSet": money("5.00"),
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/1",
                "sku": "789",
                "name": "Arroz 5kg",
                "quantity": 3,
                "currentQuantity": 2,
                "variant": {"id": "gid://shopify/ProductVariant/9"},
                "originalUnitPriceSet": money("9.90"),
                "discountedUnitPriceAfterAllDiscountsSet": money("9.90"),
                "totalDiscountSet": money("0.00"),
            }
        ]
    },
    "discountApplications": {
        "nodes": [{"allocationMethod": "ACROSS", "targetType": "LINE_ITEM", "value": {"percentage": 10.0}}]
    },
    "shippingLines": {
        "nodes": [
            {
                "id": "gid://shopify/ShippingLine/1",
                "title": "Entrega",
                "code": "local",
                "source": "shopify",
                "originalPriceSet": money("5.00"),
                "discountedPriceSet": money("5.00"),
            }
        ]
    },
    "transactions": [
        {
            "id": "gid://shopify/OrderTransaction/1",
            "gateway": "pix",
            "kind": "AUTHORIZATION",
            "status": "SUCCESS",
            "amountSet": money("34.70"),
            "parentTransaction": None,
        },
        {
            "id": "gid://shopify/OrderTransaction/2",
            "gateway": "pix",
            "kind": "CAPTURE",
            "status": "SUCCESS",
            "amountSet": money("10.00"),
            "parentTransaction": {"id": "gid://shopify/OrderTransaction/1"},
        },
    ],
    "metafields": {
        "nodes": [
            {"namespace": "erp", "key": "nfe_key", "value": "4126...", "type": "single_line_text_field"}
        ]
    },
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/7",
                "status": "OPEN",
                "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/FulfillmentOrderLineItem/70",
                            "remainingQuantity": 2,
                            "totalQuantity": 3,
                            "lineItem": {"id": "gid://shopify/LineItem/1"},
                        }
                    ]
                },
            }
        ]
    },
}


def test_parse_order_reads_what_the_erp_import_needs():
    order = parse_order(ORDER)
    assert order.tax_id == "123.456.789-09"
    line = order.lines[0]
    assert (line.sku, line.quantity, line.current_quantity, line.variant_id) == (
        "789",
        3,
        2,
        "gid://shopify/ProductVariant/9",
    )
    assert line.original_unit_price.amount == Decimal("9.90") and line.original_unit_price.currency == "BRL"
    assert order.total.amount == Decimal("34.70")
    assert order.transactions[1].parent_id == "gid://shopify/OrderTransaction/1"
    assert order.transactions[1].kind == "CAPTURE"
    assert order.discounts[0].percentage == Decimal("10.0")
    assert order.shipping_lines[0].original_price.amount == Decimal("5.00")
    assert order.shipping_address.city == "Curitiba" and order.billing_address is None
    assert order.customer.email == "ana@example.com"
    assert order.metafields == {"erp.nfe_key": "4126..."}
    fo = order.fulfillment_orders[0]
    assert fo.location_id == "gid://shopify/Location/1"
    assert fo.lines[0].line_item_id == "gid://shopify/LineItem/1" and fo.lines[0].remaining_quantity == 2
    assert order.custom_attributes == {"entrega": "manhã"}


def test_parse_order_without_id_is_a_loud_error():
    with pytest.raises(UnexpectedResponse, match=r"order\.id"):
        parse_order({**ORDER, "id": None})


def test_parse_product_set():
    result = parse_product_set(
        {
            "product": {
                "id": "gid://shopify/Product/1",
                "handle": "arroz",
                "variants": {
                    "nodes": [
                        {
                            "id": "gid://shopify/ProductVariant/9",
                            "sku": "789",
                            "barcode": "7891234567895",
                            "price": "9.90",
                            "compareAtPrice": "12.90",
                            "inventoryItem": {"id": "gid://shopify/InventoryItem/9"},
                            "product": {"id": "gid://shopify/Product/1"},
                        }
                    ]
                },
            }
        }
    )
    variant = result.product.variant_by_sku("789")
    assert variant.inventory_item_id == "gid://shopify/InventoryItem/9"
    assert variant.compare_at_price == Decimal("12.90")
    assert result.product.variant_by_sku("nope") is None


def test_parse_user_errors_keeps_path_code_and_index():
    errors = parse_user_errors(
        [{"field": ["metafields", "0", "value"], "message": "bad", "code": "INVALID", "elementIndex": 0}]
    )
    assert errors == [UserError(("metafields", "0", "value"), "bad", "INVALID", 0)]


def test_parse_inventory():
    adjustment = parse_inventory_adjustment(
        {
            "inventoryAdjustmentGroup": {
                "id": "g",
                "reason": "correction",
                "changes": [
                    {
                        "name": "available",
                        "delta": -2,
                        "quantityAfterChange": 5,
                        "item": {"id": "i"},
                        "location": {"id": "l"},
                    }
                ],
            }
        }
    )
    assert adjustment.changes[0].delta == -2 and adjustment.changes[0].location_id == "l"
    assert parse_inventory_adjustment({"inventoryAdjustmentGroup": None}).id is None
    levels = parse_inventory_items(
        [
            {
                "id": "i",
                "sku": "789",
                "inventoryLevels": {
                    "nodes": [
                        {
                            "id": "lv",
                            "location": {"id": "l1"},
                            "quantities": [
                                {"name": "available", "quantity": 4},
                                {"name": "on_hand", "quantity": 6},
                            ],
                        }
                    ]
                },
            }
        ]
    )
    assert levels[0].quantities == {"available": 4, "on_hand": 6} and levels[0].sku == "789"


def test_parse_bulk_and_staged_target():
    op = parse_bulk_operation(
        {"id": "gid://shopify/BulkOperation/1", "status": "RUNNING", "objectCount": "12"}
    )
    assert op.object_count == 12 and not op.is_finished
    target = parse_staged_target(
        {
            "url": "https://up",
            "resourceUrl": None,
            "parameters": [{"name": "key", "value": "tmp/1/bulk.jsonl"}],
        }
    )
    assert target.staged_upload_path == "tmp/1/bulk.jsonl"


def test_parse_order_edit():
    edit = parse_order_edit(
        {
            "calculatedOrder": {
                "id": "gid://shopify/CalculatedOrder/1",
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/CalculatedLineItem/1",
                            "sku": "789",
                            "quantity": 2,
                            "variant": {"id": "gid://shopify/ProductVariant/9"},
                        }
                    ]
                },
            }
        }
    )
    assert edit.line_for_variant("gid://shopify/ProductVariant/9").quantity == 2


def test_idempotency_key_is_stable_and_content_sensitive():
    content = [{"inventoryItemId": "i", "locationId": "l", "quantity": 5}]
    a = idempotency_key("shop", "stock", "batch-1", content)
    assert a == idempotency_key(
        "shop", "stock", "batch-1", [{"quantity": 5, "locationId": "l", "inventoryItemId": "i"}]
    )
    assert a != idempotency_key("shop", "stock", "batch-1", [{**content[0], "quantity": 6}])
    assert a != idempotency_key("shop", "stock", "batch-2", content)
    assert idempotency_key("a", "bc") != idempotency_key("ab", "c")
    assert len(a) == 64


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        ("2026-12-06T19:00:00.987654+00:00", "2026-12-06T19:00:00Z"),  # floored: >= re-reads the boundary
        ("2026-12-06T16:00:00-03:00", "2026-12-06T19:00:00Z"),
        ("2026-12-06T19:00:00Z", "2026-12-06T19:00:00Z"),
        ("2026-12-06T19:00:00", "2026-12-06T19:00:00Z"),  # no zone: UTC
    ],
)
def test_a_search_time_is_written_as_shopify_writes_it(moment: str, said: str) -> None:
    from shopify_app.admin_api.results import search_time

    assert search_time(moment) == said


def test_the_sandbox_compares_search_times_as_instants() -> None:
    from sandbox.shopify.search_query import compare

    assert compare("2026-12-06T19:00:00Z", ">=", "2026-12-06T19:00:00.5+00:00") is False
    assert compare("2026-12-06T19:00:01Z", ">=", "2026-12-06T19:00:00.5+00:00") is True
    assert compare("2026-12-06T19:00:00Z", ">=", "2026-12-06T16:00:00-03:00") is True
    assert compare("2026-12-06T18:59:59Z", ">", "2026-12-06T16:00:00-03:00") is False
