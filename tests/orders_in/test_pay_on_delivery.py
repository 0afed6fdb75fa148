"""Payment at the door ("pagamento na entrega": cash or the driver's card machine): a Shopify manual
payment method the shop lists in its setting pay_on_delivery_gateways. Shopify leaves the order
PENDING with a PENDING sale of that method and nothing taken online; the order goes to the ERP with
the rest of its total under the method's ERP payment form, and without the setting it waits saying
which setting sends it."""

from __future__ import annotations

from decimal import Decimal

from jobs import invoice_capture, order_map, orders, reconcile
from ledger import mappings
from ledger.db import session_scope
from ledger.mappings import gateway_key
from ledger.models import MessageStatus, Shop
from sandbox.shopify import order_store
from shopify_app.admin_api.order_settlement import OrderTotal, Settlement

from .test_edits_and_cancels import change_order, edit_in_shopify
from .test_payment_forms import forms, order_of, txn

COD = "Cash on Delivery (COD)"
KEYS = frozenset({gateway_key(" cash on  delivery (cod) ")})  # as the merchant may type it


def cod(n: int, amount: str) -> dict:
    """Shopify's pending sale of a manual payment method."""
    return txn(n, COD, "SALE", "PENDING", amount, manualPaymentGateway=True)


# ---------------------------------------------------------------- the rules (pure)


def test_a_cod_order_is_ready_only_when_the_setting_lists_its_method():
    assert order_map.gateway_keys([" cash on  delivery (cod) ", "", 7]) == KEYS
    order = order_of("PENDING", cod(1, "100.00"))
    for confirmation in ("paid", "authorized"):
        assert not order_map.is_ready(order, confirmation)
        assert order_map.is_ready(order, confirmation, KEYS)
    assert order_map.payment_names(order, KEYS) == [COD]
    assert forms(order, "100.00", {COD: 4}) == [(4, Decimal("100.00"))]
    assert order_map.map_payments(order, Decimal("100.00"), {"CASH ON DELIVERY (COD)": 4}, KEYS)[
        0
    ].amount == Decimal("100.00")


def test_a_gift_card_and_cod_order_books_each_form_and_the_rest_under_cod():
    """A gift card paid 30 online: it goes under its own form; the 70 the driver collects under COD's,
    not under the gift card's (the last form that kept money, without the setting)."""
    order = order_of("PARTIALLY_PAID", txn(1, "gift_card", "SALE", "SUCCESS", "30.00"), cod(2, "70.00"))
    assert order_map.is_ready(order, "paid", KEYS)
    assert order_map.payment_names(order, KEYS) == ["gift_card", COD]
    payments = order_map.map_payments(order, Decimal("100.00"), {"gift_card": 9, COD: 4}, KEYS)
    assert [(p.nro_forma_pagto, p.amount) for p in payments] == [(9, Decimal("30.00")), (4, Decimal("70.00"))]


def test_a_cod_order_waits_for_an_online_payment_still_pending_failed_or_not_captured():
    pending_pix = order_of("PENDING", txn(1, "Pix", "SALE", "PENDING", "30.00"), cod(2, "70.00"))
    failed_pix = order_of("PENDING", txn(1, "Pix", "SALE", "FAILURE", "30.00"), cod(2, "70.00"))
    for order in (pending_pix, failed_pix):
        assert not order_map.is_ready(order, "paid", KEYS) and not order_map.is_ready(
            order, "authorized", KEYS
        )
    # A card authorised part (the rest at the door): as the card alone, "paid" waits for its capture.
    authorised = order_of(
        "AUTHORIZED",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "30.00", manuallyCapturable=True),
        cod(2, "70.00"),
    )
    assert not order_map.is_ready(authorised, "paid", KEYS)
    assert order_map.is_ready(authorised, "authorized", KEYS)
    voided = order_of(
        "PENDING",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "30.00", manuallyCapturable=False),
        txn(3, "cartao", "VOID", "SUCCESS", "30.00", parent=1),
        cod(2, "70.00"),
    )
    assert not order_map.is_ready(voided, "authorized", KEYS)


def test_a_declined_attempt_then_the_whole_total_at_the_door_goes():
    """Shopify keeps a declined card attempt on the order; the buyer then chose to pay the whole
    total at the door: nothing online is short, so the order goes (the failed attempt took nothing).
    A failed Pix of part of it, the door collecting only the rest, still waits (above)."""
    card_sale = order_of("PENDING", txn(1, "cartao", "SALE", "FAILURE", "100.00"), cod(2, "100.00"))
    card_auth = order_of("PENDING", txn(1, "cartao", "AUTHORIZATION", "FAILURE", "100.00"), cod(2, "100.00"))
    for order in (card_sale, card_auth):
        assert order_map.is_ready(order, "paid", KEYS) and order_map.is_ready(order, "authorized", KEYS)
        assert order_map.map_payments(order, Decimal("100.00"), {COD: 4}, KEYS)[0].amount == Decimal("100.00")


def test_an_online_pending_sale_sharing_a_listed_name_is_no_payment_at_the_door():
    """manualPaymentGateway false: an online gateway's sale not paid yet (a Pix QR) named like a
    listed manual method is money still due online: the order waits, and invoicing would not take
    it for money the driver collects."""
    online = order_of("PENDING", txn(1, "Pix", "SALE", "PENDING", "100.00", manualPaymentGateway=False))
    listed = order_map.gateway_keys(["pix"])
    assert not order_map.is_ready(online, "paid", listed) and not order_map.is_ready(
        online, "authorized", listed
    )
    state = _settlement(pending_sales=(("Pix", Decimal("100.00"), False),))
    assert invoice_capture.delivery_method(state, listed) is None
    assert (
        invoice_capture.delivery_method(
            _settlement(pending_sales=(("Pix", Decimal("100.00"), True),)), listed
        )
        == "Pix"
    )


def _settlement(**fields) -> Settlement:
    base = dict(id="gid://shopify/Order/1", name="#1001", cancelled_at=None, financial_status="PENDING",
                fulfillment_status=None, tags=[], current_total=Decimal("100.00"), currency="BRL",
                total_capturable=Decimal("0"), authorizations=[], paid=Decimal("0"), nfe={})  # fmt: skip
    return Settlement(**(base | fields))


def test_a_pending_boleto_is_not_taken_for_a_payment_at_the_door():
    boleto = order_of("PENDING", txn(1, "Boleto bancário", "SALE", "PENDING", "100.00"))
    assert not order_map.is_ready(boleto, "authorized", order_map.gateway_keys(["Boleto"]))
    assert order_map.delivery_waiting(boleto, frozenset()) == ""  # not a manual method: no hint


# ---------------------------------------------------------------- against both sandboxes


def _set(world, **settings) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, **settings}


def test_a_cod_order_waits_naming_the_setting_then_goes_with_its_payment_form(world):
    """A custom manual method "Pagamento na entrega": without the setting the order waits, and its
    message names the setting; listed, it parks on its payment De:Para like any gateway, then goes
    with the whole total under that form (nothing taken online), and reconciliation holds nothing."""
    name = "Pagamento na entrega"
    gid = world.place([(world.sku(0), 2)], gateway="cod", gateway_name=name)
    num = gid.rsplit("/", 1)[-1]
    doc = world.order_doc(gid)
    assert doc["displayFinancialStatus"] == "PENDING" and doc["paymentGatewayNames"] == [name]
    assert [(t["kind"], t["status"], t["manualPaymentGateway"]) for t in doc["_transactions"]] == [
        ("SALE", "PENDING", True)
    ]
    total = Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "Waiting for payment" in message.error_text
    assert "pay_on_delivery_gateways" in message.error_text and repr(name) in message.error_text
    assert world.erp_orders_for(gid) == []

    _set(world, pay_on_delivery_gateways=["  pagamento NA entrega "])
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.PARKED.value
    message = world.message(gid)
    assert message.error_detail["mapping"] == {"kind": "payment_method", "code": name}

    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", name, "4")
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.DONE.value
    [erp_order] = world.erp_orders_for(gid)
    stored = world.chain.order(erp_order["nropedvenda"])
    assert [(p["nroFormaPagto"], Decimal(str(p["vlrPagto"]))) for p in stored["formasPagto"]] == [(4, total)]
    assert world.order_doc(gid)["displayFinancialStatus"] == "PENDING"  # not marked paid by the app

    listed = OrderTotal(gid, doc["name"], None, "", None, "PENDING", total)
    held, _closed = reconcile._held_in_app(world.shop_id, [listed])
    assert held == {}


def test_a_gift_card_and_cod_order_goes_with_both_forms(world):
    """A gift card paid R$ 5.00 online and the rest is paid at the door: PARTIALLY_PAID; it goes
    with 5.00 under the gift card's form and the rest under COD's, totalling the order; an edit
    sends the forms again by the same rule."""
    _set(world, pay_on_delivery_gateways=[COD])
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "gift_card", "6")
        mappings.upsert_mapping(session, world.shop_id, "payment_method", COD, "4")
    gid = world.place([(world.sku(1), 1)], gateway="cod")
    total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])

    def gift_card_first(ctx, order):
        pending = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        pending["amountSet"] = order_store.bag(total - Decimal("5.00"))
        order["_transactions"].insert(
            0, order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", Decimal("5.00"))
        )

    change_order(world, gid, gift_card_first)  # before its orders/create is taken in
    assert world.order_doc(gid)["displayFinancialStatus"] == "PARTIALLY_PAID"
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    [erp_order] = world.erp_orders_for(gid)
    paid = world.chain.order(erp_order["nropedvenda"])["formasPagto"]
    assert [(p["nroFormaPagto"], Decimal(str(p["vlrPagto"]))) for p in paid] == [
        (6, Decimal("5.00")),
        (4, total - Decimal("5.00")),
    ]
    assert sum(Decimal(str(p["vlrPagto"])) for p in paid) == total

    # A Shopify edit before the picking (2 units now): the ERP's forms follow the new total by the
    # same rule, the gift card's 5.00 kept and the rest still collected at delivery.
    edit_in_shopify(world, gid, world.sku(1), 2)
    world.drain()
    edited = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert edited > total
    after = world.chain.order(erp_order["nropedvenda"])["formasPagto"]
    assert [(p["nroFormaPagto"], Decimal(str(p["vlrPagto"]))) for p in after] == [
        (6, Decimal("5.00")),
        (4, edited - Decimal("5.00")),
    ]
