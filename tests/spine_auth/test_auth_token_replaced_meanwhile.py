"""A refresh racing a reinstall: the token the install stored meanwhile wins, the shop stays active.

The app was uninstalled (webhook not processed yet) and installed again through the authorization
code grant while a worker was refreshing the old grant's token. Shopify refuses the old refresh
token (the uninstall revoked it) or still answers it; either way the worker must neither park
the shop nor overwrite the token the install just stored: it retries with the new one.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import OfflineToken, ShopStatus, utcnow
from shopify_app import tokens
from shopify_app.oauth import install
from shopify_app.token_endpoint import TokenRequestRejected, TokenSet
from shopify_app.tokens import ShopNeedsReauth, get_access_token, shop_token_lock
from spine_auth.conftest import shop_row
from spine_auth.factories import SHOP_A, token_response
from tests.spine_auth.test_auth_oauth_grant import callback_params, start_install


def expire_in(settings, seconds: int) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(update(OfflineToken).values(expires_at=utcnow() + timedelta(seconds=seconds)))


def reinstall_during_the_refresh(settings, monkeypatch, *, then):
    """Make the refresh request commit a new grant (as the OAuth callback does) before `then`."""

    def refresh(settings_, shop, refresh_token):
        new_grant = TokenSet.from_response(token_response("shpat_new", "shprt_new"))
        install(settings, SHOP_A, new_grant, actor="merchant")
        return then()

    monkeypatch.setattr(tokens, "refresh_access_token", refresh)


def refused():
    raise TokenRequestRejected(
        "token refresh refused: invalid_grant", status=400, error="invalid_grant", request_id=None
    )


def test_a_refused_refresh_does_not_park_a_shop_reinstalled_meanwhile(settings, install_shop, monkeypatch):
    install_shop(SHOP_A, access="shpat_old", refresh="shprt_old")
    expire_in(settings, 60)
    reinstall_during_the_refresh(settings, monkeypatch, then=refused)

    with pytest.raises(Transient) as caught:
        get_access_token(SHOP_A)
    assert not isinstance(caught.value, ShopNeedsReauth) and "replaced meanwhile" in caught.value.message
    row = shop_row(settings, SHOP_A)
    assert row.status == ShopStatus.ACTIVE.value, (row.status, row.status_reason)
    assert get_access_token(SHOP_A) == "shpat_new"  # the retry uses the new grant


def test_a_granted_refresh_does_not_overwrite_the_token_installed_meanwhile(
    settings, install_shop, monkeypatch
):
    install_shop(SHOP_A, access="shpat_old", refresh="shprt_old")
    expire_in(settings, 60)
    stale = TokenSet.from_response(token_response("shpat_stale", "shprt_stale"))
    reinstall_during_the_refresh(settings, monkeypatch, then=lambda: stale)

    with pytest.raises(Transient) as caught:
        get_access_token(SHOP_A)
    assert "replaced meanwhile" in caught.value.message
    assert get_access_token(SHOP_A) == "shpat_new"


def test_the_oauth_callback_installs_under_the_shops_token_lock(client, settings, requests_mock, monkeypatch):
    """A refresh holding the lock makes the callback answer 'try again' before the code is spent."""
    exchange = requests_mock.post(
        f"https://{SHOP_A}/admin/oauth/access_token", json=token_response("shpat_granted", "shprt_granted")
    )
    monkeypatch.setattr(tokens, "LOCK_WAIT_SECONDS", 0.2)
    state = start_install(client)
    with shop_token_lock(settings, SHOP_A):
        reply = client.get("/auth/callback?" + urlencode(callback_params(state)))
    assert reply.status_code == 503, reply.json
    assert exchange.call_count == 0 and shop_row(settings, SHOP_A) is None
