"""orderEditAddLineItemDiscount: a fixed per-unit discount staged on a calculated order lowers
that line's discounted price and the edit's total; commit puts it on the order (discount
allocation, ManualDiscountApplication, current totals) so a capture of the new total pays the
order in full; refusals come back as Shopify-shaped userErrors."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify import checkout

from .helpers import Catalogue, ShopClient, amount, line_by_sku, order

BEGIN = """
mutation Begin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id lineItems(first: 20) { nodes { id sku quantity } } }
    userErrors { field message }
  }
}"""

DISCOUNT = """
mutation Discount($id: ID!, $lineItemId: ID!, $discount: OrderEditAppliedDiscountInput!) {
  orderEditAddLineItemDiscount(id: $id, lineItemId: $lineItemId, discount: $discount) {
    addedDiscountStagedChange { id description value { ... on MoneyV2 { amount currencyCode } } }
    calculatedLineItem {
      id quantity hasStagedLineItemDiscount
      discountedUnitPriceSet { shopMoney { amount } }
      calculatedDiscountAllocations { allocatedAmountSet { shopMoney { amount } }
        discountApplication { description allocationMethod appliedTo } }
    }
    calculatedOrder { id totalPriceSet { shopMoney { amount } } }
    userErrors { field message }
  }
}"""

COMMIT = """
mutation Commit($id: ID!) {
  orderEditCommit(id: $id, staffNote: "Ajuste de peso na separação") {
    order { id edited }
    userErrors { field message }
  }
}"""

APPLIED = """
query Applied($id: ID!) {
  order(id: $id) {
    currentTotalPriceSet { shopMoney { amount } }
    totalCapturableSet { shopMoney { amount } }
    displayFinancialStatus
    discountApplications(first: 5) { nodes { allocationMethod targetType
      ... on ManualDiscountApplication { title description }
      value { ... on MoneyV2 { amount } } } }
    lineItems(first: 10) { nodes { sku discountedTotalSet { shopMoney { amount } }
      discountAllocations { allocatedAmountSet { shopMoney { amount } }
        discountApplication { ... on ManualDiscountApplication { description } } } } }
  }
}"""

CAPTURE = """
mutation Capture($input: OrderCaptureInput!) {
  orderCapture(input: $input) { transaction { id status } userErrors { field message } }
}"""


def _discount(amount_: str, currency: str = "BRL", description: str = "Ajuste de peso") -> dict:
    return {"fixedValue": {"amount": amount_, "currencyCode": currency}, "description": description}


def test_line_discount_is_previewed_committed_and_the_new_total_is_captured_in_full(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}, {"sku": "FJN-1", "quantity": 1}],
        gateway="cartao", capture="manual", discount_rate=0.0, shipping="SEDEX", seed=2,
    )  # fmt: skip
    before = order(shop, order_id)
    total = amount(before["currentTotalPriceSet"])
    begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
    calc_id = begin["calculatedOrder"]["id"]
    arroz = next(li["id"] for li in begin["calculatedOrder"]["lineItems"]["nodes"] if li["sku"] == "ARZ-1")

    staged = shop.data(DISCOUNT, {"id": calc_id, "lineItemId": arroz, "discount": _discount("0.40")})
    payload = staged["orderEditAddLineItemDiscount"]
    assert payload["userErrors"] == []
    assert payload["addedDiscountStagedChange"]["description"] == "Ajuste de peso"
    assert payload["addedDiscountStagedChange"]["value"] == {"amount": "0.40", "currencyCode": "BRL"}
    line = payload["calculatedLineItem"]
    assert line["hasStagedLineItemDiscount"] is True
    assert amount(line["discountedUnitPriceSet"]) == Decimal("7.50")  # 7.90 - 0.40 per unit
    [allocation] = line["calculatedDiscountAllocations"]
    assert amount(allocation["allocatedAmountSet"]) == Decimal("0.80")  # two units
    assert allocation["discountApplication"]["allocationMethod"] == "EACH"
    assert amount(payload["calculatedOrder"]["totalPriceSet"]) == total - Decimal("0.80")
    assert amount(order(shop, order_id)["currentTotalPriceSet"]) == total  # nothing before commit

    commit = shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]
    assert commit["userErrors"] == [] and commit["order"]["edited"] is True
    after = shop.data(APPLIED, {"id": order_id})["order"]
    new_total = amount(after["currentTotalPriceSet"])
    assert new_total == total - Decimal("0.80")
    assert amount(after["totalCapturableSet"]) == total  # the authorisation is unchanged
    [application] = after["discountApplications"]["nodes"]
    assert application["title"] == "Ajuste de peso" and application["value"]["amount"] == "0.40"
    assert (application["allocationMethod"], application["targetType"]) == ("EACH", "LINE_ITEM")
    arroz_line = next(n for n in after["lineItems"]["nodes"] if n["sku"] == "ARZ-1")
    assert amount(arroz_line["discountedTotalSet"]) == Decimal("15.00")
    [applied] = arroz_line["discountAllocations"]
    assert amount(applied["allocatedAmountSet"]) == Decimal("0.80")
    assert applied["discountApplication"]["description"] == "Ajuste de peso"
    assert line_by_sku(order(shop, order_id), "FJN-1")["discountAllocations"] == []

    authorization = next(t for t in before["transactions"] if t["kind"] == "AUTHORIZATION")
    capture = {"id": order_id, "parentTransactionId": authorization["id"], "amount": str(new_total),
               "currency": "BRL", "finalCapture": True}  # fmt: skip
    captured = shop.data(CAPTURE, {"input": capture})["orderCapture"]
    assert captured["userErrors"] == []
    assert shop.data(APPLIED, {"id": order_id})["order"]["displayFinancialStatus"] == "PAID"


def test_refusals_are_user_errors_and_stage_nothing(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}, {"sku": "FJN-1", "quantity": 1}],
        gateway="cartao", capture="manual", discount_rate=0.0, shipping="SEDEX", seed=3,
    )  # fmt: skip
    begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
    calc_id = begin["calculatedOrder"]["id"]
    arroz = next(li["id"] for li in begin["calculatedOrder"]["lineItems"]["nodes"] if li["sku"] == "ARZ-1")

    def refused(line_item: str, discount: dict) -> list[dict]:
        payload = shop.data(DISCOUNT, {"id": calc_id, "lineItemId": line_item, "discount": discount})
        result = payload["orderEditAddLineItemDiscount"]
        assert result["calculatedOrder"] is None and result["addedDiscountStagedChange"] is None
        return result["userErrors"]

    assert refused(arroz, _discount("7.91"))[0]["field"] == ["discount", "fixedValue", "amount"]
    assert refused(arroz, _discount("0"))[0]["field"] == ["discount", "fixedValue", "amount"]
    assert refused(arroz, _discount("1.00", "USD"))[0]["field"] == ["discount", "fixedValue", "currencyCode"]
    assert refused(arroz, {"description": "x"})[0]["field"] == ["discount"]
    both = {**_discount("1.00"), "percentValue": 10.0}
    assert refused(arroz, both)[0]["field"] == ["discount"]
    assert refused(arroz, {"percentValue": 120.0})[0]["field"] == ["discount", "percentValue"]
    unknown = "gid://shopify/CalculatedLineItem/999999"
    assert refused(unknown, _discount("1.00"))[0] == {
        "field": ["lineItemId"],
        "message": "The line item does not exist.",
    }

    first = shop.data(DISCOUNT, {"id": calc_id, "lineItemId": arroz, "discount": _discount("1.00")})
    assert first["orderEditAddLineItemDiscount"]["userErrors"] == []
    assert "already has a discount" in refused(arroz, _discount("0.50"))[0]["message"]

    assert shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]["userErrors"] == []
    assert refused(arroz, _discount("0.50"))[0]["message"] == "The order edit has already been committed."
    after = shop.data(APPLIED, {"id": order_id})["order"]
    assert len(after["discountApplications"]["nodes"]) == 1  # only the accepted one


SET_QUANTITY = """
mutation SetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    userErrors { field message }
  }
}"""


def test_a_discount_added_after_a_cut_is_allocated_on_the_units_left_only(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """As in Shopify, a line's allocations count removed units, but a discount an edit adds after
    a cut was never on the units removed: 3 x 7.90 cut to 2, then 0.40 off each unit, is an
    allocation of 0.80; totalDiscountSet and discountedTotalSet count that 0.80, and the line's
    current value (priceAfterAllDiscountsBeforeTaxesSet) is 2 x 7.90 - 0.80."""
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 3}, {"sku": "FJN-1", "quantity": 1}],
        gateway="cartao", capture="manual", discount_rate=0.0, shipping="SEDEX", seed=2,
    )  # fmt: skip
    for change in ("cut", "discount"):
        begin = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]
        calc_id = begin["calculatedOrder"]["id"]
        arroz = next(
            li["id"] for li in begin["calculatedOrder"]["lineItems"]["nodes"] if li["sku"] == "ARZ-1"
        )
        if change == "cut":
            staged = shop.data(SET_QUANTITY, {"id": calc_id, "lineItemId": arroz, "quantity": 2})
            assert staged["orderEditSetQuantity"]["userErrors"] == []
        else:
            staged = shop.data(DISCOUNT, {"id": calc_id, "lineItemId": arroz, "discount": _discount("0.40")})
            assert staged["orderEditAddLineItemDiscount"]["userErrors"] == []
        assert shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]["userErrors"] == []
    line = line_by_sku(order(shop, order_id), "ARZ-1")
    assert (line["quantity"], line["currentQuantity"]) == (3, 2)
    assert [amount(a["allocatedAmountSet"]) for a in line["discountAllocations"]] == [Decimal("0.80")]
    assert amount(line["totalDiscountSet"]) == Decimal("0.80")
    assert amount(line["discountedTotalSet"]) == Decimal("22.90")  # 3 x 7.90 - 0.80
    assert amount(line["priceAfterAllDiscountsBeforeTaxesSet"]) == Decimal("15.00")  # 2 x 7.90 - 0.80
