"""orderEditRemoveDiscount: a later order edit takes off a manual line discount an earlier edit
committed (named by the CalculatedManualDiscountApplication id the edit's
`calculatedDiscountAllocations` give it), or one staged in the same edit; the commit restores the
line's price and the order's current total to the cent, and leaves the line's other discounts
(the checkout's code) alone. Refusals are INVALID userErrors."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify import checkout

from .helpers import Catalogue, ShopClient, amount, order
from .test_order_edit_discount import COMMIT, DISCOUNT, _discount

BEGIN = """
mutation Begin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id subtotalPriceSet { shopMoney { amount } }
      lineItems(first: 20) { nodes { id sku quantity
      calculatedDiscountAllocations { allocatedAmountSet { shopMoney { amount } }
        discountApplication { __typename id description } } } } }
    userErrors { field message }
  }
}"""

SET_QUANTITY = """
mutation Set($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    calculatedOrder { id } userErrors { field message }
  }
}"""

REMOVE = """
mutation Remove($id: ID!, $discountApplicationId: ID!) {
  orderEditRemoveDiscount(id: $id, discountApplicationId: $discountApplicationId) {
    calculatedOrder { id subtotalPriceSet { shopMoney { amount } } lineItems(first: 20) { nodes { id sku
      calculatedDiscountAllocations { discountApplication { id description } } } } }
    userErrors { field message code }
  }
}"""


def _begin(shop: ShopClient, order_id: str) -> tuple[str, dict[str, dict]]:
    begun = shop.data(BEGIN, {"id": order_id})["orderEditBegin"]["calculatedOrder"]
    return begun["id"], {line["sku"]: line for line in begun["lineItems"]["nodes"]}


def _total(shop: ShopClient, order_id: str) -> Decimal:
    return amount(order(shop, order_id)["currentTotalPriceSet"])


def _committed_discount(
    shop: ShopClient, order_id: str, sku: str, per_unit: str, cut_to: int | None = None
) -> None:
    calc_id, lines = _begin(shop, order_id)
    if cut_to is not None:
        shop.data(SET_QUANTITY, {"id": calc_id, "lineItemId": lines[sku]["id"], "quantity": cut_to})
    staged = shop.data(
        DISCOUNT, {"id": calc_id, "lineItemId": lines[sku]["id"], "discount": _discount(per_unit)}
    )
    assert staged["orderEditAddLineItemDiscount"]["userErrors"] == []
    assert shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]["userErrors"] == []


def test_a_committed_line_discount_is_removed_by_a_later_edit(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 3}, {"sku": "FJN-1", "quantity": 1}],
        gateway="cartao", capture="manual", discount_code="BEMVINDO", discount_percent=10.0, shipping="SEDEX",
        seed=2,
    )  # fmt: skip
    placed = _total(shop, order_id)
    _committed_discount(shop, order_id, "ARZ-1", "0.40", cut_to=2)  # 2 units left, 0,40 off each
    discounted = _total(shop, order_id)

    calc_id, lines = _begin(shop, order_id)
    allocations = lines["ARZ-1"]["calculatedDiscountAllocations"]
    kinds = sorted(a["discountApplication"]["__typename"] for a in allocations)
    assert kinds == ["CalculatedDiscountCodeApplication", "CalculatedManualDiscountApplication"], allocations
    manual = next(a for a in allocations if a["discountApplication"]["description"] == "Ajuste de peso")
    assert amount(manual["allocatedAmountSet"]) == Decimal("0.80")
    code = next(a for a in allocations if a is not manual)
    refused = shop.data(REMOVE, {"id": calc_id, "discountApplicationId": code["discountApplication"]["id"]})
    assert refused["orderEditRemoveDiscount"]["userErrors"][0]["code"] == "INVALID"

    removed = shop.data(REMOVE, {"id": calc_id, "discountApplicationId": manual["discountApplication"]["id"]})
    payload = removed["orderEditRemoveDiscount"]
    assert payload["userErrors"] == []
    [line] = [n for n in payload["calculatedOrder"]["lineItems"]["nodes"] if n["sku"] == "ARZ-1"]
    previewed = [a["discountApplication"]["description"] for a in line["calculatedDiscountAllocations"]]
    assert "Ajuste de peso" not in previewed and len(previewed) == 1, previewed  # the code's stays
    again = shop.data(REMOVE, {"id": calc_id, "discountApplicationId": manual["discountApplication"]["id"]})
    assert again["orderEditRemoveDiscount"]["userErrors"][0]["code"] == "INVALID"
    assert _total(shop, order_id) == discounted  # nothing before the commit
    assert shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]["userErrors"] == []

    assert _total(shop, order_id) == discounted + Decimal("0.80")
    arroz = next(line for line in order(shop, order_id)["lineItems"]["nodes"] if line["sku"] == "ARZ-1")
    assert len(arroz["discountAllocations"]) == 1, arroz["discountAllocations"]  # the code's only
    assert placed > _total(shop, order_id)  # the cut unit stays cut, the checkout's code stays on


def test_a_discount_staged_in_the_same_edit_is_removed_before_the_commit(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], gateway="pix",
        discount_rate=0.0, shipping="SEDEX", seed=2,
    )  # fmt: skip
    placed = _total(shop, order_id)
    calc_id, lines = _begin(shop, order_id)
    staged = shop.data(
        DISCOUNT, {"id": calc_id, "lineItemId": lines["ARZ-1"]["id"], "discount": _discount("0.40")}
    )
    change_id = staged["orderEditAddLineItemDiscount"]["addedDiscountStagedChange"]["id"]
    subtotal = amount(staged["orderEditAddLineItemDiscount"]["calculatedOrder"]["totalPriceSet"])
    assert subtotal == placed - Decimal("0.80")
    removed = shop.data(REMOVE, {"id": calc_id, "discountApplicationId": change_id})
    payload = removed["orderEditRemoveDiscount"]
    assert payload["userErrors"] == []
    [line] = payload["calculatedOrder"]["lineItems"]["nodes"]
    assert line["calculatedDiscountAllocations"] == []
    assert shop.data(COMMIT, {"id": calc_id})["orderEditCommit"]["userErrors"] == []
    assert _total(shop, order_id) == placed
