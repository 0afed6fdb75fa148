"""Orders refused while the shop could not be used (needs_reauth: a token revoked, a refresh
refused; a parked install) fail with ShopNeedsReauth. The install that makes the shop usable again
promises to catch up "the orders placed or refused meanwhile" (shopify_app.enqueue.enqueue_catch_up):
the refused ones are replayed then, not left for a person's Retry (the reconciliation counts a
failed order message as held in the app and does not import it)."""

from __future__ import annotations

import requests
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from settings import get_settings
from shopify_app import oauth
from shopify_app.shops import mark_needs_reauth
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import REAUTH


def test_an_order_refused_while_the_shop_needed_reauth_is_imported_after_the_reinstall(world):
    with session_scope() as session:
        shop = session.scalars(select(Shop).where(Shop.id == world.shop_id)).one()
        mark_needs_reauth(session, shop, "token refresh refused: invalid_grant")
    gid = world.place(gateway="pix")
    world.drain()
    refused = world.message(gid)
    assert refused.status == MessageStatus.FAILED.value, refused.error_text
    assert refused.error_detail.get(REAUTH) is True
    assert not world.erp_orders_for(gid)

    token = requests.post(
        f"{world.shopify.url}/_sandbox/shops/{world.name}/access_token", json={}, timeout=10
    )
    oauth.install(get_settings(), world.domain, TokenSet.from_response(token.json()), actor="staff-1")
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1
    assert world.message(gid).status == MessageStatus.DONE.value


def test_a_plain_reauth_of_a_usable_shop_replays_nothing(world, monkeypatch):
    from shopify_app import enqueue

    replayed: list[int] = []
    monkeypatch.setattr(enqueue, "enqueue_replay", lambda message, conn=None: replayed.append(message.id))
    token = requests.post(
        f"{world.shopify.url}/_sandbox/shops/{world.name}/access_token", json={}, timeout=10
    )
    oauth.install(get_settings(), world.domain, TokenSet.from_response(token.json()), actor="staff-1")
    assert replayed == []
