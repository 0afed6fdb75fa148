"""A store that charges a tax inside its prices (taxesIncluded): the tax is in the subtotal and
the total, not added; each line's taxLines carry it and priceAfterAllDiscountsBeforeTaxesSet
"doesn't include taxes" (the line's value after all discounts less the tax inside it)."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify import checkout

from .helpers import Catalogue, ShopClient, amount

CENT = Decimal("0.01")
TAXED = """
query Taxed($id: ID!) {
  order(id: $id) {
    taxesIncluded
    currentSubtotalPriceSet { shopMoney { amount } }
    currentTotalPriceSet { shopMoney { amount } }
    currentTotalTaxSet { shopMoney { amount } }
    shippingLines(first: 5) { nodes { originalPriceSet { shopMoney { amount } } } }
    lineItems(first: 20) {
      nodes {
        originalTotalSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        priceAfterAllDiscountsBeforeTaxesSet { shopMoney { amount } }
        taxLines { rate title priceSet { shopMoney { amount } } }
      }
    }
  }
}
"""


def test_a_tax_inside_the_prices_is_left_out_of_the_lines_value_before_taxes(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 3}, {"sku": "ARZ-5", "quantity": 1}],
        discount_code="BEMVINDO10",
        discount_percent=10.0,
        shipping="PAC",
        company_rate=0.0,
        seed=11,
        tax_rate="0.1",
    )
    doc = shop.data(TAXED, {"id": order_id})["order"]
    assert doc["taxesIncluded"] is True
    values, taxes = [], []
    for line in doc["lineItems"]["nodes"]:
        allocated = sum((amount(a["allocatedAmountSet"]) for a in line["discountAllocations"]), Decimal(0))
        value = amount(line["originalTotalSet"]) - allocated
        [tax] = line["taxLines"]
        assert tax["rate"] == 0.1 and amount(tax["priceSet"]) == (value / 11).quantize(CENT)
        assert amount(line["priceAfterAllDiscountsBeforeTaxesSet"]) == value - amount(tax["priceSet"])
        values.append(value)
        taxes.append(amount(tax["priceSet"]))
    shipping = amount(doc["shippingLines"]["nodes"][0]["originalPriceSet"])
    assert amount(doc["currentSubtotalPriceSet"]) == sum(values)  # the tax is inside, not added
    assert amount(doc["currentTotalPriceSet"]) == sum(values) + shipping
    assert amount(doc["currentTotalTaxSet"]) == sum(taxes) > 0
