"""The ERP payment forms of an order: what each gateway took and kept (voided or lapsed card
authorisations, money given back), and an order partly paid waiting for the rest."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_map, orders
from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from sandbox.shopify import order_store
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.enqueue import resume_parked
from tests.orders_in.test_order_map import money_bag, raw_order

from .test_edits_and_cancels import change_order


def txn(n: int, gateway: str, kind: str, status: str, amount: str, parent: int | None = None, **more) -> dict:
    """An OrderForErp transaction; `more` adds fields such as manuallyCapturable."""
    return {
        "id": f"gid://shopify/OrderTransaction/{n}",
        "gateway": gateway,
        "kind": kind,
        "status": status,
        "amountSet": money_bag(Decimal(amount)),
        "parentTransaction": {"id": f"gid://shopify/OrderTransaction/{parent}"} if parent else None,
        **more,
    }


def order_of(status: str, *transactions: dict, price: str = "80.10", names: list[str] | None = None):
    """An order of one line at `price` + R$ 19.90 shipping, with these transactions."""
    raw = raw_order([(Decimal(price), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["displayFinancialStatus"] = status
    raw["paymentGatewayNames"] = names or sorted({t["gateway"] for t in transactions})
    raw["transactions"] = list(transactions)
    return parse_erp_order(raw).order


def forms(order, total: str, codes: dict[str, int]) -> list[tuple[int, Decimal]]:
    return [(p.nro_forma_pagto, p.amount) for p in order_map.map_payments(order, Decimal(total), codes)]


# ---------------------------------------------------------------- card authorisations


def test_a_voided_card_authorisation_is_no_payment_when_the_order_was_paid_another_way():
    """Card authorised 100 (manual capture), voided (VOIDED), then the merchant marked the order
    paid by hand: the ERP books the 100 on the form that took it, not on the voided card."""
    order = order_of(
        "PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=False),
        txn(2, "cartao", "VOID", "SUCCESS", "100.00", parent=1),
        txn(3, "manual", "SALE", "SUCCESS", "100.00"),
    )
    assert forms(order, "100.00", {"cartao": 3, "manual": 1}) == [(1, Decimal("100.00"))]
    [payment] = order_map.map_payments(order, Decimal("100.00"), {"cartao": 3, "manual": 1})
    assert payment.channel_payment_id == "3"


def test_a_void_is_enough_even_when_capturability_was_not_read():
    order = order_of(
        "PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00"),
        txn(2, "cartao", "VOID", "SUCCESS", "100.00", parent=1),
        txn(3, "manual", "SALE", "SUCCESS", "100.00"),
    )
    assert forms(order, "100.00", {"cartao": 3, "manual": 1}) == [(1, Decimal("100.00"))]


def test_an_unmapped_voided_card_does_not_park_an_order_paid_another_way():
    """The card paid nothing: its gateway is no ERP payment, so it need not be mapped."""
    order = order_of(
        "PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=False),
        txn(2, "cartao", "VOID", "SUCCESS", "100.00", parent=1),
        txn(3, "manual", "SALE", "SUCCESS", "100.00"),
    )
    assert order_map.gateways_of(order) == ["manual"]
    assert forms(order, "100.00", {"manual": 1}) == [(1, Decimal("100.00"))]


def test_an_expired_card_authorisation_is_no_payment_when_the_order_was_paid_another_way():
    """The authorisation lapsed uncaptured (EXPIRED: Shopify no longer lets it be captured),
    then the merchant marked the order paid by hand: the card took nothing, the manual 100."""
    order = order_of(
        "PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=False),
        txn(2, "manual", "SALE", "SUCCESS", "100.00"),
    )
    assert order_map.gateways_of(order) == ["manual"]
    assert forms(order, "100.00", {"cartao": 3, "manual": 1}) == [(1, Decimal("100.00"))]


def test_an_open_authorisation_counts_and_a_partial_capture_counts_once():
    """Card authorised 100, 60 captured, the rest still capturable: the card holds 100 (60 taken
    + 40 open), which covers the order. After a final capture of 60 (the rest released), the card
    holds 60 and a gift card's 40 pays the rest."""
    gift = txn(3, "gift_card", "SALE", "SUCCESS", "40.00")
    capture = txn(2, "cartao", "CAPTURE", "SUCCESS", "60.00", parent=1)
    still_open = order_of(
        "PARTIALLY_PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=True),
        capture,
    )
    final = order_of(
        "PAID",
        txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=False),
        capture,
        gift,
    )
    assert forms(final, "100.00", {"cartao": 3, "gift_card": 9}) == [
        (3, Decimal("60.00")),
        (9, Decimal("40.00")),
    ]
    assert forms(still_open, "100.00", {"cartao": 3}) == [(3, Decimal("100.00"))]
    assert order_map.is_ready(still_open, "authorized")
    assert order_map.money_kept(still_open) == Decimal("100.00")


# ---------------------------------------------------------------- money given back


def test_a_form_that_gave_everything_back_is_no_erp_payment_even_when_listed_last():
    """Gift card 50 + Pix 50; an edit before the import took 50 off and refunded the Pix: the
    ERP order of 50 is paid by the gift card; the Pix (all given back) is no payment."""
    order = order_of(
        "PARTIALLY_REFUNDED",
        txn(1, "gift_card", "SALE", "SUCCESS", "50.00"),
        txn(2, "Pix", "SALE", "SUCCESS", "50.00"),
        txn(3, "Pix", "REFUND", "SUCCESS", "50.00", parent=2),
        price="30.10",
    )
    assert order_map.gateways_of(order) == ["gift_card"]
    assert forms(order, "50.00", {"gift_card": 9, "Pix": 2}) == [(9, Decimal("50.00"))]


def test_what_the_forms_kept_short_of_the_total_goes_to_the_last_that_kept_money():
    order = order_of(
        "PAID",
        txn(1, "cartao", "SALE", "SUCCESS", "60.00"),
        txn(2, "gift_card", "SALE", "SUCCESS", "39.99"),
        txn(3, "Pix", "SALE", "SUCCESS", "10.00"),
        txn(4, "Pix", "REFUND", "SUCCESS", "10.00", parent=3),
    )
    assert forms(order, "100.00", {"cartao": 3, "gift_card": 9, "Pix": 2}) == [
        (3, Decimal("60.00")),
        (9, Decimal("40.00")),
    ]


# ---------------------------------------------------------------- partly paid


def test_a_partly_paid_order_whose_other_payment_failed_does_not_go_as_fully_paid():
    """Gift card took R$ 5.00, the Pix of R$ 24.90 expired (FAILURE): Shopify says PARTIALLY_PAID
    and nothing pending will cover the rest. With the "authorized" setting it waits (it would go
    booked as R$ 29.90 paid by the gift card); once the buyer pays the rest by a new Pix, it goes."""
    card = txn(1, "gift_card", "SALE", "SUCCESS", "5.00")
    failed = txn(2, "Pix", "SALE", "FAILURE", "24.90")
    order = order_of("PARTIALLY_PAID", card, failed, price="10.00")
    assert not order_map.is_ready(order, "authorized")
    assert order_map.unpaid_balance(order) == Decimal("24.90")
    paid = order_of("PAID", card, failed, txn(3, "Pix", "SALE", "SUCCESS", "24.90"), price="10.00")
    assert order_map.is_ready(paid, "authorized") and order_map.unpaid_balance(paid) == 0
    assert forms(paid, "29.90", {"gift_card": 9, "Pix": 2}) == [(9, Decimal("5.00")), (2, Decimal("24.90"))]


def test_an_authorised_order_goes_when_its_open_authorisation_covers_it_not_after_a_void():
    authorised = txn(1, "cartao", "AUTHORIZATION", "SUCCESS", "100.00", manuallyCapturable=True)
    assert order_map.is_ready(order_of("AUTHORIZED", authorised), "authorized")
    voided = order_of(
        "PARTIALLY_PAID",
        {**authorised, "manuallyCapturable": False},
        txn(2, "cartao", "VOID", "SUCCESS", "100.00", parent=1),
        txn(3, "gift_card", "SALE", "SUCCESS", "20.00"),
    )
    assert not order_map.is_ready(voided, "authorized")


def test_an_order_paid_in_full_then_partly_refunded_goes_whatever_the_refund():
    """Paid R$ 100 in full, then R$ 10 given back before the import (a goodwill refund, no line
    removed): PARTIALLY_REFUNDED was paid in full once, so it goes; it never waits for the rest."""
    order = order_of(
        "PARTIALLY_REFUNDED",
        txn(1, "Pix", "SALE", "SUCCESS", "100.00"),
        txn(2, "Pix", "REFUND", "SUCCESS", "10.00", parent=1),
    )
    assert order_map.is_ready(order, "paid") and order_map.is_ready(order, "authorized")


def test_a_partly_paid_order_then_partly_refunded_still_waits_for_the_rest():
    """Gift card 30, the Pix of 70 FAILED, then 5 given back to the gift card: Shopify says
    PARTIALLY_REFUNDED (less given back than paid), but only 25 of 100 was kept: it waits."""
    order = order_of(
        "PARTIALLY_REFUNDED",
        txn(1, "gift_card", "SALE", "SUCCESS", "30.00"),
        txn(2, "Pix", "SALE", "FAILURE", "70.00"),
        txn(3, "gift_card", "REFUND", "SUCCESS", "5.00", parent=1),
        price="80.10",
    )
    assert order_map.unpaid_balance(order) == Decimal("75.00")
    assert not order_map.is_ready(order, "paid") and not order_map.is_ready(order, "authorized")


def test_a_partly_paid_order_waits_saying_what_is_missing_then_goes_when_paid(world):
    """Against both sandboxes, "authorized" setting: a gift card took R$ 5.00 and the boleto for
    the rest failed. The order waits (its stock held), saying how much is not paid; nothing goes
    to the ERP. The buyer pays the rest by Pix: it goes, 5.00 by gift card and the rest by Pix."""
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "payment_confirmation": "authorized"}
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "gift_card", "6")
    gid = world.place([(world.sku(0), 1)], gateway="boleto")
    world.drain()
    num = gid.rsplit("/", 1)[-1]

    def gift_card_and_failed_boleto(ctx, order):
        boleto = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        boleto["status"] = "FAILURE"
        order["_transactions"].insert(
            0, order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", Decimal("5.00"))
        )

    change_order(world, gid, gift_card_and_failed_boleto)
    doc = world.order_doc(gid)
    total = Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert doc["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert orders.import_order(world.shop_id, num, trigger="retry") == "waiting"
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "Waiting for payment" in message.error_text
    assert f"{total - Decimal('5.00')} is not paid" in message.error_text
    assert message.error_detail["unpaid"] == str(total - Decimal("5.00"))
    assert message.request_payload["lines"]  # its stock still counts it
    assert world.erp_orders_for(gid) == []

    def rest_by_pix(ctx, order):
        rest = total - Decimal("5.00")
        order["_transactions"].append(order_store.new_transaction(ctx, "SALE", "SUCCESS", "Pix", rest))

    change_order(world, gid, rest_by_pix)
    assert world.order_doc(gid)["displayFinancialStatus"] == "PAID"
    assert orders.import_order(world.shop_id, num, trigger="retry") == "done"
    [erp_order] = world.erp_orders_for(gid)
    paid = world.chain.order(erp_order["nropedvenda"])["formasPagto"]
    assert [(p["nroFormaPagto"], Decimal(str(p["vlrPagto"]))) for p in paid] == [
        (6, Decimal("5.00")),
        (2, total - Decimal("5.00")),
    ]


# ---------------------------------------------------------------- several gateways unmapped


def test_every_unmapped_gateway_is_named_and_the_order_parks_on_the_first():
    """A gift card and a card paid the order, neither mapped: the merchant is told both at once
    (not one, then, once mapped and resumed, the other), and the order parks on the first, the code
    a new De:Para line resumes it by."""
    from ledger.errors import MappingMissing

    order = order_of(
        "PAID",
        txn(1, "gift_card", "SALE", "SUCCESS", "30.00"),
        txn(2, "shopify_payments", "SALE", "SUCCESS", "70.00"),
        txn(3, "Pix", "SALE", "SUCCESS", "0.00"),
        names=["gift_card", "shopify_payments", "Pix"],
    )
    try:
        forms(order, "100.00", {"PIX": 2})
        raise AssertionError("mapped with gateways unmapped")
    except MappingMissing as exc:
        assert (exc.kind, exc.code) == ("payment_method", "gift_card")
        assert exc.detail["gateways"] == ["gift_card", "shopify_payments"]
        assert "'gift_card'" in exc.message and "'shopify_payments'" in exc.message, exc.message
        assert "Pix" not in exc.message  # mapped (as "PIX"): not named
    try:  # the first mapped: it parks on the one still missing
        forms(order, "100.00", {"gift_card": 6})
        raise AssertionError("mapped with a gateway unmapped")
    except MappingMissing as exc:
        assert (exc.code, exc.detail["gateways"]) == ("shopify_payments", ["shopify_payments"])
        assert "'gift_card'" not in exc.message
    assert forms(order, "100.00", {"gift_card": 6, "shopify_payments": 3}) == [
        (6, Decimal("30.00")),
        (3, Decimal("70.00")),
    ]


def _gift_card_and_card(world) -> str:
    """A paid order: R$ 5.00 by gift card, the rest by card (shopify_payments)."""
    gid = world.place([(world.sku(0), 1)], gateway="boleto")
    world.drain()  # unpaid: it waits

    def split(ctx, order):
        boleto = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        rest = Decimal(boleto["amountSet"]["shopMoney"]["amount"]) - Decimal("5.00")
        order["_transactions"] = [
            order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", Decimal("5.00")),
            order_store.new_transaction(ctx, "SALE", "SUCCESS", "shopify_payments", rest),
        ]

    change_order(world, gid, split)
    assert world.order_doc(gid)["displayFinancialStatus"] == "PAID"
    return gid


def _map(world, gateway: str, code: str) -> int:
    """What the De:Para page does on save: the line, then the replay of what waited for it."""
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", gateway, code)
        return resume_parked(session, world.shop_id, "payment_method", [gateway])


def test_two_unmapped_gateways_park_once_and_each_mapping_resumes_the_order_until_it_goes(world):
    """Against both sandboxes: the order parks naming both gateways; mapping the first resumes it
    and it parks on the second, still missing; mapping that one sends it, under both forms."""
    gid = _gift_card_and_card(world)
    num = gid.rsplit("/", 1)[-1]
    assert orders.import_order(world.shop_id, num, trigger="retry") == "parked"
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    assert message.error_detail["mapping"] == {"kind": "payment_method", "code": "gift_card"}
    assert message.error_detail["gateways"] == ["gift_card", "shopify_payments"]
    assert "'shopify_payments'" in message.error_text
    with session_scope() as session:  # the De:Para page lists both as waited for
        seen = mappings.unmapped_codes_seen(session, world.shop_id, "payment_method")
    assert seen == [("gift_card", 1), ("shopify_payments", 1)]
    assert _map(world, "gift_card", "6") == 1
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    assert message.error_detail["mapping"] == {"kind": "payment_method", "code": "shopify_payments"}
    assert world.erp_orders_for(gid) == []
    assert _map(world, "shopify_payments", "3") == 1
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    [erp_order] = world.erp_orders_for(gid)
    paid = world.chain.order(erp_order["nropedvenda"])["formasPagto"]
    assert [p["nroFormaPagto"] for p in paid] == [6, 3]


def test_both_gateways_mapped_resume_the_order_once_in_either_order(world):
    """The merchant maps both before it runs again, the second one first: the order waits on the
    first, so only that line resumes it, once; it goes."""
    gid = _gift_card_and_card(world)
    assert orders.import_order(world.shop_id, gid.rsplit("/", 1)[-1], trigger="retry") == "parked"
    assert _map(world, "shopify_payments", "3") == 0  # not what it waits on: it stays parked
    assert world.message(gid).status == MessageStatus.PARKED.value
    assert _map(world, "gift_card", "6") == 1
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    assert len(world.erp_orders_for(gid)) == 1


# ---------------------------------------------------------------- no payment recorded


def test_an_order_paid_with_no_payment_recorded_parks_on_no_payment_not_posted_without_one():
    """orderCreate(financialStatus: PAID) with no transactions (another app, a marketplace connector,
    an import): no gateway, so no De:Para was asked for and the PedidoVenda went with an empty
    formaPagtoDto for R$ 69.90 (the ERP booked a sale nobody paid for, silently). It parks on the
    payment_method code "(no payment)", and goes under the form the merchant maps to it."""
    from ledger.errors import MappingMissing
    from ledger.mappings import NO_PAYMENT
    from tests.orders_in.test_order_map import variants_for
    from tests.orders_in.test_tip_lines import TARGET

    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))])
    raw["transactions"], raw["paymentGatewayNames"] = [], []
    read = parse_erp_order(raw)
    assert order_map.is_ready(read.order, "paid")  # PAID as Shopify says: it goes
    assert order_map.payment_names(read.order) == [NO_PAYMENT]
    try:
        order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
        raise AssertionError("posted with no ERP payment form")
    except MappingMissing as exc:
        assert (exc.kind, exc.code) == ("payment_method", NO_PAYMENT)
        assert "recorded no payment" in str(exc)
    mapped = order_map.map_order(read, TARGET, variants_for(1), {"(No  Payment)": 9})  # as typed
    assert [(p.nro_forma_pagto, p.amount, p.channel_payment_id) for p in mapped.payments] == [
        (9, Decimal("69.90"), None)
    ]


def test_an_order_with_nothing_to_pay_still_has_no_erp_payment():
    """R$ 0 (a free sample, a 100% discount, free shipping): no gateway, nothing to map."""
    order = order_of("PAID", price="0.00", names=[])
    assert order_map.map_payments(order, Decimal("0.00"), {}) == []


def test_the_import_looks_up_the_no_payment_mapping_for_an_order_no_gateway_paid(world):
    """The import asks the De:Para for the names map_payments maps by: a merchant's line for
    "(no payment)" is found (as typed on the page: case and spaces apart)."""
    from jobs.order_lookup import payment_codes

    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))])
    raw["transactions"], raw["paymentGatewayNames"] = [], []
    order = parse_erp_order(raw).order
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "(No Payment)", "9")
        codes = payment_codes(session, world.shop_id, order_map.payment_names(order))
    assert forms(order, "69.90", codes) == [(9, Decimal("69.90"))]


# ---------------------------------------------------------------- payment terms


def _due_on_fulfillment(ctx, order):
    """A B2B order of a company location with payment terms "due on fulfillment": Shopify takes no
    payment at checkout (PENDING, no transaction); the payment falls due once every item is
    fulfilled (help.shopify.com/manual/b2b/payment-terms)."""
    order["_transactions"] = []
    order["paymentGatewayNames"] = []
    order["paymentTerms"] = {"id": "gid://shopify/PaymentTerms/1", "paymentTermsType": "FULFILLMENT",
                             "paymentTermsName": "Due on fulfillment", "due": False, "overdue": False,
                             "dueInDays": None}  # fmt: skip
    order["poNumber"] = "PO-778"


def test_an_order_with_payment_terms_waits_saying_it_has_terms_and_what_to_do(world):
    """The ERP picks, invoices and (through the app) fulfils; the payment falls due only once the
    order is fulfilled. The message said only "waiting for payment" (a deadlock read as a normal
    wait): it now names the terms, that nothing was taken at checkout, and what the merchant does."""
    gid = world.place([(world.sku(0), 1)], gateway="boleto")
    change_order(world, gid, _due_on_fulfillment)
    world.drain()
    assert world.order_doc(gid)["displayFinancialStatus"] == "PENDING"
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and world.erp_orders_for(gid) == []
    assert "payment terms (FULFILLMENT" in message.error_text and "cannot be paid first" in message.error_text
    assert "mark it as paid in Shopify" in message.error_text, message.error_text
    assert message.error_detail["payment_terms"] == "FULFILLMENT"
    assert message.request_payload["lines"]  # its stock still counts it


class _Runner:
    """A stand-in for the client's executor answering OrderPaymentTerms (or failing)."""

    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.calls = answer, error, []

    def query(self, name, variables):
        self.calls.append(name)
        if self.error is not None:
            raise self.error
        return self.answer


def test_payment_terms_are_read_apart_and_a_shop_without_the_scope_just_does_not_know_them():
    """paymentTerms needs the read_payment_terms scope: in OrderForErp, a shop that installed before
    the app asked for it would fail every order read (ACCESS_DENIED). Read apart, such a shop's
    waiting order has no terms known; any other error stays an error."""
    from types import SimpleNamespace

    import pytest

    from shopify_app.admin_api import documents
    from shopify_app.admin_api.errors import ShopifyGraphQLError
    from shopify_app.admin_api.order_import_ops import PaymentTerms, read_payment_terms

    assert "paymentTerms" not in documents.operation("OrderForErp").text
    terms = {
        "order": {"id": "gid://shopify/Order/1", "paymentTerms": {"paymentTermsType": "NET", "dueInDays": 30}}
    }
    client = SimpleNamespace(executor=_Runner(answer=terms))
    assert read_payment_terms(client, "gid://shopify/Order/1") == PaymentTerms("NET", 30)
    assert client.executor.calls == ["OrderPaymentTerms"]
    none = SimpleNamespace(
        executor=_Runner(answer={"order": {"id": "gid://shopify/Order/1", "paymentTerms": None}})
    )
    assert read_payment_terms(none, "gid://shopify/Order/1") is None
    denied = ShopifyGraphQLError(
        "OrderPaymentTerms",
        [{"message": "Access denied for paymentTerms field.", "extensions": {"code": "ACCESS_DENIED"}}],
    )
    assert (
        read_payment_terms(SimpleNamespace(executor=_Runner(error=denied)), "gid://shopify/Order/1") is None
    )
    other = ShopifyGraphQLError("OrderPaymentTerms", [{"message": "boom", "extensions": {"code": "X"}}])
    with pytest.raises(ShopifyGraphQLError):
        read_payment_terms(SimpleNamespace(executor=_Runner(error=other)), "gid://shopify/Order/1")


def test_an_order_with_more_transactions_than_the_first_read_holds_is_paid_by_all_of_them(world):
    """OrderForErp reads 20 transactions: an order whose payment went through after 20 declined
    tries (a card or Pix tried again and again) was read as paid by nothing. With 20 back, every
    transaction is read, and the Pix that paid is the ERP's payment form."""
    gid = world.place([(world.sku(0), 1)], gateway="pix")

    def declined_twenty_times_first(ctx, order):
        paid = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        for _ in range(20):
            declined = order_store.new_transaction(
                ctx, "SALE", "FAILURE", "Pix", Decimal(paid["amountSet"]["shopMoney"]["amount"])
            )
            order["_transactions"].insert(0, declined)

    change_order(world, gid, declined_twenty_times_first)
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    erp_order = world.chain.order(world.link(gid).nro_pedvenda)
    total = sum(Decimal(str(p["vlrPagto"])) for p in erp_order["formasPagto"])
    assert len(erp_order["formasPagto"]) == 1  # the Pix, not the declined tries
    assert total == Decimal(str(erp_order["vlrTotalPedido"]))


def test_a_de_para_line_written_decomposed_pays_the_gateway_shopify_names_composed():
    """A "Cartão" from a CSV written on a Mac is "Carta" + a combining tilde (NFD); Shopify names the
    gateway in NFC. Compared as typed, the order stayed parked on a gateway the page shows mapped."""
    order = order_of("PAID", txn(1, "Cartão de crédito", "SALE", "SUCCESS", "100.00"))
    assert forms(order, "100.00", {"Carta\u0303o de cre\u0301dito": 3}) == [(3, Decimal("100.00"))]
