"""The pure rules of the ERP -> Shopify order flows: picking plan, cancel reasons, invoice
metafields, settlement parsing, the stored event's round trip, the report's text."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from erp.records import Invoice, OrderEvent, OrderLine, OrderLineInput, Tracking
from jobs.cancellations.to_shopify import reason_code, staff_note
from jobs.invoice_capture import Asked, capture, capture_plan, within_total
from jobs.invoice_lines import invoiced_units, issued_for_every_unit, plan_fulfilment
from jobs.invoices import invoice_metafields, tracking_input
from jobs.order_edits import to_erp
from jobs.order_edits.to_shopify import plan_changes, split_shares
from jobs.order_event_codec import event_from_payload, event_payload
from jobs.order_map import MappedLine
from jobs.reconcile_cli import render
from ledger.errors import MappingMissing
from shopify_app.admin_api.order_results import FulfillmentOrder, FulfillmentOrderLine
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine
from shopify_app.admin_api.order_settlement import Authorization, Settlement, parse_settlement
from shopify_app.admin_api.results import Money

D = Decimal
CENT = D("0.01")


def line(
    seq: int,
    sku: str,
    ordered: str,
    served: str | None,
    *,
    weighed: bool = False,
    replaces: int | None = None,
) -> OrderLine:
    return OrderLine(
        seq,
        sku,
        1,
        None,
        D(1),
        D(ordered),
        None if served is None else D(served),
        None,
        None,
        D("10.00"),
        D(0),
        None,
        None,
        weighed,
        replaces,
    )


def event(*lines: OrderLine, kind: str = "S", invoice: Invoice | None = None) -> OrderEvent:
    return OrderEvent(
        9,
        kind,
        100,
        7,
        "gid://shopify/Order/1",
        1,
        kind,
        datetime(2026, 11, 28, tzinfo=UTC),
        True,
        D("50.00"),
        D("40.00"),
        tuple(lines),
        invoice,
        Tracking("LOG", "SB1BR", None),
        None,
        False,
    )


def shopify_line(sku: str, quantity: int) -> ShopifyLine:
    return ShopifyLine(
        f"gid://shopify/LineItem/{sku}",
        sku,
        sku,
        quantity,
        quantity,
        f"gid://shopify/ProductVariant/{sku}",
        None,
        None,
        None,
    )


VARIANTS = {sku: f"gid://shopify/ProductVariant/{sku}" for sku in ("A", "B", "K", "S")}


def test_plan_turns_picking_into_absolute_targets() -> None:
    changes = plan_changes(
        event(
            line(1, "A", "3", "1"),
            line(2, "K", "2", "1.5", weighed=True),
            line(3, "B", "1", "1"),
            line(4, "K", "1", "0", weighed=True),
        ),
        [shopify_line("A", 3), shopify_line("K", 2), shopify_line("B", 1)],
        VARIANTS,
    )
    by_key = {c.change_key: c for c in changes}
    assert set(by_key) == {"event:9:item:1", "event:9:item:2", "event:9:item:4"}
    assert (by_key["event:9:item:1"].kind, by_key["event:9:item:1"].shopify_quantity) == ("cut", 1)
    assert (by_key["event:9:item:2"].kind, by_key["event:9:item:2"].shopify_quantity) == ("weight", None)
    assert (by_key["event:9:item:4"].kind, by_key["event:9:item:4"].shopify_quantity) == ("cut", 0)


@pytest.mark.parametrize(
    ("difference", "units", "shift", "price", "alone_price", "expected"),
    [
        ("1.40", 3, "0", "10.00", "10.00", ("0.46", "0.48")),  # floor(140/3) x 2 + the rest
        ("0.02", 3, "0", "10.00", "10.00", ("0", "0.02")),  # less than a cent a unit: all on the one
        ("1.40", 3, "1.37", "10.00", "11.37", ("0.46", "1.85")),  # the unit alone costs 1.37 more now
        ("1.40", 3, "-1.00", "10.00", "9.00", ("0.20", "0")),  # 1.00 cheaper now: 0.40 left to take
        ("1.40", 3, "-1.41", "10.00", "8.59", None),  # cheaper by more than the difference
        ("29.99", 3, "0", "10.00", "10.00", ("10.00", "9.99")),  # the unit alone takes at most its price
        ("27.50", 3, "0", "9.00", "10.00", ("9.00", "9.50")),  # nor does a unit kept (a discounted line)
        ("29.50", 3, "0", "9.00", "10.00", None),  # both at their prices cannot make it
        ("1.40", 1, "0", "10.00", "10.00", None),  # one unit: nothing to split
    ],
)
def test_split_shares_take_exactly_the_difference(
    difference: str, units: int, shift: str, price: str, alone_price: str, expected: tuple[str, str] | None
) -> None:
    shares = split_shares(D(difference), units, D(shift), D(price), D(alone_price))
    assert shares == (None if expected is None else (D(expected[0]), D(expected[1])))
    if shares is not None:
        assert shares[0] * (units - 1) + shares[1] == D(difference) + D(shift)


def test_plan_splits_an_uneven_weight_and_a_replay_finds_it_applied() -> None:
    def priced(line: ShopifyLine, line_id: str, quantity: int) -> ShopifyLine:
        return dataclasses.replace(line, id=line_id, quantity=3, current_quantity=quantity,
                                   original_unit_price=Money(D("10.00"), "BRL"))  # fmt: skip

    picked = event(line(1, "K", "3", "2.86", weighed=True))  # 1.40 off 3 units: 3 does not divide 140
    [change] = plan_changes(picked, [priced(shopify_line("K", 3), "gid://shopify/LineItem/K", 3)], VARIANTS)
    assert (change.shopify_quantity, change.discount_per_unit, change.split_discount) == (
        2,
        D("0.46"),
        D("0.48"),
    )
    assert change.weighed_units == 3 and not change.adjusted
    after = [
        priced(shopify_line("K", 3), "gid://shopify/LineItem/K", 2),
        priced(shopify_line("K", 3), "gid://shopify/LineItem/K2", 1),
    ]
    carried = {"gid://shopify/LineItem/K2": [change.discount_description or ""]}
    [again] = plan_changes(picked, after, VARIANTS, carried)
    assert (
        again.adjusted
        and again.weighed_units == 3
        and again.discount_description == change.discount_description
    )
    even = event(line(1, "K", "3", "2.85", weighed=True))  # 1.50: 0.50 a unit, no split
    [plain] = plan_changes(even, [priced(shopify_line("K", 3), "gid://shopify/LineItem/K", 3)], VARIANTS)
    assert (plain.shopify_quantity, plain.discount_per_unit, plain.split_discount) == (None, D("0.50"), None)


def test_an_order_split_by_a_weight_adjustment_still_maps_to_the_same_erp_line() -> None:
    """The echo of a split (orders/edited) sees the variant on two lines: their sum is the ERP's."""
    erp_order = SimpleNamespace(lines=[line(1, "K", "3", "2.86", weighed=True)])
    mapped = [
        MappedLine(OrderLineInput(qty=D(q), seq_produto=1, qtd_embalagem=D(1)), "K", q, D("10.00") * q)
        for q in (2, 1)
    ]
    assert to_erp.diff(erp_order, mapped) == []  # type: ignore[arg-type]


def test_plan_substitution_needs_the_substitute_in_shopify() -> None:
    picked = event(line(1, "A", "2", "0"), line(2, "S", "0", "2", replaces=1))
    changes = plan_changes(picked, [shopify_line("A", 2)], VARIANTS)
    assert [(c.kind, c.sku, c.shopify_quantity, c.line_item_id is None) for c in changes] == [
        ("substitution", "A", 0, False),
        ("substitution", "S", 2, True),
    ]
    with pytest.raises(MappingMissing) as missing:
        plan_changes(picked, [shopify_line("A", 2)], {"A": VARIANTS["A"]})
    assert missing.value.detail["mapping"] == {"kind": "variant", "code": "S"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Falta de estoque", "INVENTORY"),
        ("Cliente desistiu", "CUSTOMER"),
        ("Suspeita de fraude", "FRAUD"),
        ("Pagamento recusado", "DECLINED"),
        (None, "OTHER"),
        ("NF-e cancelada", "OTHER"),
        # Shopify's cancellation email reads INVENTORY as "we did not have it in stock": only the
        # goods missing are INVENTORY, not a missing payment or an absent customer.
        ("Falta de pagamento", "DECLINED"),
        ("Cliente indisponível para receber a entrega", "CUSTOMER"),
        ("Sem estoque", "INVENTORY"),
        ("Ruptura na loja", "INVENTORY"),
        ("Produto indisponível", "INVENTORY"),
        # A refusal is a payment's only when it says so: a delivery the customer refused is theirs.
        ("Entrega recusada pelo cliente", "CUSTOMER"),
        ("Cartão recusado", "DECLINED"),
        ("Transação recusada pela operadora", "DECLINED"),
    ],
)
def test_cancel_reason_codes(text: str | None, code: str) -> None:
    assert reason_code(text) == code, f"{text!r} -> {reason_code(text)}"


def test_the_cancel_staff_note_fits_shopifys_255_characters() -> None:
    assert staff_note(42, "Cliente desistiu") == "Cancelado no ERP (pedido 42): Cliente desistiu"
    assert staff_note(42, None) == staff_note(42, "  ") == "Cancelado no ERP (pedido 42): -"
    fits = staff_note(7, "x" * (255 - len("Cancelado no ERP (pedido 7): ")))
    assert len(fits) == 255 and not fits.endswith("…")
    cut = staff_note(7, "palavra " * 60)
    assert len(cut) == 255 and cut.endswith("p…")  # cut where it must, marked as cut
    assert len(staff_note(7, "palavra " * 60 + "x" * 200)) <= 255


def test_invoice_metafields_and_tracking() -> None:
    invoice = Invoice(
        1,
        "3" * 44,
        123,
        "1",
        "55",
        "V",
        datetime(2026, 11, 28, 12, 0, 0, 5, tzinfo=UTC),
        D("40"),
        None,
        "http://x/danfe",
        None,
    )
    fields = {m["key"]: (m["type"], m["value"]) for m in invoice_metafields("gid://shopify/Order/1", invoice)}
    assert fields["chave"] == ("single_line_text_field", "3" * 44)
    assert fields["data_emissao"] == ("date_time", "2026-11-28T12:00:00+00:00")
    assert fields["danfe_url"] == ("url", "http://x/danfe") and "xml_url" not in fields
    assert tracking_input(event()) == {"company": "LOG", "number": "SB1BR", "url": None}
    # Shopify validates a url metafield and metafieldsSet is atomic: a link that is not an absolute
    # http(s) address is left out, so it cannot refuse the key (and stop the fulfillment, capture).
    for bad in ("/danfe/123.pdf", "ftp://erp/x.xml", "http://erp/danfe 123.pdf", "http://[erp"):
        odd = dataclasses.replace(invoice, danfe_url=bad, xml_url="https://erp.example.com.br/xml/1")
        fields = {m["key"]: m["value"] for m in invoice_metafields("gid://shopify/Order/1", odd)}
        assert "danfe_url" not in fields and fields["xml_url"] == "https://erp.example.com.br/xml/1", bad


def test_event_payload_round_trip() -> None:
    invoice = Invoice(
        1, "3" * 44, 123, "1", "65", "C", datetime(2026, 11, 28, tzinfo=UTC), D("40.10"), "1", None, None
    )
    original = event(line(1, "A", "3", "1"), line(2, "S", "0", "2", replaces=1), kind="F", invoice=invoice)
    assert event_from_payload(event_payload(original)) == original


def test_settlement_counts_money_per_authorisation() -> None:
    money = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
    raw = {
        "id": "gid://shopify/Order/1",
        "name": "#1001",
        "tags": ["x"],
        "currentTotalPriceSet": money("90.00"),
        "totalCapturableSet": money("60.00"),
        "transactions": [
            {
                "id": "t1",
                "kind": "AUTHORIZATION",
                "status": "SUCCESS",
                "manuallyCapturable": True,
                "amountSet": money("100.00"),
                "totalUnsettledSet": money("60.00"),
            },
            {
                "id": "t2",
                "kind": "CAPTURE",
                "status": "SUCCESS",
                "amountSet": money("40.00"),
                "parentTransaction": {"id": "t1"},
            },
        ],
        "nfe": {"nodes": [{"key": "chave", "value": "K"}]},
        "fulfillments": [{"id": "f1", "status": "SUCCESS", "trackingInfo": [{"number": "SB1"}]}],
    }
    state = parse_settlement(raw)
    auth = state.open_authorization()
    assert auth is not None and (auth.amount, auth.unsettled, auth.captured) == (
        D("100.00"),
        D("60.00"),
        D("40.00"),
    )
    assert (
        state.paid == D("40.00")
        and state.nfe == {"chave": "K"}
        and state.fulfillments[0].tracking_number == "SB1"
    )


def test_report_text_lists_findings() -> None:
    report = {
        "shop": "x.myshopify.com",
        "generated_at": "t",
        "since": "s",
        "orders": {"totals_differ": [{"order": "gid://shopify/Order/7", "shopify": "10.00", "erp": "9.00"}]},
        "stock": {"error": "ErpTransient: down"},
        "catalog": {},
        "summary": {"order_totals_differ": 1, "stock_differs": None, "errors": ["stock"]},
    }
    text = render(report)
    assert "order totals differ: 1" in text and "stock differs: -" in text
    assert "stock: could not be checked: ErpTransient: down" in text
    assert "order=gid://shopify/Order/7, shopify=10.00, erp=9.00" in text


def test_report_text_indents_the_continuation_lines_of_a_value() -> None:
    """An order flagged by two flows carries both notes, one a line (`attention`): the second is
    printed under its row, indented, not at the left margin like a new section."""
    attention = "cancellations: NF-e 123 to cancel in the ERP\ninvoices (ERP event #4): tracking refused"
    report = {
        "shop": "x.myshopify.com",
        "generated_at": "t",
        "since": "s",
        "orders": {"status_differs": [{"order": "gid://shopify/Order/7", "attention": attention}]},
        "summary": {},
    }
    lines = render(report).splitlines()
    at = lines.index("Order status that differs:")
    assert lines[at + 1 : at + 3] == [
        "  - order=gid://shopify/Order/7, attention=cancellations: NF-e 123 to cancel in the ERP",
        "    invoices (ERP event #4): tracking refused",
    ]


def _settled(paid: str, *authorizations: tuple[str, str], refunded: str = "0", tips: str = "0") -> Settlement:
    """An order's money: `paid` taken (SALE/CAPTURE), authorisations as (amount, unsettled)."""
    auths = [
        Authorization(f"a{i}", D(amount), D(unsettled), True, D(amount) - D(unsettled))
        for i, (amount, unsettled) in enumerate(authorizations)
    ]
    return Settlement(
        id="gid://shopify/Order/1", name="#1", cancelled_at=None, financial_status=None,
        fulfillment_status=None, tags=[], current_total=None, currency="BRL",
        total_capturable=sum((a.unsettled for a in auths), D(0)), authorizations=auths,
        paid=D(paid), nfe={}, refunded=D(refunded), tips=D(tips),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("invoiced", "state", "plan", "due"),
    [
        # the NF-e equals the order: all of the authorisation
        ("100.00", _settled("0", ("100.00", "100.00")), ["100.00"], "0"),
        # picking cut: less, the rest released by finalCapture
        ("80.00", _settled("0", ("100.00", "100.00")), ["80.00"], "0"),
        # gift card 40 (a SALE) + card 60: only what the card owes
        ("100.00", _settled("40.00", ("60.00", "60.00")), ["60.00"], "0"),
        # heavier than authorised: all of it, and 1.85 stays due (for a person)
        ("105.12", _settled("0", ("103.27", "103.27")), ["103.27"], "1.85"),
        # two cards: the first, then what is left from the second
        ("90.00", _settled("0", ("50.00", "50.00"), ("50.00", "50.00")), ["50.00", "40.00"], "0"),
        # an earlier partial capture of 30 is money taken: 70 more
        ("100.00", _settled("30.00", ("100.00", "70.00")), ["70.00"], "0"),
        # paid at checkout, then a cut: nothing to capture, 20 taken too many (a refund owed)
        ("80.00", _settled("100.00"), [], "-20.00"),
        # ... unless it was already refunded
        ("80.00", _settled("100.00", refunded="20.00"), [], "0"),
        # a tip of 5 is on no NF-e line: captured with the goods, not released
        ("100.00", _settled("0", ("105.00", "105.00"), tips="5.00"), ["105.00"], "0"),
        # paid at checkout with a tip: nothing owed back
        ("100.00", _settled("105.00", tips="5.00"), [], "0"),
    ],
)
def test_capture_takes_what_the_nfe_still_asks_for_never_above_the_authorisation(
    invoiced: str, state: Settlement, plan: list[str], due: str
) -> None:
    steps, left = capture_plan(D(invoiced), state)
    assert [str(amount) for _, amount in steps] == plan
    assert left == D(due)
    for authorization, amount in steps:
        assert amount <= authorization.unsettled


def test_the_capture_never_takes_above_what_shopifys_order_total_still_asks_for() -> None:
    """A cut lowered Shopify's total to 163.61 and a heavier weight put the NF-e at 182.11: the
    authorisation of 200 holds it all, but the customer sees 163.61 owed. The plan takes 163.61 and
    leaves 18.50 out (named for a person); over two cards the last one gives less. The total not
    read, the plan is left as it is."""
    state = dataclasses.replace(_settled("0", ("200.00", "200.00")), current_total=D("163.61"))
    plan, held_back = within_total(capture_plan(D("182.11"), state)[0], state)
    assert ([str(a) for _, a in plan], held_back) == (["163.61"], D("18.50"))
    two = dataclasses.replace(
        _settled("20.00", ("50.00", "50.00"), ("50.00", "50.00")), current_total=D("90.00")
    )
    plan, held_back = within_total(capture_plan(D("100.00"), two)[0], two)
    assert ([str(a) for _, a in plan], held_back) == (["50.00", "20.00"], D("10.00"))
    unread = _settled("0", ("200.00", "200.00"))
    assert within_total(capture_plan(D("182.11"), unread)[0], unread)[1] == 0
    client, asked = _answering("SUCCESS")
    taken = capture(client, "gid://shopify/Order/1", D("182.11"), state)  # type: ignore[arg-type]
    assert asked == [D("163.61")], asked
    assert taken.attention is not None and "18.50 was not charged" in taken.attention
    assert "above the Shopify order's total 163.61" in taken.attention and "refund" not in taken.attention
    client, _ = _answering("PENDING")  # kept on the message: the re-check names it the same
    pending = capture(client, "gid://shopify/Order/1", D("182.11"), state)  # type: ignore[arg-type]
    assert pending.asked is not None and Asked.from_record(pending.asked).held_back == D("18.50")


def test_an_nfe_total_with_a_third_decimal_is_captured_to_the_cent() -> None:
    """An ERP total of 100.005 (a third decimal): the plan and every orderCapture are whole cents
    (half up: 100.01), what stays due is in cents too, and the half cent is no refund owed."""
    state = _settled("0", ("150.00", "150.00"))
    plan, due = capture_plan(D("100.005"), state)
    assert [str(amount) for _, amount in plan] == ["100.01"] and due == 0
    assert capture_plan(D("100.004"), state)[0][0][1] == D("100.00")
    assert capture_plan(D("160.005"), state)[1] == D("10.01")  # above the authorisation: in cents
    client, asked = _answering("SUCCESS")
    taken = capture(client, "gid://shopify/Order/1", D("100.005"), state)  # type: ignore[arg-type]
    assert asked == [D("100.01")] and asked[0].as_tuple().exponent == -2, asked
    assert taken.attention is None, taken.attention


def test_settlement_counts_refunds_apart_and_ignores_failed_transactions() -> None:
    money = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
    raw = {
        "id": "gid://shopify/Order/1",
        "transactions": [
            {"id": "t1", "kind": "SALE", "status": "SUCCESS", "amountSet": money("100.00")},
            {"id": "t2", "kind": "SALE", "status": "FAILURE", "amountSet": money("100.00")},
            {"id": "t3", "kind": "REFUND", "status": "SUCCESS", "amountSet": money("20.00")},
            {"id": "t4", "kind": "REFUND", "status": "PENDING", "amountSet": money("5.00")},
        ],
    }
    raw["totalTipReceivedSet"] = money("5.00")
    state = parse_settlement(raw)
    assert (state.paid, state.refunded, state.kept) == (D("100.00"), D("20.00"), D("80.00"))
    assert state.tips == D("5.00")


def test_a_gift_card_sold_on_a_manual_capture_order_is_captured() -> None:
    """Card authorised 165.00 for goods 50 + freight 10 + a R$ 100 gift card sold + a tip of 5.
    The NF-e is 60.00 (a gift card is no goods), but the 100 paid for the gift card Shopify issues
    anyway is owed too: capture takes 165.00, releasing nothing, and no refund is owed."""
    money = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
    price = "discountedUnitPriceAfterAllDiscountsSet"
    card = {"isGiftCard": True, "currentQuantity": 1, price: money("100.00")}
    goods = {"isGiftCard": False, "currentQuantity": 2, price: money("25.00")}
    raw = {
        "id": "gid://shopify/Order/1",
        "currentTotalPriceSet": money("165.00"),
        "totalTipReceivedSet": money("5.00"),
        "lineItems": {"nodes": [goods, card], "pageInfo": {"hasNextPage": False}},
        "transactions": [
            {"id": "a1", "kind": "AUTHORIZATION", "status": "SUCCESS", "manuallyCapturable": True,
             "amountSet": money("165.00"), "totalUnsettledSet": money("165.00")},
        ],
    }  # fmt: skip
    state = parse_settlement(raw)
    plan, due = capture_plan(D("60.00"), state)
    assert [str(amount) for _, amount in plan] == ["165.00"] and due == 0
    assert (state.tips, state.gift_cards) == (D("5.00"), D("100.00"))
    paid_at_checkout = dataclasses.replace(state, authorizations=[], paid=D("165.00"))
    assert capture_plan(D("60.00"), paid_at_checkout) == ([], D("0.00"))


def test_a_substitute_of_a_sku_the_order_has_adds_to_its_line() -> None:
    """Shopify has A x1 and B x2; the ERP replaces A with one B: the B line becomes 3, not 1 (the
    customer's own two B stay), and a replay finds nothing left to do."""
    from jobs.order_edits.to_shopify import _pending_edits

    picked = event(line(1, "A", "1", "0"), line(2, "B", "2", "2"), line(3, "B", "0", "1", replaces=1))
    shopify = [shopify_line("A", 1), shopify_line("B", 2)]
    changes = plan_changes(picked, shopify, VARIANTS)
    edits = {(c.line_item_id, c.shopify_quantity) for c in _pending_edits(changes, shopify)}
    assert edits == {("gid://shopify/LineItem/A", 0), ("gid://shopify/LineItem/B", 3)}
    applied = [shopify_line("A", 0), shopify_line("B", 3)]
    assert _pending_edits(plan_changes(picked, applied, VARIANTS), applied) == []


def test_a_cut_line_that_also_takes_a_substitute_of_its_sku_is_set_once() -> None:
    """Shopify A x4 and B x2; the ERP serves 2 of A on A's line and replaces B with 1 A: the cut
    and the substitute both set A's line to 3 (what they serve together), in one
    orderEditSetQuantity, not two of the same line."""
    from jobs.order_edits.to_shopify import _pending_edits

    picked = event(line(1, "A", "4", "2"), line(2, "B", "2", "0"), line(3, "A", "0", "1", replaces=2))
    shopify = [shopify_line("A", 4), shopify_line("B", 2)]
    edits = _pending_edits(plan_changes(picked, shopify, VARIANTS), shopify)
    assert sorted((c.line_item_id, c.shopify_quantity) for c in edits) == [
        ("gid://shopify/LineItem/A", 3),
        ("gid://shopify/LineItem/B", 0),
    ]
    applied = [shopify_line("A", 3), shopify_line("B", 0)]
    assert _pending_edits(plan_changes(picked, applied, VARIANTS), applied) == []


def test_a_cut_on_the_second_line_of_a_variant_lands_on_that_line() -> None:
    """Shopify A x2 and A x3 (two lines, two ERP lines); the ERP cuts its second line 3 -> 1: the
    second Shopify line becomes 1, the first keeps its 2 (3 left in all, as the NF-e says)."""
    from jobs.order_edits.to_shopify import _pending_edits

    first = shopify_line("A", 2)
    second = ShopifyLine("gid://shopify/LineItem/A2", "A", "A", 3, 3, first.variant_id, None, None, None)
    picked = event(line(1, "A", "2", "2"), line(2, "A", "3", "1"))
    edits = _pending_edits(plan_changes(picked, [first, second], VARIANTS), [first, second])
    assert [(c.line_item_id, c.shopify_quantity) for c in edits] == [("gid://shopify/LineItem/A2", 1)]


def test_a_line_removed_before_the_erp_had_the_order_takes_no_erp_line() -> None:
    """Shopify A x2 (removed by the merchant before picking: 0 units), B x1, A x1; the ERP has one
    line of A (the second's). Its cut to 0 lands on the line still holding the unit. A replay (its
    change key tried, or another event of the picking that recorded the line) finds the emptied
    line as the line of that ERP line and sends nothing; it never moves on to the next line of A."""
    from jobs.order_edits.to_shopify import _pending_edits

    removed = dataclasses.replace(shopify_line("A", 2), current_quantity=0)
    held = ShopifyLine("gid://shopify/LineItem/A2", "A", "A", 1, 1, removed.variant_id, None, None, None)
    picked = event(line(1, "B", "1", "1"), line(2, "A", "1", "0"))
    shopify = [removed, shopify_line("B", 1), held]
    edits = _pending_edits(plan_changes(picked, shopify, VARIANTS), shopify)
    assert [(c.line_item_id, c.shopify_quantity) for c in edits] == [(held.id, 0)]

    cut = event(line(1, "A", "2", "0"), line(2, "A", "1", "1"))  # the first ERP line cut to 0 before
    first, second = dataclasses.replace(shopify_line("A", 2), current_quantity=0), held
    for earlier in ({"tried": {"event:9:item:1"}}, {"recorded": {1}}):
        changes = plan_changes(cut, [first, second], VARIANTS, **earlier)
        assert [(c.line_item_id, c.shopify_quantity) for c in changes] == [(first.id, 0)], earlier
        assert _pending_edits(changes, [first, second]) == []


def test_a_line_a_person_removed_after_picking_is_still_its_erp_lines() -> None:
    """Shopify A x2 (emptied by a person after the ERP picked) and A x3, two ERP lines of A: as many
    lines of each, so every one was the ERP's. The first ERP line's cut to 1 is that emptied line's
    (held back for a person, jobs.order_edits.lowered), never the second line's, served in full."""
    emptied = dataclasses.replace(shopify_line("A", 2), current_quantity=0)
    second = ShopifyLine("gid://shopify/LineItem/A2", "A", "A", 3, 3, emptied.variant_id, None, None, None)
    picked = event(line(1, "A", "2", "1"), line(2, "A", "3", "3"))
    [change] = plan_changes(picked, [emptied, second], VARIANTS)
    assert (change.line_item_id, change.shopify_quantity, change.never_raises) == (emptied.id, 1, True)


def test_a_weighed_sku_on_two_erp_lines_changes_each_its_own_line() -> None:
    """K x2 and K x3 (two ERP lines of a weighed SKU): the second cut to 0 sets the second line,
    and a lighter second line takes its discount on its own 3 units (split to the cent), not on
    the first line's 2."""
    first = shopify_line("K", 2)
    second = ShopifyLine("gid://shopify/LineItem/K2", "K", "K", 3, 3, first.variant_id, None, None, None)
    cut = event(line(1, "K", "2", "2", weighed=True), line(2, "K", "3", "0", weighed=True))
    [change] = plan_changes(cut, [first, second], VARIANTS)
    assert (change.kind, change.line_item_id, change.shopify_quantity) == ("cut", second.id, 0)

    lighter = event(line(1, "K", "2", "2", weighed=True), line(2, "K", "3", "2.9", weighed=True))
    priced = [dataclasses.replace(s, original_unit_price=Money(D("10.00"), "BRL")) for s in (first, second)]
    [change] = plan_changes(lighter, priced, VARIANTS)
    assert (change.line_item_id, change.weighed_units, change.discount_total) == (second.id, 3, D("1.00"))
    assert (change.shopify_quantity, change.discount_per_unit, change.split_discount) == (
        2,
        D("0.33"),
        D("0.34"),
    )


def test_a_substitute_by_a_sku_on_two_lines_sets_only_its_first_line() -> None:
    """Shopify A x2 and A x3 (a "leve 3 pague 2", one ERP line each) and B x1; the ERP replaces B
    with 1 A. Targets are per Shopify line: A's first line takes the substitute (2 + 1 = 3) and
    carries it as a set of that line, the second keeps its own 3 (6 of A, as served; not both set
    to 6). With the second line also cut 3 -> 2, it becomes 2 and the first still 3."""
    from jobs.order_edits.to_shopify import _pending_edits

    first = shopify_line("A", 2)
    second = ShopifyLine("gid://shopify/LineItem/A2", "A", "A", 3, 3, first.variant_id, None, None, None)
    shopify = [first, second, shopify_line("B", 1)]
    picked = event(line(1, "A", "2", "2"), line(2, "A", "3", "3"), line(3, "B", "1", "0"),
                   line(4, "A", "0", "1", replaces=3))  # fmt: skip
    changes = plan_changes(picked, shopify, VARIANTS)
    substitute = next(c for c in changes if c.change_key == "event:9:item:4")
    assert (substitute.line_item_id, substitute.shopify_quantity) == (first.id, 3)
    edits = _pending_edits(changes, shopify)
    assert sorted((c.line_item_id, c.shopify_quantity) for c in edits) == [
        ("gid://shopify/LineItem/A", 3),
        ("gid://shopify/LineItem/B", 0),
    ]
    applied = [dataclasses.replace(first, current_quantity=3), second, shopify_line("B", 0)]
    assert _pending_edits(plan_changes(picked, applied, VARIANTS), applied) == []

    cut = event(line(1, "A", "2", "2"), line(2, "A", "3", "2"), line(3, "B", "1", "0"),
                line(4, "A", "0", "1", replaces=3))  # fmt: skip
    edits = _pending_edits(plan_changes(cut, shopify, VARIANTS), shopify)
    assert sorted((c.line_item_id, c.shopify_quantity) for c in edits) == [
        ("gid://shopify/LineItem/A", 3),
        ("gid://shopify/LineItem/A2", 2),
        ("gid://shopify/LineItem/B", 0),
    ]


def test_a_change_stages_on_the_calculated_line_of_its_own_shopify_line() -> None:
    """Shopify numbers an order's line in an edit as the line (LineItem/N is CalculatedLineItem/N);
    should it not, the calculated line in the same place among the variant's lines. Never the
    variant's first line for a change of its second; none to guess when the places do not match."""
    from jobs.order_edits.to_shopify import LineChange, _calculated_line
    from ledger.errors import Rejected
    from shopify_app.admin_api.order_results import CalculatedLine, OrderEdit

    variant = VARIANTS["A"]
    first = ShopifyLine("gid://shopify/LineItem/11", "A", "A", 2, 2, variant, None, None, None)
    second = ShopifyLine("gid://shopify/LineItem/12", "A", "A", 3, 3, variant, None, None, None)
    cut = LineChange(
        "event:9:item:2", "cut", "A", D(3), D(1), "cut", line_item_id=second.id, variant_id=variant
    )

    def edit(*ids: str) -> OrderEdit:
        return OrderEdit("gid://shopify/CalculatedOrder/1", [CalculatedLine(i, "A", 1, variant) for i in ids])

    numbered = edit("gid://shopify/CalculatedLineItem/11", "gid://shopify/CalculatedLineItem/12")
    assert _calculated_line(numbered, cut, [first, second]) == "gid://shopify/CalculatedLineItem/12"
    placed = edit("gid://shopify/CalculatedLineItem/a", "gid://shopify/CalculatedLineItem/b")
    assert _calculated_line(placed, cut, [first, second]) == "gid://shopify/CalculatedLineItem/b"
    with pytest.raises(Rejected) as refused:
        _calculated_line(edit("gid://shopify/CalculatedLineItem/a"), cut, [first, second])
    assert refused.value.code == "LINE_NOT_EDITABLE"
    added = dataclasses.replace(cut, line_item_id=None)  # a line added in this edit: by its variant
    assert _calculated_line(placed, added, [first, second]) == "gid://shopify/CalculatedLineItem/a"


def test_a_weighing_whose_line_totals_round_to_the_same_cents_is_recorded_without_a_discount() -> None:
    """R$ 3,99/kg, 1 kg ordered, 0,999 kg weighed: both ERP line totals are 3,99. Nothing to take
    off (Shopify takes no discount of zero): the weighing is recorded, the line keeps its price."""
    weighed = dataclasses.replace(
        line(1, "K", "1", "0.999", weighed=True), total_ordered=D("3.99"), total_served=D("3.99")
    )
    [change] = plan_changes(event(weighed), [shopify_line("K", 1)], VARIANTS)
    assert (change.kind, change.shopify_quantity, change.discount_per_unit) == ("weight", None, None)
    assert not change.sends and not change.takes_discount
    assert "the ERP charges the same" in change.reason


def test_two_lines_replaced_by_the_same_new_sku_set_it_once_to_their_units_together() -> None:
    """A x1 and B x1, both replaced by one S (not on the order): S is added once with 2 units, not
    twice with 2 each; once Shopify has S x2 a retry (its keys tried) has nothing left to send."""
    from jobs.order_edits.to_shopify import _pending_edits

    picked = event(
        line(1, "A", "1", "0"), line(2, "B", "1", "0"), line(3, "S", "0", "1", replaces=1),
        line(4, "S", "0", "1", replaces=2),
    )  # fmt: skip
    shopify = [shopify_line("A", 1), shopify_line("B", 1)]
    edits = _pending_edits(plan_changes(picked, shopify, VARIANTS), shopify)
    assert sorted((c.variant_id or "", c.line_item_id or "", c.shopify_quantity) for c in edits) == [
        (VARIANTS["A"], "gid://shopify/LineItem/A", 0),
        (VARIANTS["B"], "gid://shopify/LineItem/B", 0),
        (VARIANTS["S"], "", 2),
    ]
    applied = [shopify_line("A", 0), shopify_line("B", 0), shopify_line("S", 2)]
    replayed = plan_changes(picked, applied, VARIANTS)
    assert _pending_edits(replayed, applied, {c.change_key for c in replayed}) == []


def test_a_substitute_is_added_beside_the_lines_of_its_product_on_its_first_attempt() -> None:
    """A x1 replaced by 1 S; Shopify has a line of S the ERP never had: one a person removed before
    the ERP had the order (0 units: Shopify edits no line at 0) or added after picking (their 2
    units are theirs). The substitute is added on a line of its own either way. A retry (its key
    tried: its commit may have added it) looks for it among the lines holding units, the one at its
    units first: found, nothing sent; none holding units, added."""
    from jobs.order_edits.to_shopify import _pending_edits

    picked = event(line(1, "A", "1", "0"), line(2, "S", "0", "1", replaces=1))
    added = ShopifyLine("gid://shopify/LineItem/S2", "S", "S", 1, 1, VARIANTS["S"], None, None, None)
    for found in (dataclasses.replace(shopify_line("S", 1), current_quantity=0), shopify_line("S", 2)):
        shopify = [shopify_line("A", 1), found]
        edits = _pending_edits(plan_changes(picked, shopify, VARIANTS), shopify)
        assert sorted((c.line_item_id or "", c.shopify_quantity) for c in edits) == [
            ("", 1), ("gid://shopify/LineItem/A", 0)
        ], found  # fmt: skip
        key = "event:9:item:2"
        after = [shopify_line("A", 0), found, added]
        assert _pending_edits(plan_changes(picked, after, VARIANTS), after, {key}) == []
    lost = [shopify_line("A", 0), dataclasses.replace(shopify_line("S", 1), current_quantity=0)]
    [again] = _pending_edits(plan_changes(picked, lost, VARIANTS), lost, {key})  # the commit never came
    assert (again.line_item_id, again.shopify_quantity) == (None, 1)


def test_money_taken_above_the_nfe_names_a_refund_owed_unless_it_was_refunded() -> None:
    """Paid 100, invoiced 80: nothing to capture, and the order link names the 20.00 to refund;
    once refunded, nothing to name."""
    owed = capture(None, "gid://shopify/Order/1", Decimal("80.00"), _settled("100.00"))
    assert owed.attention is not None and "refund 20.00" in owed.attention
    done = capture(None, "gid://shopify/Order/1", Decimal("80.00"), _settled("100.00", refunded="20.00"))
    assert done.attention is None


def test_before_the_last_nfe_money_taken_ahead_is_no_refund_and_no_authorisation_is_released() -> None:
    """Partial invoicing: paid 100 at checkout, the first NF-e is 80 of a larger order. The 20 pays
    the NF-e still to come (no refund named), and an authorisation the first NF-e needs nothing from
    is kept for the next one (not voided: the client is never called) — named for a person, as what
    waits on the card for a further NF-e."""
    ahead = capture(None, "gid://shopify/Order/1", D("80.00"), _settled("100.00", ("30.00", "30.00")),
                     final=False)  # fmt: skip
    assert "20.00 taken ahead pays the NF-e still to come" in ahead.note
    assert ahead.attention is not None and "refund" not in ahead.attention
    assert "30.00 is left authorised on the customer's card, waiting for a further NF-e" in ahead.attention
    assert "not a final capture" in ahead.note
    both = capture(None, "gid://shopify/Order/1", D("80.00"), _settled("100.00"), count=2)
    assert both.attention is not None and "100.00 was taken for 2 NF-e of 80.00" in both.attention


def test_the_order_is_fully_invoiced_once_its_valid_nfe_reach_the_served_total() -> None:
    """The rule of a final capture (jobs.invoice_documents): the valid NF-e totals reach the ERP's
    served total (freight included); an event that gives none is taken as the whole order."""
    from jobs.invoice_documents import Documents

    assert not Documents(["k1"], D("60.00"), D("100.00")).final
    assert Documents(["k1", "k2"], D("100.00"), D("100.00")).final
    assert Documents(["k1"], D("60.00"), None).final


def test_the_order_is_fully_invoiced_once_its_valid_nfe_carry_every_line_the_erp_served() -> None:
    """Below the served total (a discount given at invoicing, freight billed apart) the NF-e are the
    last once they carry every served line to its served quantity (a line cut to nothing needs
    none; a line split over two NF-e adds up); the totals as issued decide otherwise, not what is
    left to charge once money settled outside the app is taken out."""
    from jobs.invoice_documents import Documents
    from jobs.invoice_lines import carries_all_served

    served = [line(1, "A", "3", "2"), line(2, "B", "1", "1"), line(3, "C", "1", "0")]
    assert carries_all_served(served, [[line(1, "A", "3", "2"), line(2, "B", "1", "1")]])
    assert carries_all_served(
        served, [[line(1, "A", "3", "1")], [line(1, "A", "3", "1"), line(2, "B", "1", "1")]]
    )
    assert not carries_all_served(served, [[line(1, "A", "3", "2")]])
    assert not carries_all_served(served, [[line(1, "A", "3", "1"), line(2, "B", "1", "1")]])
    assert not carries_all_served([], [[line(1, "A", "3", "2")]])
    assert Documents(["k1"], D("95.00"), D("100.00"), covered=True).final
    assert Documents(["k1", "k2"], D("40.00"), D("100.00"), face=D("100.00")).final


def test_an_event_listing_every_served_line_says_its_nfe_carry_them_only_when_no_unit_can_be_missing() -> (
    None
):
    """An F event lists the ERP order's lines as they stand (qtdAtendida: the line's, not the
    NF-e's), so a line split over two NF-e looks carried in full by the first. The lines count only
    when the NF-e totals as issued fall short of the served total (freight included) by less than
    the cheapest unit served, a cent per NF-e kept for rounding: a discount given at invoicing,
    freight billed apart below a unit's value. A shortfall of a unit or more may be goods still to
    be invoiced: the totals rule decides."""
    from jobs.invoice_lines import issued_for_every_unit

    served = [line(1, "A", "4", "4"), line(2, "B", "1", "1"), line(3, "C", "1", "0")]  # 10.00 a unit
    total = D("55.00")  # 50.00 of goods, 5.00 of freight
    assert issued_for_every_unit(served, D("51.00"), total, 1)  # a 4.00 discount at invoicing
    assert issued_for_every_unit(served, D("50.00"), total, 1)  # freight billed apart
    assert issued_for_every_unit(served, D("55.00"), total, 2)
    assert not issued_for_every_unit(served, D("35.00"), total, 1)  # 2 units of A still to invoice
    assert not issued_for_every_unit(served, D("45.00"), total, 1)  # one unit of A
    assert not issued_for_every_unit(served, D("45.01"), total, 1)  # one unit, a cent of rounding
    assert not issued_for_every_unit(served, D("55.00"), None, 1)
    assert not issued_for_every_unit([line(1, "A", "1", "0")], D("5.00"), D("5.00"), 1)
    # A weighed line is sold in the units ordered (2 packs, 1.234 kg served: 12.34, 6.17 a pack).
    weighed = [*served, line(4, "W", "2", "1.234", weighed=True)]
    assert issued_for_every_unit(weighed, D("61.34"), total + D("12.34"), 1)
    assert not issued_for_every_unit(weighed, D("61.17"), total + D("12.34"), 1)


def test_an_nfe_not_the_last_fulfils_what_it_lists_only_when_its_money_pays_for_all_of_it() -> None:
    """An F event lists the ERP order's lines as they stand: the first NF-e of a partial invoicing
    fulfils the units about to be fulfilled only when its total, less the ERP order's freight (as
    if it billed it), a cent kept for rounding, covers them at their served value; else which of
    them it carries cannot be told and they wait for the last NF-e."""
    from jobs.invoice_lines import paid_for

    served = [line(1, "A", "4", "4"), line(2, "B", "1", "1"), line(3, "C", "1", "0")]  # 10.00 a unit
    freight = D("5.00")
    assert paid_for(served, {"A": 4}, D("45.00"), freight)  # the NF-e of A, with the freight
    assert paid_for(served, {"A": 4}, D("44.99"), freight)  # a cent of rounding
    assert not paid_for(served, {"A": 4, "B": 1}, D("45.00"), freight)  # B is the next NF-e's
    assert not paid_for(served, {"A": 4}, D("40.00"), freight)  # the freight on it: A not all on it
    assert paid_for(served, {"A": 4}, D("40.00"), None)  # no freight known
    assert paid_for(served, {}, D("0.00"), freight)  # nothing to fulfil
    assert not paid_for(served, {"Z": 1}, D("100.00"), freight)  # a SKU the ERP served no value for


def test_a_free_line_leaves_no_unit_of_value_out_of_an_nfe_with_a_discount() -> None:
    """A gift (brinde, R$ 0,00) or a line discounted 100% is served but worth nothing: leaving its
    unit out costs no money, so it does not set the cheapest unit (else min would be 0 and no NF-e
    short of the served total by any amount, a discount at invoicing, could ever be the last)."""
    from jobs.invoice_lines import issued_for_every_unit

    served = [line(1, "A", "4", "4"), line(2, "B", "1", "1")]  # 50.00 of goods, 10.00 a unit
    gift = dataclasses.replace(line(3, "G", "1", "1"), unit_price=D("0"))
    free = dataclasses.replace(line(4, "F", "1", "1"), discount=D("10.00"))  # 100% off
    total = D("55.00")  # + 5.00 of freight
    assert issued_for_every_unit(served, D("51.00"), total, 1)
    assert issued_for_every_unit([*served, gift], D("51.00"), total, 1)
    assert issued_for_every_unit([*served, free], D("51.00"), total, 1)
    assert not issued_for_every_unit([*served, gift, free], D("45.00"), total, 1)  # a unit of A out
    # Every served line free: the NF-e carry all once their totals reach the served total (a cent each).
    assert issued_for_every_unit([gift, free], D("4.99"), D("5.00"), 1)
    assert not issued_for_every_unit([gift, free], D("4.98"), D("5.00"), 1)
    assert not issued_for_every_unit([gift], D("0.00"), D("5.00"), 1, freight=D("0"))


def test_freight_billed_apart_above_the_cheapest_unit_leaves_no_unit_out() -> None:
    """A supermarket basket: cheapest unit R$ 1,99, freight R$ 9,90 (the ERP order's vlrTotFrete)
    billed on a document of its own. The NF-e carries every unit and falls short of the served total
    (freight included) by the freight: a gap equal to the freight, a cent per NF-e of rounding, is
    no unit left out. Unknown freight (None, or 0: the ERP order gives none) keeps the unit rule."""
    from jobs.invoice_lines import issued_for_every_unit

    banana = dataclasses.replace(line(2, "B", "1", "1"), unit_price=D("1.99"))
    served = [line(1, "A", "4", "4"), banana]
    goods, freight = D("41.99"), D("9.90")
    total = goods + freight
    assert issued_for_every_unit(served, goods, total, 1, freight=freight)
    assert issued_for_every_unit(served, goods - CENT, total, 1, freight=freight)  # rounding
    assert issued_for_every_unit(served, goods + CENT, total, 1, freight=freight)
    assert issued_for_every_unit(served, total - D("1.00"), total, 1, freight=freight)  # freight on it
    assert not issued_for_every_unit(served, goods - D("1.99"), total, 1, freight=freight)  # banana out
    assert not issued_for_every_unit(served, goods - D("0.02"), total, 1, freight=freight)
    assert not issued_for_every_unit(served, goods, total, 1)  # freight unknown: the unit rule
    assert not issued_for_every_unit(served, goods, total, 1, freight=D("0"))


def test_the_invoice_fulfils_per_sku_the_units_the_erp_served_and_names_the_rest() -> None:
    """A cut unit item counts its served units, a weighed item the units it was sold in whatever it
    weighed, a weighed substitute its kilograms rounded up; what is fulfilled already counts; a SKU
    on no ERP line (added in Shopify after the picking) is left and named."""
    units = invoiced_units([
        line(1, "A", "3", "2"),
        line(2, "K", "2", "1.850", weighed=True),
        line(3, "B", "1", "0"),
        line(4, "S", "0", "0.300", weighed=True, replaces=3),
    ])  # fmt: skip
    assert units == {"A": 2, "K": 2, "B": 0, "S": 1}
    lines = [
        dataclasses.replace(shopify_line("A", 2), unfulfilled_quantity=2),
        dataclasses.replace(shopify_line("K", 2), unfulfilled_quantity=1),  # one shipped by a person
        dataclasses.replace(shopify_line("S", 1), unfulfilled_quantity=1),
        dataclasses.replace(shopify_line("X", 1), unfulfilled_quantity=1),
    ]
    fo_lines = [FulfillmentOrderLine(f"FOL{s.sku}", s.id, s.unfulfilled_quantity or 0, 2) for s in lines]
    plan = plan_fulfilment(
        [FulfillmentOrder("FO1", "OPEN", "L1", fo_lines)], lines, units, {v: k for k, v in VARIANTS.items()}
    )
    assert plan.lines == {"FO1": [{"id": "FOLA", "quantity": 2}, {"id": "FOLK", "quantity": 1},
                                  {"id": "FOLS", "quantity": 1}]}  # fmt: skip
    assert plan.left == {"X": 1} and plan.held == []


def test_a_gift_card_still_open_is_neither_fulfilled_by_the_nfe_nor_named_as_left() -> None:
    """No NF-e lists it and the capture charged it with the goods: named "not on the NF-e: ship and
    charge it apart", it asked the merchant to charge it twice."""
    goods = dataclasses.replace(shopify_line("A", 2), unfulfilled_quantity=2)
    card = dataclasses.replace(shopify_line("X", 1), unfulfilled_quantity=1, gift_card=True, sku=None,
                               name="Cartão-presente R$ 50")  # fmt: skip
    fo_lines = [
        FulfillmentOrderLine(f"FOL{n}", s.id, 2 if n == "A" else 1, 2) for n, s in (("A", goods), ("X", card))
    ]
    plan = plan_fulfilment(
        [FulfillmentOrder("FO1", "OPEN", "L1", fo_lines)],
        [goods, card],
        {"A": 2},
        {v: k for k, v in VARIANTS.items()},
    )
    assert plan.lines == {"FO1": [{"id": "FOLA", "quantity": 2}]} and plan.left == {}


def test_an_authorisation_that_allows_one_capture_is_captured_final_and_the_rest_named() -> None:
    """Partial invoicing on a gateway without multi-capture (OrderTransaction.multiCapturable false):
    its one capture closes the authorisation whatever finalCapture says, so it is asked final, and
    what it released (owed by the NF-e still to come) is named for a person to charge apart."""
    calls: list[dict[str, object]] = []

    def order_capture(order_id: str, authorization_id: str, amount: Decimal, **options: object) -> object:
        calls.append({"id": authorization_id, "amount": amount, **options})
        return SimpleNamespace(id="c1", amount=None, status="SUCCESS", error_code=None,
                               order_financial_status="PAID")  # fmt: skip

    client = SimpleNamespace(order_capture=order_capture)
    state = _settled("0", ("100.00", "100.00"))
    single = dataclasses.replace(
        state, authorizations=[dataclasses.replace(state.authorizations[0], multi_capturable=False)]
    )
    taken = capture(client, "gid://shopify/Order/1", D("60.00"), single, final=False)  # type: ignore[arg-type]
    assert calls == [{"id": "a0", "amount": D("60.00"), "currency": "BRL", "final_capture": True}]
    assert taken.attention is not None and "allows one capture only" in taken.attention
    assert "40.00 released; charge the NF-e still to come apart" in taken.attention

    calls.clear()  # a gateway with multi-capture keeps the rest for the next NF-e, named as waiting for it
    kept = capture(client, "gid://shopify/Order/1", D("60.00"), state, final=False)  # type: ignore[arg-type]
    assert calls[0]["final_capture"] is False and kept.attention is not None
    assert "40.00 is left authorised" in kept.attention and "one capture" not in kept.attention
    assert "40.00 is left authorised" not in (taken.attention or ""), "a released rest is not left authorised"

    money = {"shopMoney": {"amount": "100.00", "currencyCode": "BRL"}}
    raw = {"id": "gid://shopify/Order/1", "transactions": [
        {"id": "a1", "kind": "AUTHORIZATION", "status": "SUCCESS", "manuallyCapturable": True,
         "multiCapturable": False, "amountSet": money, "totalUnsettledSet": money},
    ]}  # fmt: skip
    assert parse_settlement(raw).authorizations[0].multi_capturable is False


def test_an_nfe_after_a_one_capture_authorisation_was_closed_is_told_to_be_charged_another_way() -> None:
    """The authorisation (multiCapturable false) was captured once for 60.00 of 100.00, its gateway
    released the other 40.00: the next NF-e's 40.00 has nothing to be captured from. Not "above what
    the customer authorised" (they did authorise it): the one capture taken, charge it another way.
    More due than it released: the part above it is above what was authorised, said as before."""
    client = SimpleNamespace(order_capture=lambda *a, **k: pytest.fail("nothing to capture from"))
    closed = Authorization("a0", D("100.00"), D("0"), False, D("60.00"), multi_capturable=False)
    state = dataclasses.replace(_settled("60.00"), authorizations=[closed], total_capturable=D("0"))
    told = capture(client, "gid://shopify/Order/1", D("100.00"), state, count=2)  # type: ignore[arg-type]
    assert told.attention is not None and told.captured == D("60.00")
    said = ("card authorisation a0 allowed one capture only, taken already (60.00 captured, the other "
            "40.00 released by its gateway): 40.00 was not charged (60.00 taken); charge the customer "
            "40.00 another way")  # fmt: skip
    assert said in told.attention, told.attention
    assert told.note.startswith("nothing left to capture: the authorisation allowing one capture")
    assert [key for key, _ in told.words] == ["capture_closed_by_one"]

    above = capture(client, "gid://shopify/Order/1", D("105.00"), state, count=2)  # type: ignore[arg-type]
    assert (
        above.attention is not None and "45.00 above what the customer paid or authorised" in above.attention
    )
    several = dataclasses.replace(state, authorizations=[dataclasses.replace(closed, multi_capturable=True)])
    other = capture(client, "gid://shopify/Order/1", D("100.00"), several)  # type: ignore[arg-type]
    assert "one capture" not in (other.attention or "")


def test_settlement_keeps_captures_pending_at_the_gateway_and_refused_apart_from_money_taken() -> None:
    """A payments app answers a capture later: PENDING (or AWAITING_RESPONSE) is neither taken nor
    capturable again; FAILURE/ERROR took nothing and is kept with its errorCode."""
    money = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
    raw = {"id": "gid://shopify/Order/1", "transactions": [
        {"id": "a1", "kind": "AUTHORIZATION", "status": "SUCCESS", "manuallyCapturable": True,
         "amountSet": money("100.00"), "totalUnsettledSet": money("100.00"),
         "authorizationExpiresAt": "2026-12-01T10:00:00Z"},
        {"id": "c1", "kind": "CAPTURE", "status": "PENDING", "amountSet": money("60.00"),
         "parentTransaction": {"id": "a1"}},
        {"id": "c2", "kind": "CAPTURE", "status": "FAILURE", "errorCode": "PROCESSING_ERROR",
         "amountSet": money("10.00"), "parentTransaction": {"id": "a1"}},
    ]}  # fmt: skip
    state = parse_settlement(raw)
    [auth] = state.authorizations
    assert (state.paid, auth.captured, auth.pending, state.pending_captures) == (0, 0, D("60.00"), D("60.00"))
    assert auth.refused == ((D("10.00"), "PROCESSING_ERROR"),)
    assert not auth.lapsed(datetime(2026, 11, 30, tzinfo=UTC))
    assert dataclasses.replace(auth, capturable=False).lapsed(datetime(2026, 12, 1, 10, tzinfo=UTC))


def _answering(status: str, error_code: str | None = None) -> tuple[SimpleNamespace, list[Decimal]]:
    """A client whose orderCapture answers `status`; the amounts it was asked for."""
    asked: list[Decimal] = []

    def order_capture(order_id: str, authorization_id: str, amount: Decimal, **options: object) -> object:
        asked.append(amount)
        return SimpleNamespace(id="c1", status=status, kind="CAPTURE", amount=Money(amount, "BRL"),
                               parent_id=authorization_id, error_code=error_code,
                               order_financial_status=None)  # fmt: skip

    return SimpleNamespace(order_capture=order_capture, transaction_void=lambda _id: "SUCCESS"), asked


def test_a_capture_the_gateway_refuses_is_not_money_taken_and_names_the_amount_and_authorisation() -> None:
    client, asked = _answering("FAILURE", "PROCESSING_ERROR")
    taken = capture(client, "gid://shopify/Order/1", D("100.00"), _settled("0", ("100.00", "100.00")))  # type: ignore[arg-type]
    assert asked == [D("100.00")] and taken.captured == 0 and taken.pending == ()
    assert taken.attention is not None
    assert (
        "the gateway refused the capture of 100.00 from card authorisation a0 (PROCESSING_ERROR)"
        in taken.attention
    )
    assert "100.00 was not charged" in taken.attention
    # Seen again (a later run): that authorisation is not captured again by the app, nor voided.
    refused = _settled("0", ("100.00", "100.00"))
    answer = ((D("100.00"), "PROCESSING_ERROR"),)
    refused = dataclasses.replace(
        refused, authorizations=[dataclasses.replace(refused.authorizations[0], refused=answer)]
    )
    assert capture_plan(D("100.00"), refused) == ([], D("100.00"))
    again = capture(None, "gid://shopify/Order/1", D("100.00"), refused)  # type: ignore[arg-type]
    assert again.attention is not None and "refused the capture of 100.00" in again.attention


def test_a_capture_pending_at_the_gateway_is_not_taken_and_never_asked_again() -> None:
    client, asked = _answering("PENDING")
    taken = capture(client, "gid://shopify/Order/1", D("80.00"), _settled("0", ("100.00", "100.00")))  # type: ignore[arg-type]
    assert asked == [D("80.00")] and taken.captured == 0 and taken.attention is None
    assert taken.pending == ("80.00 from authorisation a0",) and "pending at the gateway" in taken.note
    # The next run (or the next NF-e) sees it pending: nothing is asked, nothing voided, still pending.
    state = _settled("0", ("100.00", "100.00"))
    state = dataclasses.replace(state, authorizations=[
        dataclasses.replace(state.authorizations[0], pending=D("80.00"))])  # fmt: skip
    assert capture_plan(D("80.00"), state) == ([], D("0.00"))
    assert [str(a) for _, a in capture_plan(D("90.00"), state)[0]] == ["10.00"]  # the rest it still holds
    again = capture(None, "gid://shopify/Order/1", D("80.00"), state)  # type: ignore[arg-type]
    assert again.pending == ("80.00 from authorisation a0",) and again.attention is None


@pytest.mark.parametrize("answer", ["FAILURE", "PENDING"])
def test_a_capture_refused_or_pending_does_not_release_the_orders_other_authorisation(answer: str) -> None:
    """Two authorisations (100 and 30), an NF-e of 100: the plan draws on the first only, and the
    second would be released as not needed — but it is not needed only if that capture takes the
    money. Refused (or not answered yet), the second is left open and named, not voided."""
    voided: list[str] = []
    client, _asked = _answering(answer, "PROCESSING_ERROR" if answer == "FAILURE" else None)
    client.transaction_void = voided.append
    state = _settled("0", ("100.00", "100.00"), ("30.00", "30.00"))
    taken = capture(client, "gid://shopify/Order/1", D("100.00"), state, final=True)  # type: ignore[arg-type]
    assert voided == [], taken.note
    assert "not released while a capture is refused or pending: 30.00 authorised by a1" in taken.note
    if answer == "FAILURE":
        assert "authorisation a1 still holds 30.00, left open" in (taken.attention or "")
    else:
        assert taken.attention is None and taken.asked is not None
    # Taken at once, the other authorisation was not needed: released as before.
    client, _asked = _answering("SUCCESS")
    client.transaction_void = voided.append
    capture(client, "gid://shopify/Order/1", D("100.00"), state, final=True)  # type: ignore[arg-type]
    assert voided == ["a1"]


def test_an_authorisation_captured_in_full_or_released_is_not_named_as_expired() -> None:
    """An NF-e above what was authorised, seen after the authorisations' expiry: one captured in full
    and one released (voided) lapsed with nothing in them, so the note says the NF-e is above what
    the customer paid or authorised — not 'the card authorisation of 0.00 expired uncaptured'."""
    state = _settled("100.00", ("100.00", "0"), ("30.00", "0"))
    full, released = state.authorizations
    past = "2026-11-01T00:00:00Z"
    state = dataclasses.replace(state, authorizations=[
        dataclasses.replace(full, capturable=False, expires_at=past, captured=D("100.00")),
        dataclasses.replace(released, capturable=False, expires_at=past, captured=D(0), voided=True),
    ])  # fmt: skip
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert not any(a.lapsed(now) for a in state.authorizations)
    taken = capture(None, "gid://shopify/Order/1", D("105.00"), state, now=now)  # type: ignore[arg-type]
    assert taken.attention is not None and "expired" not in taken.attention, taken.attention
    assert "is 5.00 above what the customer paid or authorised" in taken.attention
    # One that lapsed with money in it still is: 40.00 of it was never captured.
    partly = dataclasses.replace(full, capturable=False, expires_at=past, captured=D("60.00"))
    assert partly.lapsed(now) and partly.unclaimed == D("40.00")


def test_settlement_reads_each_capture_and_a_voided_authorisation() -> None:
    """Each CAPTURE transaction is kept with its id and status (a re-check follows the one it asked
    for), and an authorisation with a successful VOID is known as released."""
    money = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
    raw = {"id": "gid://shopify/Order/1", "transactions": [
        {"id": "a1", "kind": "AUTHORIZATION", "status": "SUCCESS", "manuallyCapturable": False,
         "amountSet": money("100.00"), "totalUnsettledSet": money("0")},
        {"id": "a2", "kind": "AUTHORIZATION", "status": "SUCCESS", "manuallyCapturable": False,
         "amountSet": money("30.00"), "totalUnsettledSet": money("0")},
        {"id": "c1", "kind": "CAPTURE", "status": "SUCCESS", "amountSet": money("100.00"),
         "parentTransaction": {"id": "a1"}},
        {"id": "v1", "kind": "VOID", "status": "SUCCESS", "amountSet": money("30.00"),
         "parentTransaction": {"id": "a2"}},
    ]}  # fmt: skip
    state = parse_settlement(raw)
    assert [a.voided for a in state.authorizations] == [False, True]
    assert [a.unclaimed for a in state.authorizations] == [D(0), D(0)]
    found = state.capture("c1")
    assert found is not None and (found.parent, found.status, found.amount) == ("a1", "SUCCESS", D("100.00"))


def _served(seq: int, sku: str, qty: str, price: str) -> OrderLine:
    q, p = Decimal(qty), Decimal(price)
    return OrderLine(seq, sku, seq, None, Decimal(1), q, q, p, None, p, Decimal(0), q * p, q * p, False, None)


def test_an_nfe_short_by_the_freight_is_the_last_only_when_no_goods_could_be_that_short() -> None:
    """An NF-e short of the served total by the ERP's freight was taken as every unit invoiced, the
    freight billed apart, and its capture made final. When the goods still to be invoiced are worth
    exactly the freight (item b, 10 x 1.99 = 19.90, freight 19.90), that released what b's NF-e was
    to charge: which it is cannot be told, so the NF-e is not the last then."""
    served = [_served(1, "P1E1", "1", "30.00"), _served(2, "P2E1", "10", "1.99")]
    assert not issued_for_every_unit(served, Decimal("49.90"), Decimal("69.80"), 1, Decimal("19.90"))
    # The freight no set of goods makes up (9.90: 4 bananas 7.96, 5 are 9.95): billed apart, the last.
    banana = [_served(1, "P1E1", "1", "30.00"), _served(2, "P2E1", "10", "1.99")]
    assert issued_for_every_unit(banana, Decimal("59.80"), Decimal("69.70"), 1, Decimal("9.90"))
