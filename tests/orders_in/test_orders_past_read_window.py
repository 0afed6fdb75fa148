"""An unpaid order (a boleto re-issued, B2B NET 60/90 terms) that waits past Shopify's 60-day read
window: Shopify lets an app read the last 60 days of orders only, unless it holds read_all_orders (the
app does not ask for it), so the import's re-read answers null, as for a deleted order. The order
exists (it was just paid): its message fails as ORDER_TOO_OLD_TO_READ, saying what to do (enter it in
the ERP by hand and mark the message handled, or ask Shopify for read_all_orders and Retry), never
"Shopify has no order"; whether orders/paid or the catch-up's re-read of waiting orders meets the null.
Granted the scope, Retry sends it. An order seen lately that reads null is still gone (NOT_FOUND).
While it waits and can still be read, from its 50th day on, its message says when the app stops
reading it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from jobs import old_orders, order_clients, orders
from ledger import handled
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Shop, utcnow
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context, mark_paid
from sandbox.shopify.tokens import DEFAULT_SCOPES
from shopify_app import skip_words
from shopify_app.api_explain import explain
from shopify_app.fail_words import reason
from shopify_app.tokens import TokenSet, store_tokens

from .conftest import World

DAY = timedelta(days=1)


def _age(world: World, gid: str, days: int) -> datetime:
    """The order placed `days` ago in Shopify; returns when."""
    placed = (utcnow() - days * DAY).replace(microsecond=0)
    at = placed.strftime("%Y-%m-%dT%H:%M:%SZ")
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        order.update(createdAt=at, processedAt=at)
        order_store.save(ctx, order, touch=True)
    return placed


def _waiting(world: World) -> str:
    """A boleto order waiting for its payment, the app installed long before it."""
    with session_scope() as session:
        session.get(Shop, world.shop_id).created_at = utcnow() - 400 * DAY
    gid = world.place(gateway="boleto")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "Waiting for payment" in message.error_text
    return gid


def _waited(world: World, gid: str, days: int) -> None:
    """`days` go by: the order and the app's message of it date from then."""
    _age(world, gid, days)
    with session_scope() as session:
        message = session.get(Message, world.message(gid).id)
        message.created_at = utcnow() - days * DAY


def _too_old(world: World, gid: str) -> Message:
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_detail["code"] == old_orders.TOO_OLD, message.error_detail
    name = world.order_doc(gid)["name"]
    for locale in ("en", "pt-BR"):
        said = reason(message, locale) or ""
        assert "no order" not in said and "não tem o pedido" not in said, said
        assert name in said and "read_all_orders" in said, said
    assert reason(message, "en") == message.error_text  # the words say what the English says
    said = reason(message, "pt-BR")
    assert said.startswith(f"A Shopify não deixa mais o app ler o pedido {name}"), said
    assert "Lance-o no ERP à mão" in said and "marque esta mensagem como resolvida" in said, said
    assert "Tentar de novo" in said, said
    todos = (("en", "mark this message as handled"), ("pt-BR", "marque esta mensagem como resolvida"))
    for locale, todo in todos:
        shown = explain(message, locale)
        assert shown is not None and shown["code"] == old_orders.TOO_OLD, shown
        assert todo in shown["what_to_do"] and "read_all_orders" in shown["what_to_do"], shown
        assert "the event" not in shown["what_to_do"] and "o evento" not in shown["what_to_do"], shown
    assert world.erp_orders_for(gid) == []
    return message


def test_an_order_paid_on_its_70th_day_is_too_old_to_read_not_gone(world: World) -> None:
    gid = _waiting(world)
    _waited(world, gid, 70)
    mark_paid(world.shopify.sandbox, world.name, gid)  # orders/paid, orders/updated
    world.drain()
    _too_old(world, gid)


def test_the_webhooks_creation_time_tells_it_even_when_the_message_is_recent(world: World) -> None:
    """The app first saw the order lately (its message is new), but the orders/paid payload says
    Shopify created it 70 days ago: too old to read, not gone."""
    gid = _waiting(world)
    _age(world, gid, 70)
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    _too_old(world, gid)


def test_the_catch_up_re_read_on_its_61st_day_says_the_same(world: World) -> None:
    gid = _waiting(world)
    _waited(world, gid, 61)
    orders.run(world.shop_id, stale_after_seconds=0)  # the scheduled re-read of waiting orders
    world.drain()
    message = _too_old(world, gid)
    # Entered in the ERP by hand and closed as handled: a payment later sends nothing.
    with session_scope() as session:
        handled.mark(session, session.get(Message, message.id), by="31", note="ERP 555")
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    assert world.message(gid).status == MessageStatus.SKIPPED.value and world.erp_orders_for(gid) == []


def test_granted_read_all_orders_retry_sends_it(world: World) -> None:
    gid = _waiting(world)
    _waited(world, gid, 70)
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    _too_old(world, gid)
    base = f"{world.shopify.url}/_sandbox/shops/{world.name}"
    granted = f"{DEFAULT_SCOPES},read_all_orders"
    requests.post(f"{base}/scopes", json={"scopes": granted}, timeout=10).raise_for_status()
    token = requests.post(f"{base}/access_token", json={}, timeout=10).json()
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        store_tokens(session, shop, TokenSet.from_response(token))
        shop.scopes = granted  # as app/scopes_update records it
    order_clients.reset()
    assert orders.replay(world.message(gid).id) == "done"
    assert len(world.erp_orders_for(gid)) == 1


def test_an_order_seen_lately_that_reads_null_is_still_gone(world: World, monkeypatch) -> None:
    gid = _waiting(world)
    monkeypatch.setattr(orders, "read_order_for_erp", lambda *a, **k: None)  # deleted in Shopify
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value and message.error_detail["code"] == "NOT_FOUND"
    assert reason(message, "en") == f"Shopify has no order {world.order_doc(gid)['name']}"


def test_with_read_all_orders_an_old_order_that_reads_null_is_gone(world: World, monkeypatch) -> None:
    gid = _waiting(world)
    _waited(world, gid, 70)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.scopes = f"{shop.scopes},read_all_orders"
    monkeypatch.setattr(orders, "read_order_for_erp", lambda *a, **k: None)
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    assert world.message(gid).error_detail["code"] == "NOT_FOUND"


# ---------------------------------------------------------------- the warning before the window ends


def _warned(message: Message, until: str) -> None:
    assert message.status == MessageStatus.PENDING.value
    assert message.error_detail.get("readable_until") == until, message.error_detail
    assert f"the app can no longer read this order after {until}" in message.error_text, message.error_text
    en, pt = skip_words.reason(message, "en"), skip_words.reason(message, "pt-BR")
    assert en.startswith("waiting for payment") and f"no longer read this order after {until} UTC" in en, en
    assert pt.startswith("aguardando pagamento"), pt
    at = datetime.fromisoformat(until).replace(tzinfo=UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
    local = f"{at:%d/%m/%Y %H:%M}"
    assert f"não poderá mais ler este pedido depois de {local}" in pt, pt  # as the team reads it
    for locale, words in (("en", f"after {until}"), ("pt-BR", f"depois de {local}")):
        shown = explain(message, locale)
        assert words in shown["what_happened"] and "read_all_orders" in shown["what_happened"], shown


def test_a_waiting_order_on_its_55th_day_says_when_it_can_no_longer_be_read(world: World) -> None:
    gid = _waiting(world)
    placed = _age(world, gid, 55)
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    _warned(world.message(gid), (placed + 60 * DAY).strftime("%Y-%m-%d %H:%M"))


def test_no_warning_early_nor_with_read_all_orders(world: World) -> None:
    gid = _waiting(world)
    _age(world, gid, 40)
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "readable_until" not in message.error_detail
    assert "no longer read" not in message.error_text
    assert "no longer read" not in skip_words.reason(message, "en")
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.scopes = f"{shop.scopes},read_all_orders"
    _age(world, gid, 55)
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    assert "readable_until" not in world.message(gid).error_detail
