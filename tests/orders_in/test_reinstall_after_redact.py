"""The store uninstalls the app, Shopify sends shop/redact 48 h later (the app erases the store's
data, its shop row and order links with it), the merchant installs the app again. An order of the
first installation is the app's still (one waiting for its payment goes once paid); only an order
placed while the app was not installed is the store's own (ledger.install_periods)."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from sqlalchemy import select

from bench._order_stack import GATEWAYS, NRO_EMPRESA, bind
from jobs import compliance, orders
from jobs.inbox import WebhookEvent
from ledger import mappings
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, Message, MessageStatus, Shop, utcnow
from sandbox.shopify.checkout import mark_paid
from shopify_app import skip_words
from shopify_app.shops import mark_installed
from shopify_app.tokens import TokenSet, store_tokens
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_import_rules import rest_event
from tests.orders_in.test_not_for_erp import change_order


def _event(world, topic: str, at=None) -> WebhookEvent:
    return WebhookEvent(
        0,
        topic,
        world.domain,
        None,
        None,
        "2026-10",
        at or utcnow(),
        {"shop_domain": world.domain, "myshopify_domain": world.domain},
    )


def reinstalled(world, *, redact: bool = True) -> int:
    """app/uninstalled, shop/redact (unless `redact` is False), then the app installed again on the
    same store (its own mark_installed, and the setup the merchant redoes after a redact: ERP
    connection, store link, location, De:Para, the catalog sync's bindings); the shop id now."""
    compliance.app_uninstalled(_event(world, "app/uninstalled"))
    if redact:
        compliance.shop_redact(_event(world, "shop/redact"))
        with session_scope() as session:
            assert session.scalar(select(Shop).where(Shop.domain == world.domain)) is None  # erased
    time.sleep(1.1)  # the reinstall comes later (Shopify's times are whole seconds)
    token = requests.post(
        f"{world.shopify.url}/_sandbox/shops/{world.name}/access_token", json={}, timeout=10
    ).json()
    with session_scope() as session:
        shop = mark_installed(session, world.domain, scopes="read_orders,write_orders", actor="test")
        store_tokens(session, shop, TokenSet.from_response(token))
        shop_id = shop.id
        if redact:
            shop.settings = {"seq_canal_venda": 7, "cod_geral_oper": 207, "payment_confirmation": "paid"}
            session.add(ErpConnection(shop_id=shop_id, base_url=world.chain.handle.url, username="ecommerce",
                                      password_enc=encrypt("consinco")))  # fmt: skip
            mappings.set_store_link(session, shop_id, NRO_EMPRESA, world.chain.segment)
            mappings.set_location_mapping(session, shop_id, NRO_EMPRESA, world.shop.location_id)
            for gateway, code in GATEWAYS.items():
                mappings.upsert_mapping(session, shop_id, "payment_method", gateway, code)
    if redact:
        skus = {s.id_sku: s for s in world.chain.skus}
        for id_sku, variant in world.variants.items():
            bind(shop_id, skus[id_sku], variant)
    world.shop.shop_id = shop_id
    return shop_id


def periods(world) -> list[tuple]:
    from ledger.models import InstallPeriod

    with session_scope() as session:
        q = select(InstallPeriod).where(InstallPeriod.domain == world.domain).order_by(InstallPeriod.id)
        return [(p.installed_at, p.uninstalled_at) for p in session.scalars(q)]


def test_a_boleto_placed_while_installed_and_paid_after_the_redact_and_reinstall_goes_to_the_erp(world):
    """Placed while the app was installed, waiting for its payment ("the app sends it once paid");
    uninstalled, redacted, installed again; then the customer pays the boleto (orders/paid)."""
    gid = world.place(gateway="boleto")
    world.drain()
    assert world.erp_orders_for(gid) == [] and world.message(gid).status == MessageStatus.PENDING.value
    reinstalled(world)
    mark_paid(world.shopify.sandbox, world.name, gid)  # orders/paid + orders/updated
    world.drain()
    message = world.message(gid)
    assert len(world.erp_orders_for(gid)) == 1, (message.status, message.error_text)
    assert message.status == MessageStatus.DONE.value
    [(first, uninstalled), (again, still)] = periods(world)  # kept by the redact, by domain
    assert first < uninstalled < again and still is None


def test_an_order_sent_before_the_redact_is_linked_again_not_posted_twice(world):
    """An orders/updated after the reinstall of an order the ERP has had since the first installation:
    posted again, the ERP (idempotent on the order's channel id) answers the order it holds; the app
    knows its number again. Never skipped as "the store handled it without the app"."""
    gid = world.place(gateway="pix")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    reinstalled(world)
    orders.on_webhook(rest_event(world, gid, "orders/updated", 1))
    assert len(world.erp_orders_for(gid)) == 1
    assert world.link(gid).nro_pedvenda == erp_order["nropedvenda"]
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value and message.response_payload["duplicated"] is True


def test_an_order_placed_while_the_app_was_not_installed_is_the_stores_own(world):
    """Uninstalled (no redact), then installed again: an order placed in between was handled without
    the app; its orders/updated after the reinstall is skipped naming both times, not posted."""
    with session_scope() as session:  # installed yesterday
        session.get(Shop, world.shop_id).created_at = utcnow() - timedelta(days=1)
    gid = world.place(gateway="pix")
    world.delivered()
    uninstalled_at = utcnow() - timedelta(hours=2)
    compliance.app_uninstalled(_event(world, "app/uninstalled", uninstalled_at))
    reinstalled_id = reinstalled(world, redact=False)  # its uninstall again: a second delivery, no change
    assert reinstalled_id == world.shop_id
    [(_, ended), (again, _)] = periods(world)
    assert abs(ended - uninstalled_at) < timedelta(seconds=1)
    placed = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    change_order(world, gid, lambda order: order.update(createdAt=placed, processedAt=placed))
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 2)) == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert "while the app was not installed on this store" in message.error_text, message.error_text
    assert message.error_detail["not_for_erp"] and message.error_detail["before_install"]
    said = skip_words.reason(message, "pt-BR")
    assert said and said.startswith("Pedido feito enquanto o app não estava instalado nesta loja"), said
    assert f"{uninstalled_at:%Y-%m-%d %H:%M}" in said and f"{again:%Y-%m-%d %H:%M}" in said


def test_an_erp_event_of_an_order_sent_before_the_redact_says_its_link_was_erased(world):
    """The ERP invoices an order of the first installation after the reinstall: its link went with
    the store's data (the law has it so), so nothing is applied in Shopify, and the message says
    that, not "typed in the ERP, or from another channel"."""
    gid = world.place(gateway="pix")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    nro = erp_order["nropedvenda"]
    shop_id = reinstalled(world)
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    with session_scope() as session:
        [message] = session.scalars(  # (the sandbox ERP is shared: the new shop reads others' events too)
            select(Message).where(
                Message.shop_id == shop_id, Message.flow == "invoices", Message.erp_id == str(nro)
            )
        ).all()
        text, status = message.error_text, message.status
        said = skip_words.reason(message, "en")
    assert status == MessageStatus.SKIPPED.value
    assert text.startswith(f"ERP order {nro} is not linked to any Shopify order of this shop: the app sent")
    assert f"Shopify order {gid.rsplit('/', 1)[-1]}" in text and "erased" in text
    assert "another channel" not in text
    assert said == text
