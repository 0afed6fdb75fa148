"""A new ENCRYPTION_KEY rolled out process by process: a token written with it a moment ago by a
process that already has it is not parked by a process that does not have it yet."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from ledger import crypto
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import OfflineToken, ShopStatus
from shopify_app.shops import find_shop
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import UNREADABLE_GRACE, ShopNeedsReauth, get_access_token, store_tokens
from spine_auth.conftest import shop_row
from spine_auth.factories import SHOP_A, token_response


def refresh_on_a_process_with(settings, keys: str) -> None:
    """What a process on ENCRYPTION_KEY=`keys` stores when it refreshes the shop's token."""
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, SHOP_A, for_update=True)
        store_tokens(session, shop, TokenSet.from_response(token_response("shpat_2", "shprt_2")), keys=keys)


def test_a_token_written_with_a_key_not_deployed_here_yet_is_retried_not_parked(settings, install_shop):
    old = settings.encryption_keys
    new = crypto.generate_key()
    install_shop(SHOP_A)
    refresh_on_a_process_with(settings, f"{new},{old}")  # "newest first" already deployed there

    with pytest.raises(Transient) as caught:
        get_access_token(SHOP_A, settings=settings)  # a worker still on the old key alone
    assert not isinstance(caught.value, ShopNeedsReauth)
    assert "ENCRYPTION_KEY" in caught.value.message and "rollout" in caught.value.message
    assert shop_row(settings, SHOP_A).status == ShopStatus.ACTIVE.value
    # once the new key reaches this process too, the same token is served
    both = dataclasses.replace(settings, encryption_keys=f"{old},{new}")
    assert get_access_token(SHOP_A, settings=both) == "shpat_2"


def test_a_token_unreadable_after_the_grace_period_still_parks_the_shop(settings, install_shop):
    old = settings.encryption_keys
    install_shop(SHOP_A)
    refresh_on_a_process_with(settings, f"{crypto.generate_key()},{old}")
    with session_scope(settings.database_url) as session:
        written = session.query(OfflineToken).one().updated_at
        session.execute(update(OfflineToken).values(updated_at=written - UNREADABLE_GRACE))

    with pytest.raises(ShopNeedsReauth):
        get_access_token(SHOP_A, settings=settings)
    assert shop_row(settings, SHOP_A).status == ShopStatus.NEEDS_REAUTH.value
