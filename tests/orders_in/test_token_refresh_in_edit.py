"""A token refresh that falls inside a refund edit's Shopify read (its goodwill check, made while the
edit's transaction holds the rows it wrote: their foreign key check holds FOR KEY SHARE on the shop
row) locks the shop row FOR NO KEY UPDATE: FOR UPDATE waited on the job's own transaction for ever,
after Shopify had rotated the refresh token, and the shop ended needing re-authorization."""

from __future__ import annotations

import threading
from datetime import timedelta

import requests
from sqlalchemy import create_engine, select, text, update

from erp.client import ErpClient
from jobs import order_edits
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, OfflineToken, Shop, utcnow
from shopify_app.tokens import TokenSet, store_tokens
from tests.orders_in.test_edits_and_cancels import imported, refund_items_in_shopify


def _expiring_token(world) -> None:
    body = requests.post(
        f"{world.shopify.url}/_sandbox/shops/{world.name}/access_token", json={"expiring": True}, timeout=10
    ).json()
    with session_scope() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == world.domain)).one()
        store_tokens(session, shop, TokenSet.from_response(body))


def test_a_token_refresh_during_a_refund_edit_does_not_hang_the_job(world, monkeypatch, database_url):
    options = world.shopify.sandbox.options  # the refresh signs with the sandbox's app credentials (a
    monkeypatch.setenv("SHOPIFY_API_KEY", options.api_key)  # browser stack earlier in this process
    monkeypatch.setenv("SHOPIFY_API_SECRET", options.api_secret)  # may have left its own in the env)
    gid, _nro = imported(world)
    _expiring_token(world)
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=91)
    real = ErpClient.edit_order

    def edit_then_token_near_expiry(self, *args, **kwargs):
        answer = real(self, *args, **kwargs)
        # the hour's access token reaches its last 5 minutes just as the ERP answers
        with session_scope() as session:
            session.execute(
                update(OfflineToken)
                .where(OfflineToken.shop_id == world.shop_id)
                .values(expires_at=utcnow() + timedelta(seconds=30))
            )
        return answer

    monkeypatch.setattr(ErpClient, "edit_order", edit_then_token_near_expiry)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = order_edits.on_refund(event)
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=25)
    hung = worker.is_alive()
    waiting = []
    if hung:  # free the job: end the waiting backend (the refresh's FOR UPDATE)
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).all()
            for pid, _ in waiting:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()
        worker.join(timeout=30)
    from shopify_app.tokens import get_access_token

    try:
        get_access_token(world.domain)  # the next Shopify call of any job of the shop
        after = "usable"
    except Exception as exc:
        after = f"{type(exc).__name__}: {exc}"
    assert not hung, (
        f"(after it: {after}) the refund edit hung on its own transaction; waiting: {[q for _, q in waiting]}"
    )
    assert "error" not in outcome, outcome
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.flow == "order_edits")).one()
        assert message.status == MessageStatus.DONE.value, message.error_text
