"""The pure rules of the ERP -> Shopify order flows: picking plan, cancel reasons, invoice
metafields, settlement parsing, the stored event's round trip, the report's text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from erp.records import Invoice, OrderEvent, OrderLine, Tracking
from jobs.cancellations.to_shopify import reason_code
from jobs.invoices import invoice_metafields, tracking_input
from jobs.order_edits.to_shopify import plan_changes
from jobs.order_event_codec import event_from_payload, event_payload
from jobs.reconcile_cli import render
from ledger.errors import MappingMissing
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine
from shopify_app.admin_api.order_settlement import parse_settlement

D = Decimal


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
    ],
)
def test_cancel_reason_codes(text: str | None, code: str) -> None:
    assert reason_code(text) == code


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
