"""Shopify lets an app read the last 60 days of orders only, unless it holds read_all_orders (the
app does not ask for it: settings.DEFAULT_SCOPES): an older order reads null, as a deleted one
does. The reconciliation does not call such an order "missing in Shopify": an order the app first
saw more than 60 days ago (its orders message, or its link) that reads null while the shop's grant
lacks the scope is listed apart, as not readable; one that reads null with the scope granted, or
one the app saw lately, is still missing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jobs import reconcile, reconcile_cli
from ledger import drift, trace
from ledger.db import session_scope
from ledger.models import Message, OrderLink, Shop, utcnow
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context
from shopify_app import reconcile_words
from shopify_app.words import texts_in_locale

from .conftest import World

OLD = timedelta(days=70)


def _seen_long_ago(world: World, gid: str) -> None:
    """The app's orders message for the order, opened when the order was placed, 70 days ago."""
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{gid.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=gid)  # fmt: skip
        trace.succeed(session, message)
        message.created_at = utcnow() - OLD


def _placed_long_ago(world: World, gid: str) -> None:
    old = (utcnow() - OLD).strftime("%Y-%m-%dT%H:%M:%SZ")
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        order.update(createdAt=old, processedAt=old)
        order_store.save(ctx, order, touch=True)


def _gone(world: World, gid: str, nro: int) -> None:
    """A link written today to an order Shopify does not have (deleted)."""
    with session_scope() as session:
        session.add(OrderLink(shop_id=world.shop_id, shopify_order_id=gid, shopify_order_name="#9",
                              nro_pedvenda=nro, nro_empresa=1))  # fmt: skip


def test_an_order_older_than_60_days_without_read_all_orders_is_not_missing_in_shopify(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        assert "read_all_orders" not in shop.scopes.split(",") and "read_orders" in shop.scopes
    # Paid on its 70th day (B2B payment terms): linked and sent to the ERP today, Shopify's order
    # placed 70 days ago; the app's message dates from then.
    old = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _placed_long_ago(world, old.gid)
    _seen_long_ago(world, old.gid)
    assert world.settlement(old.gid) is None  # Shopify answers null: the grant does not reach it
    deleted = "gid://shopify/Order/987654321"  # seen lately, gone from Shopify
    _gone(world, deleted, old.nro)

    report = reconcile.run(world.shop_id, stock_sample=1)

    orders = report["orders"]
    assert [row["order"] for row in orders["missing_in_shopify"]] == [deleted]
    [row] = orders["not_readable_in_shopify"]
    assert row["order"] == old.gid and row["nro_pedvenda"] == old.nro
    assert row["why"] == "not readable: older than 60 days without read_all_orders"
    said = texts_in_locale(row, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["why"]
    assert said.startswith("não legível: com mais de 60 dias"), said  # the page says it in pt-BR
    assert texts_in_locale(row, reconcile_words.WORDS, "en", reconcile_words.KINDS)["why"] == row["why"]
    assert orders["not_readable_in_shopify_count"] == 1
    summary = report["summary"]
    assert summary["orders_missing_in_shopify"] == 1 and summary["orders_not_readable_in_shopify"] == 1
    found = drift.findings(report)  # not readable is no drift: the app cannot read it, by its grant
    assert found["orders_missing_in_shopify"] == 1 and "orders_not_readable_in_shopify" not in found
    printed = reconcile_cli.render(report)
    assert "Orders Shopify does not let the app read (older than 60 days" in printed and old.gid in printed


def test_with_read_all_orders_an_old_order_that_reads_null_is_missing(world: World, monkeypatch) -> None:
    """Granted the scope, Shopify reads every order: null is an order gone, however old."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    deleted = "gid://shopify/Order/987654322"
    _gone(world, deleted, 1)
    _seen_long_ago(world, deleted)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.scopes = f"{shop.scopes},read_all_orders"

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    assert [row["order"] for row in orders["missing_in_shopify"]] == [deleted]
    assert orders["not_readable_in_shopify"] == [] and orders["not_readable_in_shopify_count"] == 0
    with session_scope() as session:  # the message stays as it was
        assert session.scalars(select(Message).where(Message.shopify_id == deleted)).one()
