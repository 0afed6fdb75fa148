"""orderCapture on a gateway that allows one capture (OrderTransaction.multiCapturable false).

Multi-capture is Shopify Payments' on a Shopify Plus store only (orderCapture's docs), and Brazil
has no Shopify Payments: its card gateways are payments apps (Mercado Pago, Pagar.me, Cielo,
PagBank...), most of them one capture per authorisation. finalCapture "has no effect on
authorizations which aren't multi-capturable": the one capture closes the authorisation, the rest
is released (nothing capturable is left), and a second capture is refused. Which gateways allow
several captures is the emulator's setting (SandboxOptions.gateway_multi_capture); the checkout's
"cartao" (Cartão de crédito) keeps them, its "mercadopago" (Mercado Pago) does not."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify import checkout
from sandbox.shopify.options import SandboxOptions, multi_capture_from_env
from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures

from .helpers import Catalogue, ShopClient, amount

CAPTURE = """
mutation Capture($input: OrderCaptureInput!) {
  orderCapture(input: $input) {
    transaction { id kind status amountSet { shopMoney { amount } } parentTransaction { id } }
    userErrors { field message }
  }
}"""

MONEY = """
query Money($id: ID!) {
  order(id: $id) {
    displayFinancialStatus capturable paymentGatewayNames
    totalCapturableSet { shopMoney { amount } } totalOutstandingSet { shopMoney { amount } }
    totalReceivedSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
    transactions { id kind status gateway manuallyCapturable multiCapturable
                   amountSet { shopMoney { amount } } totalUnsettledSet { shopMoney { amount } } }
  }
}"""


def _authorised(shop: ShopClient, gateway: str, seed: int = 9) -> tuple[str, dict]:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway=gateway,
        capture="manual", discount_rate=0.0, shipping="PAC", seed=seed,
    )  # fmt: skip
    return order_id, shop.data(MONEY, {"id": order_id})["order"]


def _capture(shop: ShopClient, order_id: str, auth_id: str, value: str, final: bool = False) -> dict:
    variables = {"input": {"id": order_id, "parentTransactionId": auth_id, "amount": value,
                           "currency": "BRL", "finalCapture": final}}  # fmt: skip
    return shop.data(CAPTURE, variables)["orderCapture"]


def test_a_payments_app_authorisation_allows_one_capture_which_releases_the_rest(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id, placed = _authorised(shop, "mercadopago")
    [auth] = placed["transactions"]
    assert placed["paymentGatewayNames"] == ["Mercado Pago"] and auth["gateway"] == "Mercado Pago"
    assert auth["kind"] == "AUTHORIZATION" and auth["multiCapturable"] is False
    assert placed["displayFinancialStatus"] == "AUTHORIZED"
    assert amount(placed["totalCapturableSet"]) == Decimal("49.80")

    first = _capture(shop, order_id, auth["id"], "20.00", final=False)  # finalCapture has no effect
    assert first["userErrors"] == [] and first["transaction"]["status"] == "SUCCESS"
    after = shop.data(MONEY, {"id": order_id})["order"]
    closed = next(t for t in after["transactions"] if t["id"] == auth["id"])
    assert closed["manuallyCapturable"] is False and amount(closed["totalUnsettledSet"]) == 0
    assert after["capturable"] is False and amount(after["totalCapturableSet"]) == 0
    assert after["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert amount(after["totalReceivedSet"]) == Decimal("20.00")
    assert amount(after["totalOutstandingSet"]) == Decimal("29.80"), "the rest is owed, not authorised"
    assert [t["kind"] for t in after["transactions"]] == ["AUTHORIZATION", "CAPTURE"], "released: no VOID"

    second = _capture(shop, order_id, auth["id"], "5.00")
    assert second["transaction"] is None
    assert second["userErrors"][0]["field"] == ["input", "parentTransactionId"]
    assert "one capture" in second["userErrors"][0]["message"]
    assert len(shop.data(MONEY, {"id": order_id})["order"]["transactions"]) == 2, "nothing more captured"


def test_the_card_gateway_the_demo_uses_keeps_several_captures(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id, placed = _authorised(shop, "cartao")
    [auth] = placed["transactions"]
    assert auth["gateway"] == "Cartão de crédito" and auth["multiCapturable"] is True
    assert _capture(shop, order_id, auth["id"], "20.00")["userErrors"] == []
    after = shop.data(MONEY, {"id": order_id})["order"]
    assert amount(after["totalCapturableSet"]) == Decimal("29.80") and after["capturable"] is True
    assert _capture(shop, order_id, auth["id"], "29.80", final=True)["userErrors"] == []
    assert shop.data(MONEY, {"id": order_id})["order"]["displayFinancialStatus"] == "PAID"


def test_a_one_capture_authorisation_holds_while_its_capture_is_pending_and_is_free_again_if_refused(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """A payments app answers later: its one capture, pending, holds the whole authorisation (no
    second capture meanwhile); refused (PROCESSING_ERROR) it took nothing, so one capture is still
    allowed; resolved, the authorisation is closed."""
    sandbox = shop.handle.sandbox
    order_id, placed = _authorised(shop, "mercadopago", seed=10)
    auth_id = placed["transactions"][0]["id"]
    answer_next_capture(sandbox, "acme", order_id, "PENDING")
    assert _capture(shop, order_id, auth_id, "20.00")["transaction"]["status"] == "PENDING"
    held = shop.data(MONEY, {"id": order_id})["order"]
    assert amount(held["totalCapturableSet"]) == 0 and held["displayFinancialStatus"] == "PENDING"
    assert _capture(shop, order_id, auth_id, "5.00")["userErrors"], "a second capture while one is pending"

    settle_captures(sandbox, "acme", order_id, "FAILURE")
    free = shop.data(MONEY, {"id": order_id})["order"]
    assert amount(free["totalCapturableSet"]) == Decimal("49.80"), "the refused capture took nothing"

    answer_next_capture(sandbox, "acme", order_id, "PENDING")
    assert _capture(shop, order_id, auth_id, "30.00")["transaction"]["status"] == "PENDING"
    settle_captures(sandbox, "acme", order_id)
    done = shop.data(MONEY, {"id": order_id})["order"]
    assert amount(done["totalCapturableSet"]) == 0 and done["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert _capture(shop, order_id, auth_id, "5.00")["userErrors"]


def test_which_gateways_allow_several_captures_is_a_setting() -> None:
    options = SandboxOptions()
    assert options.multi_capturable("Cartão de crédito") is True
    assert options.multi_capturable("Mercado Pago") is False
    assert options.multi_capturable("Pagar.me") is False, "unlisted: one capture (no Shopify Payments here)"
    assert multi_capture_from_env("Cartão de crédito=0, Pagar.me=1") == {
        **SandboxOptions().gateway_multi_capture, "Cartão de crédito": False, "Pagar.me": True,
    }  # fmt: skip
