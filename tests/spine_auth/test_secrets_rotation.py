"""Key rotation: `flask --app app secrets rotate` re-encrypts every stored secret with the newest
key, so the old one can be dropped from ENCRYPTION_KEY without losing a token or an ERP password."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from jobs import cli
from ledger import crypto
from ledger.db import session_scope
from ledger.models import ErpConnection, OfflineToken
from ledger.secrets_rotation import rotate_all
from spine_auth.factories import SHOP_A


def _add_erp_password(settings, shop_id: int, password: str, keys: str) -> None:
    with session_scope(settings.database_url) as session:
        session.add(
            ErpConnection(
                shop_id=shop_id,
                base_url="https://erp.example",
                username="u",
                password_enc=crypto.encrypt(password, keys),
            )
        )


def _stored(settings) -> tuple[bytes, bytes | None, bytes]:
    with session_scope(settings.database_url) as session:
        token = session.scalars(select(OfflineToken)).one()
        connection = session.scalars(select(ErpConnection)).one()
        return bytes(token.access_token_enc), token.refresh_token_enc, bytes(connection.password_enc)


def test_rotation_leaves_every_secret_readable_with_the_new_key_alone(settings, install_shop, env):
    old = settings.encryption_keys
    shop_id = install_shop(SHOP_A, access="shpat_rotate_me", refresh="shprt_rotate_me")
    _add_erp_password(settings, shop_id, "senha-do-erp", old)
    new = crypto.generate_key()
    env.setenv("ENCRYPTION_KEY", f"{new},{old}")  # the new key first, the old one still listed

    app = Flask(__name__)
    cli.register(app)
    printed = app.test_cli_runner().invoke(args=["secrets", "rotate"])

    assert printed.exit_code == 0, printed.output
    assert "re-encrypted 3 secret(s)" in printed.output
    access, refresh, password = _stored(settings)
    assert crypto.decrypt(access, new) == "shpat_rotate_me"
    assert refresh is not None and crypto.decrypt(bytes(refresh), new) == "shprt_rotate_me"
    assert crypto.decrypt(password, new) == "senha-do-erp"


def test_a_secret_no_key_reads_is_named_and_the_others_still_rotate(settings, install_shop):
    old = settings.encryption_keys
    shop_id = install_shop(SHOP_A, access="shpat_ok", refresh=None)
    _add_erp_password(settings, shop_id, "senha", crypto.generate_key())  # a key nobody configured
    new = crypto.generate_key()

    done = rotate_all(f"{new},{old}")

    assert done.rotated == 1 and done.unreadable == [f"{SHOP_A}: ERP password"]
    access, _refresh, _password = _stored(settings)
    assert crypto.decrypt(access, new) == "shpat_ok"


def test_a_token_refreshed_during_the_rotation_is_not_put_back(settings, install_shop, env, monkeypatch):
    """A worker refreshes the shop's token between the rotation's read and its write: Shopify has
    consumed the old refresh token, so writing the old pair back would lock the shop out at its next
    refresh. The rotation's write is compare-and-swap: it reads the row again and rotates that."""
    from ledger import secrets_rotation
    from shopify_app.shops import find_shop
    from shopify_app.token_endpoint import TokenSet
    from shopify_app.tokens import store_tokens

    old = settings.encryption_keys
    install_shop(SHOP_A, access="shpat_old", refresh="shprt_old")
    new = crypto.generate_key()
    real = crypto.rotate
    raced: list[bool] = []

    def a_refresh_commits_meanwhile(token, keys=None):
        if not raced:
            raced.append(True)
            with session_scope(settings.database_url) as session:
                shop = find_shop(session, SHOP_A, for_update=True)
                store_tokens(session, shop, TokenSet("shpat_new", "", refresh_token="shprt_new"), keys=old)
        return real(token, keys)

    monkeypatch.setattr(secrets_rotation.crypto, "rotate", a_refresh_commits_meanwhile)
    done = rotate_all(f"{new},{old}")

    with session_scope(settings.database_url) as session:
        token = session.scalars(select(OfflineToken)).one()
        pair = (
            crypto.decrypt(bytes(token.access_token_enc), new),
            crypto.decrypt(bytes(token.refresh_token_enc), new),
        )
    assert pair == ("shpat_new", "shprt_new") and done.unreadable == []
