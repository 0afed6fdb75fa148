"""One linked order the ERP will not show (GET PedidoVenda/{nro} refused, say a 422 for an order
another user or company owns) or answers unreadably made the whole orders section an error: every
other order's drift went unreported, the run failed without retry, and the window reached back to
the last report whose orders were checked (up to 30 days) every day the order stayed refused. Now
that one order is listed as not checked (`not_checked`, the refusal in words) and the others are
compared; the next report looks it up again, whether or not Shopify lists it then."""

from __future__ import annotations

from datetime import timedelta

import pytest

import erp
from erp.client import ErpClient
from erp.errors import ErpAuthError, ErpRejected, ErpUnexpectedShape
from jobs import reconcile, reconcile_cli
from ledger import drift, trace
from ledger.db import session_scope
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import MessageStatus, utcnow
from shopify_app import reconcile_words
from shopify_app.admin_api import for_shop
from shopify_app.words import texts_in_locale

from .conftest import World


def _refusing(monkeypatch, nro: int, error: Exception) -> set[int]:
    """The ERP refuses order `nro` while it is in the set returned (empty it: the ERP shows it)."""
    real, refused = ErpClient.get_order, {nro}

    def get_order(self, asked):
        if asked in refused:
            raise error
        return real(self, asked)

    monkeypatch.setattr(ErpClient, "get_order", get_order)
    return refused


def _said(row: dict, locale: str) -> str:
    return texts_in_locale(row, reconcile_words.WORDS, locale, reconcile_words.KINDS)["why"]


def test_one_refused_lookup_does_not_hide_the_other_orders_drift(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    refused = world.linked_order([(world.plain(0), 1)], gateway="pix")
    drifted = world.linked_order([(world.plain(1), 3)], gateway="pix", seed=6)
    world.erp.separate(drifted.nro, cuts={str(drifted.lines[world.plain(1)]): 1})
    _refusing(monkeypatch, refused.nro, ErpRejected("Pedido não pode ser consultado por este usuário",
                                                    codigo="PEDIDO_BLOQUEADO", status=422))  # fmt: skip

    report = reconcile.run(world.shop_id, stock_sample=10)  # done: no section failed

    orders = report["orders"]
    assert "error" not in orders, orders
    assert [row["order"] for row in orders["totals_differ"]] == [drifted.gid]
    [row] = orders["not_checked"]
    assert (row["order"], row["nro_pedvenda"]) == (refused.gid, refused.nro), row
    assert "Pedido não pode ser consultado por este usuário" in row["why"], row
    assert _said(row, "en") == row["why"]
    assert _said(row, "pt-BR").startswith(
        f"o ERP recusou a consulta do pedido {refused.nro}: Pedido não pode"
    ), row
    assert orders["not_checked_count"] == 1 and report["summary"]["orders_not_checked"] == 1
    # counted among the findings, so no page says "nothing out of place" beside an order not compared
    assert drift.findings(report)["orders_not_checked"] == 1
    assert "orders not checked 1" in drift.line(drift.findings(report))
    assert reconcile._orders_checked(report)  # the section was checked: the window moves on
    printed = reconcile_cli.render(report)
    assert "Orders the ERP or Shopify would not show whole (not compared today" in printed, printed
    assert refused.gid in printed


def test_an_unreadable_answer_for_one_order_is_listed_not_checked(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    unreadable = ErpUnexpectedShape("api/v1/PedidoVenda", "vlrTotalPedido", "is not a number", "abc")
    _refusing(monkeypatch, order.nro, unreadable)

    orders = reconcile.run(world.shop_id, stock_sample=10)["orders"]

    [row] = orders["not_checked"]
    assert row["order"] == order.gid and "field vlrTotalPedido at api/v1/PedidoVenda" in row["why"], row
    said = _said(row, "pt-BR")
    assert "vlrTotalPedido" in said and said.startswith("a resposta do ERP para o pedido"), said


def test_a_refusal_of_the_erp_login_still_fails_the_section(world: World, monkeypatch) -> None:
    """A login refused is the connection's, not the order's: every order would be refused."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _refusing(monkeypatch, order.nro, ErpAuthError("usuário ou senha inválidos"))
    with pytest.raises(reconcile.ReportRefused) as refused:
        reconcile.run(world.shop_id, stock_sample=10)
    assert "error" in refused.value.report["orders"]


def test_an_order_not_checked_is_looked_up_again_by_the_next_report(world: World, monkeypatch) -> None:
    """The next report's window may no longer reach the order (Shopify changed it days ago): it is
    looked up again all the same, read from Shopify on its own, and compared once the ERP shows it."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(1), 3)], gateway="pix", seed=6)
    world.erp.separate(order.nro, cuts={str(order.lines[world.plain(1)]): 1})  # its totals differ
    refused = _refusing(
        monkeypatch, order.nro, ErpRejected("Acesso negado ao pedido", codigo="NEGADO", status=403)
    )
    report = reconcile.run(world.shop_id, stock_sample=10)
    assert [row["order"] for row in report["orders"]["not_checked"]] == [order.gid]

    with session_scope() as session:
        again = reconcile._check_again(session, world.shop_id, utcnow())
    assert again == [order.gid], again
    since = utcnow() + timedelta(minutes=1)  # a window past the order's last change: Shopify lists it no more
    still = reconcile._orders(
        world.shop_id, for_shop(world.domain), erp.for_shop(world.shop_id), since, again
    )
    assert [row["order"] for row in still["not_checked"]] == [order.gid], still  # refused still: listed again

    refused.clear()  # the ERP shows it now: compared, its drift reported
    found = reconcile._orders(
        world.shop_id, for_shop(world.domain), erp.for_shop(world.shop_id), since, again
    )
    assert found["not_checked"] == [], found
    assert [row["order"] for row in found["totals_differ"]] == [order.gid], found


def test_orders_not_checked_by_an_older_report_are_not_carried_past_a_newer_checked_one(world: World) -> None:
    def stored(key: str, days_ago: float, orders: dict) -> None:
        with session_scope() as session:
            message = trace.begin(session, world.shop_id, "reconcile", key, "both")
            trace.succeed(session, message, response={"orders": orders})
            message.created_at = utcnow() - timedelta(days=days_ago)

    stored("report:a", 2, {"not_checked_orders": ["gid://shopify/Order/1"]})
    stored("report:b", 1, {"not_checked_orders": ["gid://shopify/Order/2"]})
    stored("report:c", 0.5, {"error": "Transient: Shopify unreachable"})  # not checked: the one before counts
    with session_scope() as session:
        again = reconcile._check_again(session, world.shop_id, utcnow())
    assert again == ["gid://shopify/Order/2"]


def test_an_order_not_checked_then_in_flight_is_still_looked_up_again(world: World, monkeypatch) -> None:
    """Carried (the ERP would not show it), the order is in flight the next day (an invoice message of
    it retrying: an order the ERP refuses makes those flows retry too): not compared, so carried on,
    or once Shopify's window has moved past it no report would ever look at it again."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(1), 3)], gateway="pix", seed=6)
    world.erp.separate(order.nro, cuts={str(order.lines[world.plain(1)]): 1})  # its totals differ
    refused = _refusing(
        monkeypatch, order.nro, ErpRejected("Acesso negado ao pedido", codigo="NEGADO", status=403)
    )
    since = utcnow() + timedelta(minutes=1)  # Shopify's window no longer lists it
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "invoices", "event:91", ERP_TO_SHOPIFY,
                              shopify_id=order.gid, erp_id=str(order.nro))  # fmt: skip
        message.status = MessageStatus.RETRYING.value
        message_id = message.id

    def orders(again: list[str]) -> dict:
        return reconcile._orders(
            world.shop_id, for_shop(world.domain), erp.for_shop(world.shop_id), since, again
        )

    in_flight = orders([order.gid])
    assert in_flight["not_checked"] == [] and in_flight["totals_differ"] == [], in_flight
    assert in_flight["not_checked_orders"] == [order.gid], in_flight  # carried on

    refused.clear()  # the ERP shows it, the invoice message settled: compared, its drift reported
    with session_scope() as session:
        trace.get_message(session, message_id).status = MessageStatus.FAILED.value
    found = orders(in_flight["not_checked_orders"])
    assert [row["order"] for row in found["totals_differ"]] == [order.gid], found
    assert found["not_checked_orders"] == [], found  # compared: carried no more


def test_an_order_carried_and_compared_without_drift_is_carried_no_more(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    since = utcnow() + timedelta(minutes=1)
    found = reconcile._orders(
        world.shop_id, for_shop(world.domain), erp.for_shop(world.shop_id), since, [order.gid]
    )
    assert found["totals_differ"] == [] and found["not_checked"] == [], found
    assert found["not_checked_orders"] == [], found


def test_the_orders_carried_are_capped_keeping_the_newest(world: World, monkeypatch) -> None:
    """Past CHECK_AGAIN_MAX the orders carried from before go first (this report's not checked
    stay), and the section says how many were dropped."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(reconcile, "CHECK_AGAIN_MAX", 1)
    carried = world.linked_order([(world.plain(0), 1)], gateway="pix")
    fresh = world.linked_order([(world.plain(1), 1)], gateway="pix", seed=6)
    _refusing(monkeypatch, fresh.nro, ErpRejected("Acesso negado ao pedido", codigo="NEGADO", status=403))
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "invoices", "event:92", ERP_TO_SHOPIFY,
                              shopify_id=carried.gid, erp_id=str(carried.nro))  # fmt: skip
        message.status = MessageStatus.RETRYING.value
    found = reconcile._orders(
        world.shop_id, for_shop(world.domain), erp.for_shop(world.shop_id), utcnow() - timedelta(days=1),
        [carried.gid],
    )  # fmt: skip
    assert [row["order"] for row in found["not_checked"]] == [fresh.gid], found
    assert found["not_checked_orders"] == [fresh.gid], found
    assert found["not_checked_orders_dropped"] == 1, found
    printed = reconcile_cli.render({"shop": world.domain, "generated_at": "", "since": "", "orders": found})
    assert "orders not read whole, not looked up again: 1" in printed, printed


def _declined(world: World, gid: str, count: int) -> None:
    """`count` declined authorisations before the one that went through (Pix or card tried again and
    again): more transactions than Shopify gives in one read."""
    from decimal import Decimal

    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        authorised = next(t for t in order["_transactions"] if t["kind"] == "AUTHORIZATION")
        amount = Decimal(authorised["amountSet"]["shopMoney"]["amount"])
        order["_transactions"][:0] = [
            order_store.new_transaction(ctx, "AUTHORIZATION", "FAILURE", authorised["gateway"], amount)
            for _ in range(count)
        ]
        order_store.save(ctx, order, touch=True)


def test_an_open_order_shopify_will_not_give_whole_is_not_checked_the_others_compared(
    world: World, monkeypatch
) -> None:
    """Every report reads the orders open in the ERP outside its window one by one (_open_in_erp), with
    the read invoicing uses: Shopify refuses an order with more transactions than its largest page
    (ORDER_TRANSACTIONS_NOT_READ). That refusal failed the whole orders section (the run refused, not
    retried, the order not named) every day it stayed open; now that order alone is not checked."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    odd = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    other = world.linked_order([(world.plain(1), 1)], gateway="pix", seed=7)
    _declined(world, odd.gid, 260)
    world.erp.cancel(other.nro)  # a real drift: cancelled in the ERP, its event missed
    days_on = utcnow() + timedelta(days=3)  # neither order in the window; both open in the ERP
    monkeypatch.setattr(reconcile, "utcnow", lambda: days_on)

    report = reconcile.run(world.shop_id, stock_sample=1)  # done: no section failed

    orders = report["orders"]
    assert "error" not in orders, orders
    assert [(r["order"], r["erp"]) for r in orders["status_differs"]] == [(other.gid, "C")], orders
    [row] = orders["not_checked"]
    assert (row["order"], row["nro_pedvenda"]) == (odd.gid, odd.nro), row
    assert "transactions whole" in row["why"] and _said(row, "en") == row["why"], row
    assert _said(row, "pt-BR").startswith("a Shopify não entrega inteiras as transações do pedido"), row
    assert orders["not_checked_orders"] == [odd.gid]  # read again by the next report


def test_an_order_shopify_will_not_give_whole_at_the_tip_check_is_not_checked(monkeypatch) -> None:
    """An order whose tips leave the ERP's total above Shopify's is read whole (settlement) to see what
    its tip lines charge now: that read's refusal is that order's, listed as not checked."""
    from decimal import Decimal
    from types import SimpleNamespace

    from shopify_app.admin_api import settlement_lists
    from shopify_app.admin_api.order_settlement import OrderTotal

    def refused(client, gid):
        raise settlement_lists._fulfillments_refused(250)

    monkeypatch.setattr(reconcile, "gift_cards_sold", lambda client, gid: Decimal(0))
    monkeypatch.setattr(reconcile, "settlement", refused)
    gid = "gid://shopify/Order/1"
    link = SimpleNamespace(shopify_order_id=gid, shopify_order_name="#1", nro_pedvenda=77, created_at=None)
    shop = OrderTotal(id=gid, name="#1", created_at=None, updated_at="2026-11-28T00:00:00Z",
                      cancelled_at=None, financial_status="PAID", current_total=Decimal("65.00"),
                      tips=Decimal("5.00"))  # fmt: skip
    erp_client = SimpleNamespace(get_order=lambda nro: SimpleNamespace(situacao="L", total=Decimal("65.00"),
                                                                         total_served=None))  # fmt: skip
    findings: dict = {kind: [] for kind in ("missing_in_shopify", "missing_in_erp", "status_differs",
                                            "totals_differ", "not_checked")}  # fmt: skip

    assert reconcile._compare(link, shop, None, erp_client, findings) is False  # type: ignore[arg-type]

    [row] = findings["not_checked"]
    assert (row["order"], row["nro_pedvenda"]) == (gid, 77) and "fulfillments whole" in row["why"], row
    assert _said(row, "pt-BR").startswith("a Shopify não entrega inteiros os processamentos do pedido"), row
    assert findings["totals_differ"] == []
