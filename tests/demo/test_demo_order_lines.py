"""The demo's per-order summary (jobs.demo_orders.print_orders): what it says of each order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from jobs.demo_orders import PlacedOrder, Scenario, print_orders, scenarios, store_today


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "name": "#1005", "nro": 5, "shopify": "PAID/FULFILLED", "erp": "F invoiced", "total": "148.23",
        "received": "148.23", "ordered": "148.23", "nfe_erp": None, "nfe_model": None, "nfe_shopify": None,
        "nfe_cancelled": False, "invoiced": None, "refunded": None, "attention": None,
    }  # fmt: skip
    row.update(changes)
    return row


def _lines(row: dict[str, object]) -> list[str]:
    lines: list[str] = []
    order = PlacedOrder(Scenario("Pix", "pix"), "gid://shopify/Order/1", row=row)
    print_orders([order], lines.append)
    return lines


def test_a_cancelled_order_is_not_said_to_be_edited_at_picking() -> None:
    """Shopify shows a cancelled order's current total as 0: that is the cancellation, not an edit."""
    lines = _lines(
        _row(shopify="CANCELLED REFUNDED", erp="C cancelled", total="0.00", refunded=Decimal("148.23"))
    )
    assert not any("edited to the picking" in line for line in lines), lines
    invoiced = _row(shopify="CANCELLED REFUNDED", erp="C cancelled", total="0.00", nfe_erp="3526",
                    nfe_model="55", nfe_shopify="3526", nfe_cancelled=True, invoiced="137.47")  # fmt: skip
    assert not any("capture follows the NF-e" in line for line in _lines(invoiced))


def test_an_order_edited_to_the_picking_says_so() -> None:
    lines = _lines(_row(total="46.69", ordered="94.95"))
    assert any("edited to the picking: ordered 94.95, now 46.69" in line for line in lines), lines


def test_an_invoiced_store_pickup_says_it_waits_ready_for_the_customer() -> None:
    """A local pickup invoiced is marked ready for pickup, not fulfilled: the summary says where it
    is collected and that marking it picked up is the merchant's, in Shopify."""
    lines = _lines(_row(shopify="PAID/IN_PROGRESS", pickup_at="Loja Centro", ready_for_pickup=True))
    assert any("store pickup at Loja Centro: marked ready for pickup" in line for line in lines), lines
    assert any("marks it picked up in Shopify" in line for line in lines), lines


def test_the_slots_are_the_days_after_the_runs_day_not_the_imports() -> None:
    """The slots were fixed when the module was imported: a run (or a test session) crossing midnight
    placed a slot for the day it was by then, and the demo test failed on it (CI, 2026-12-08)."""
    stories = scenarios(date(2026, 12, 31))
    slots = [s.slot for s in stories if s.slot] + [s.reschedule for s in stories if s.reschedule]
    days = sorted({day for slot in slots for key, day in slot.items() if "Dat" in key})
    assert days == ["2027-01-01", "2027-01-02"], slots


def test_the_runs_day_is_the_stores_not_the_servers_utc_date(monkeypatch) -> None:
    """At 22:00 in Sao Paulo the server's UTC date is tomorrow: its "tomorrow" slot was two days on."""
    monkeypatch.setenv("ERP_TIMEZONE", "America/Sao_Paulo")
    assert store_today(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) == date(2026, 12, 7)
    assert store_today(datetime(2026, 12, 8, 3, 0, tzinfo=UTC)) == date(2026, 12, 8)
