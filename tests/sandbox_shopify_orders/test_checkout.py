"""The checkout simulator: placed orders read back through GraphQL with a valid CPF/CNPJ in
localizedFields, totals that add up to the cent, stock committed, and signed REST webhooks
without the tax id."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from stdnum.br import cnpj, cpf

from sandbox.shopify import checkout
from sandbox.shopify.checkout_people import make_buyer, make_cnpj, make_cpf

from .helpers import API_SECRET, Catalogue, Receiver, ShopClient, amount, line_by_sku, order, signed_by, stock


def test_generated_tax_ids_are_valid() -> None:
    rng = random.Random(3)
    assert all(cpf.is_valid(make_cpf(rng)) for _ in range(50))
    assert all(cnpj.is_valid(make_cnpj(rng)) for _ in range(20))
    alphanumeric = [make_cnpj(rng, alphanumeric=True) for _ in range(20)]
    assert all(cnpj.is_valid(c) and not c.isdigit() for c in alphanumeric)
    assert make_buyer(rng, tax_id="390.533.447-05").tax_id == "39053344705"


def test_placed_order_reads_back_with_cpf_and_exact_totals(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[
            {"sku": "ARZ-1", "quantity": 3},
            {"sku": "FJN-1", "quantity": 1},
            {"sku": "ARZ-5", "quantity": 1},
        ],
        gateway="pix",
        discount_code="BEMVINDO10",
        discount_percent=10.0,
        shipping="PAC",
        company_rate=0.0,
        seed=11,
    )
    doc = order(shop, order_id)
    assert doc["name"] == "#1001" and doc["currencyCode"] == "BRL"
    tax = next(f for f in doc["localizedFields"]["nodes"] if f["key"] == "TAX_CREDENTIAL_BR")
    assert tax["purpose"] == "TAX" and tax["countryCode"] == "BR" and cpf.is_valid(tax["value"])
    assert {f["key"] for f in doc["localizedFields"]["nodes"]} == {
        "TAX_CREDENTIAL_BR",
        "SHIPPING_CREDENTIAL_BR",
    }
    address = doc["shippingAddress"]
    assert address["countryCodeV2"] == "BR" and len(address["zip"]) == 9 and address["provinceCode"]

    lines = doc["lineItems"]["nodes"]
    original = sum((amount(li["originalTotalSet"]) for li in lines), Decimal(0))
    assert original == Decimal("7.90") * 3 + Decimal("8.49") + Decimal("29.90")
    allocated = sum(
        (amount(a["allocatedAmountSet"]) for li in lines for a in li["discountAllocations"]), Decimal(0)
    )
    assert (
        allocated
        == amount(doc["totalDiscountsSet"])
        == (original * Decimal("0.10")).quantize(Decimal("0.01"))
    )
    for li in lines:
        share = sum((amount(a["allocatedAmountSet"]) for a in li["discountAllocations"]), Decimal(0))
        # An order-level code is the lines' allocation only: their own discount fields leave it out.
        assert amount(li["priceAfterAllDiscountsBeforeTaxesSet"]) == amount(li["originalTotalSet"]) - share
        assert amount(li["discountedTotalSet"]) == amount(li["originalTotalSet"])
        assert amount(li["totalDiscountSet"]) == 0
        assert li["discountAllocations"][0]["discountApplication"]["code"] == "BEMVINDO10"
    assert amount(doc["subtotalPriceSet"]) == original - allocated
    assert amount(doc["totalShippingPriceSet"]) == Decimal("19.90")
    assert amount(doc["totalPriceSet"]) == original - allocated + Decimal("19.90")
    assert doc["displayFinancialStatus"] == "PAID" and doc["paymentGatewayNames"] == ["Pix"]
    assert [(t["kind"], t["status"]) for t in doc["transactions"]] == [("SALE", "SUCCESS")]
    assert amount(doc["transactions"][0]["amountSet"]) == amount(doc["totalPriceSet"])
    assert line_by_sku(doc, "ARZ-1")["variant"]["id"] == catalogue.variants["ARZ-1"]["id"]
    assert stock(shop, catalogue, "ARZ-1") == {"available": 7, "committed": 3, "on_hand": 10}

    fulfillment_order = doc["fulfillmentOrders"]["nodes"][0]
    assert fulfillment_order["status"] == "OPEN"
    assert fulfillment_order["assignedLocation"]["location"]["id"] == catalogue.location_id
    assert sum(i["remainingQuantity"] for i in fulfillment_order["lineItems"]["nodes"]) == 5


def test_orders_create_webhook_is_signed_and_has_no_tax_id(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-5", "quantity": 2}],
        gateway="pix",
        discount_rate=0.0,
        seed=5,
    )
    shop.wait_webhooks()
    creates = receiver.topics("orders/create")
    assert len(creates) == 1 and signed_by(creates[0], API_SECRET)
    assert not signed_by(creates[0], "another-secret")
    body = creates[0].json
    assert body["admin_graphql_api_id"] == order_id and body["id"] == int(order_id.rsplit("/", 1)[1])
    assert body["total_price"] == amount(order(shop, order_id)["totalPriceSet"]).to_eng_string()
    assert body["line_items"][0]["sku"] == "ARZ-5" and body["line_items"][0]["quantity"] == 2
    assert body["line_items"][0]["variant_id"] == int(catalogue.variants["ARZ-5"]["id"].rsplit("/", 1)[1])
    assert body["financial_status"] == "paid" and body["currency"] == "BRL"
    assert body["shipping_address"]["country_code"] == "BR" and body["customer"]["id"]
    tax_id = next(f for f in order(shop, order_id)["localizedFields"]["nodes"])["value"]
    digits = "".join(c for c in tax_id if c.isalnum())
    assert tax_id not in creates[0].body.decode() and digits not in creates[0].body.decode()
    assert len(receiver.topics("orders/paid")) == 1


def test_the_rest_paid_by_card_needs_a_known_brand(shop: ShopClient, catalogue: Catalogue) -> None:
    """pay_balance by card carries CardPaymentDetails of a brand the sandbox knows (CARD_BRANDS), as
    the checkout's first payment: any other is refused before the order changes."""
    order_id = checkout.place_order(shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}],
                                    gateway="pix", shipping=None, seed=1)  # fmt: skip
    before = order(shop, order_id)
    with pytest.raises(checkout.CheckoutError, match="card_brand"):
        checkout.pay_balance(shop.handle.sandbox, "acme", order_id, gateway="cartao", card_brand="Diners")
    assert order(shop, order_id) == before
