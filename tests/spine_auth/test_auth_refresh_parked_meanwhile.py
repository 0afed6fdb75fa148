"""A refresh whose shop is parked (app/scopes_update removed a required scope) while the refresh
request is in flight: Shopify has already rotated the refresh token, so the token set it answered
is the only usable grant. Throwing it away leaves the shop with a spent refresh token: once the
scopes are granted again the shop is restored to active, and its next refresh is refused
(invalid_grant) -> parked again, every job stopped until staff open the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ledger import crypto
from ledger.db import session_scope
from ledger.models import OfflineToken, Shop, utcnow
from settings import DEFAULT_SCOPES
from shopify_app import tokens
from shopify_app.scopes import ScopesUpdate, apply_scopes_update
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import ShopNeedsReauth, get_access_token
from spine_auth.factories import SHOP_A, token_response

REQUIRED = DEFAULT_SCOPES.split(",")
REDUCED = [s for s in REQUIRED if s not in ("write_orders", "read_orders")]


def _scopes(settings, current):
    with session_scope(settings.database_url) as session:
        shop = session.scalar(select(Shop).where(Shop.domain == SHOP_A))
        apply_scopes_update(session, shop, ScopesUpdate(None, current, utcnow()), settings.scope_list)


def _stored_refresh(settings) -> str:
    with session_scope(settings.database_url) as session:
        return crypto.decrypt(session.scalar(select(OfflineToken)).refresh_token_enc)


def test_a_refresh_answered_while_the_shop_was_parked_keeps_the_rotated_refresh_token(
    settings, install_shop, monkeypatch
):
    install_shop(SHOP_A, access="shpat_old", refresh="shprt_old")
    with session_scope(settings.database_url) as session:
        session.execute(update(OfflineToken).values(expires_at=utcnow() + timedelta(seconds=60)))

    def refresh(settings_, shop, refresh_token):
        assert refresh_token == "shprt_old"  # Shopify consumes it now
        _scopes(settings, REDUCED)  # a scopes_update webhook parks the shop meanwhile
        return TokenSet.from_response(token_response("shpat_rotated", "shprt_rotated"))

    monkeypatch.setattr(tokens, "refresh_access_token", refresh)
    with pytest.raises(ShopNeedsReauth):
        get_access_token(SHOP_A, settings=settings)

    # the only refresh token Shopify still honours is the rotated one
    assert _stored_refresh(settings) == "shprt_rotated"
