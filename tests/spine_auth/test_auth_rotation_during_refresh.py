"""`secrets rotate` re-encrypting the token row while a worker refreshes the token.

Shopify rotates the refresh token on a refresh (the old one stops working). The rotation changes
only the ciphertext (same plaintext, newest key), yet `tokens._unless_replaced` compared
ciphertexts and took it for a new install: the freshly granted token set was thrown away and the
row kept the consumed refresh token, so the next refresh was refused and the shop was parked.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ledger import crypto
from ledger.db import session_scope
from ledger.models import OfflineToken, ShopStatus, utcnow
from ledger.secrets_rotation import rotate_all
from shopify_app import tokens
from shopify_app.token_endpoint import TokenRequestRejected, TokenSet
from shopify_app.tokens import get_access_token
from spine_auth.conftest import shop_row
from spine_auth.factories import SHOP_A, token_response


def test_a_rotation_during_a_refresh_keeps_the_new_token(settings, install_shop, env, monkeypatch):
    old = settings.encryption_keys
    install_shop(SHOP_A, access="shpat_old", refresh="shprt_old")
    with session_scope(settings.database_url) as session:
        session.execute(update(OfflineToken).values(expires_at=utcnow() + timedelta(seconds=60)))
    new = crypto.generate_key()
    both = f"{new},{old}"
    env.setenv("ENCRYPTION_KEY", both)
    settings = type(settings).from_env()
    consumed = set()

    def shopify_refresh(settings_, shop, refresh_token):
        if refresh_token in consumed:
            raise TokenRequestRejected("refused", status=400, error="invalid_grant", request_id=None)
        consumed.add(refresh_token)
        rotate_all(both)  # the operator's `secrets rotate`, running meanwhile
        return TokenSet.from_response(token_response("shpat_new", "shprt_new"))

    monkeypatch.setattr(tokens, "refresh_access_token", shopify_refresh)

    first = get_access_token(SHOP_A, settings=settings)  # no Transient: the rotation is no new install

    row = shop_row(settings, SHOP_A)
    assert row.status == ShopStatus.ACTIVE.value, (row.status, row.status_reason)
    assert first == "shpat_new"
    with session_scope(settings.database_url) as session:
        token = session.scalars(select(OfflineToken)).one()
        assert crypto.decrypt(token.refresh_token_enc, both) == "shprt_new"  # the spent one is gone
