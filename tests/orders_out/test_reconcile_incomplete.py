"""Reconciliation that could not check everything: the orders window does not move past a day
whose orders were not checked, a report with a section that failed is kept but never recorded
done, a large window does not overflow PostgreSQL's bind parameters, and an ERP address that
answers 404 for every order fails the section instead of listing every order as missing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from jobs import reconcile, reconcile_cli
from ledger import kv, trace
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.models import Message, MessageStatus, OrderLink, utcnow
from shopify_app import fail_words
from shopify_app.admin_api.order_settlement import OrderTotal
from shopify_app.api_explain import explain

from .conftest import World


def _report(world: World, key: str, days_ago: float, orders: dict) -> None:
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "reconcile", key, "both")
        trace.succeed(session, message, response={"orders": orders})
        message.created_at = utcnow() - timedelta(days=days_ago)


def test_the_window_reaches_back_past_reports_whose_orders_section_failed(world: World) -> None:
    """A good report 4 days ago, then 3 days of Shopify or the ERP down (the orders section failed,
    the report still stored): the orders changed since the good one were never compared, so the
    window reaches back to it, not to yesterday's report."""
    _report(world, "report:a", 4, {"checked": 3})
    for n, days in enumerate((3, 2, 1)):
        _report(world, f"report:b{n}", days, {"error": "Transient: Shopify unreachable", "retryable": True})
    now = utcnow()
    with session_scope() as session:
        since = reconcile._since(session, world.shop_id, now, reconcile.WINDOW)
    assert since <= now - timedelta(days=4) - reconcile.OVERLAP + timedelta(minutes=1), since
    assert since >= now - timedelta(days=4) - reconcile.OVERLAP - timedelta(minutes=1), since

    _report(world, "report:c", 0.5, {"checked": 1})  # the orders checked again: the window moves on
    with session_scope() as session:
        assert reconcile._since(session, world.shop_id, now, reconcile.WINDOW) == now - reconcile.WINDOW


def test_a_report_whose_sections_failed_is_kept_but_retried_not_done(world: World, monkeypatch) -> None:
    """Shopify and the ERP unreachable through the run: the report checked nothing. It is stored
    (the page and CLI show which sections failed), its message is retrying with the sections'
    errors, and the run raises a Transient, so RQ tries again and the schedule shows it retrying."""

    def down(*args, **kwargs):
        raise Transient("Shopify unreachable")

    monkeypatch.setattr(reconcile, "orders_with_totals_since", down)
    world.erp.faults.set(down_for=60)
    try:
        with pytest.raises(reconcile.ReportIncomplete) as raised:
            reconcile.run(world.shop_id, stock_sample=1)
    finally:
        world.erp.faults.clear()
    assert "orders: Transient: Shopify unreachable" in str(raised.value)
    partial = raised.value.report
    assert partial["summary"]["errors"] == ["orders", "stock", "catalog"]
    with session_scope() as session:
        [message] = session.scalars(select(Message).where(Message.flow == "reconcile")).all()
        assert message.status == MessageStatus.RETRYING.value
        assert message.error_text.startswith("reconciliation incomplete: orders:")
        assert message.response_payload == partial
        # in the merchant's words: each section's error's own words (the ERP unreachable), else its text
        pt, en = fail_words.reason(message, "pt-BR"), fail_words.reason(message, "en")
    assert pt.startswith("conciliação incompleta: pedidos: Shopify unreachable; estoque: "), pt
    assert "catálogo: " in pt and "reconciliation" not in pt and "Transient" not in pt, pt
    [stock_error] = partial["stock"]["error_words"]
    stock_said = fail_words.said(stock_error["params"]["said"], "pt-BR")
    assert stock_said and f"estoque: {stock_said}; " in pt, (stock_said, pt)  # the ERP's failure in pt-BR
    assert en.startswith("reconciliation incomplete: orders: Shopify unreachable; stock: "), en
    assert reconcile.latest(world.shop_id) == partial
    kv.get_redis().delete(reconcile.redis_key(world.shop_id))
    assert reconcile.latest(world.shop_id) == partial  # from the message, though not done


def test_a_section_refused_fails_the_report_and_the_cli_prints_what_was_checked(
    world: World, monkeypatch
) -> None:
    """A refusal (retrying gives the same answer) fails the report at once with the section's
    error; the sections that were checked are still printed, and the command ends non-zero."""

    def refused(*args, **kwargs):
        raise Rejected("access denied to products", system="shopify")

    monkeypatch.setattr(reconcile, "_catalog", refused)
    app = Flask(__name__)
    reconcile_cli.register(app)
    result = app.test_cli_runner().invoke(args=["reconcile", "--shop", world.domain])
    assert result.exit_code == 1
    assert f"Reconciliation of {world.domain}" in result.output
    assert "catalog: could not be checked: Rejected: access denied to products" in result.output
    assert "reconciliation incomplete: catalog: Rejected: access denied to products" in result.stderr
    with session_scope() as session:
        [message] = session.scalars(select(Message).where(Message.flow == "reconcile")).all()
        assert message.status == MessageStatus.FAILED.value
        assert message.response_payload["summary"]["errors"] == ["catalog"]
        assert "error" not in message.response_payload["orders"]
        assert (
            fail_words.reason(message, "pt-BR")
            == "conciliação incompleta: catálogo: access denied to products"
        )
        assert (
            fail_words.reason(message, "en")
            == "reconciliation incomplete: catalog: access denied to products"
        )
        shown = explain(message, "pt-BR")  # the Messages page explains it in the merchant's words
        assert shown is not None and shown["what_happened"].startswith("A conciliação diária não conseguiu")
        assert explain(message, "en")["what_to_do"].endswith("the report is made again.")


def test_a_window_of_70000_orders_is_reconciled(world: World, monkeypatch) -> None:
    """A large shop, or a catch-up of 30 days: more orders than PostgreSQL binds in one statement
    (65,535) go to the ledger in chunks instead of failing the section every day."""
    now = utcnow().isoformat()

    def many(client, since_iso):
        for i in range(70_000):
            placed = "2020-01-01T00:00:00Z" if i % 2 else now  # half before the install: counted
            yield OrderTotal(id=f"gid://shopify/Order/{10**9 + i}", name=f"#{i}", created_at=placed,
                             updated_at=now, cancelled_at=None, financial_status="PAID",
                             current_total=Decimal("10.00"))  # fmt: skip

    monkeypatch.setattr(reconcile, "orders_with_totals_since", many)
    report = reconcile.run(world.shop_id, stock_sample=1)
    orders = report["orders"]
    assert "error" not in orders, orders
    assert orders["checked"] == 70_000 and orders["placed_before_install_count"] == 35_000
    assert orders["in_flight_count"] == 35_000  # changed a moment ago: no import enqueued


def test_an_erp_answering_404_for_every_order_fails_the_section(world: World, monkeypatch) -> None:
    """A misrouted ERP address answers 404 for any order: every linked order listed as missing in
    the ERP would send the merchant looking for lost orders. The section fails saying to check the
    ERP's address instead."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago
    for n in range(reconcile.ALL_MISSING):
        world.linked_order([(world.plain(0), 1)], gateway="pix", seed=20 + n)
    with session_scope() as session:
        for link in session.scalars(select(OrderLink).where(OrderLink.shop_id == world.shop_id)):
            link.nro_pedvenda += 10_000  # numbers the ERP at that address does not have

    with pytest.raises(reconcile.ReportRefused) as raised:
        reconcile.run(world.shop_id, stock_sample=1)
    orders = raised.value.report["orders"]
    assert "404" in orders["error"] and "base URL" in orders["error"], orders
    assert "error" not in raised.value.report["stock"]
