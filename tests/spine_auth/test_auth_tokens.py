"""Offline tokens: encrypted at rest, refreshed once before expiry, rotated, parked when refused."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, text, update

from ledger import crypto
from ledger.db import get_engine, session_scope
from ledger.errors import Rejected, Transient
from ledger.models import AuditEvent, OfflineToken, Shop, ShopStatus, utcnow
from shopify_app import tokens
from shopify_app.tokens import ShopNeedsReauth, get_access_token
from spine_auth.conftest import shop_row
from spine_auth.factories import API_KEY, API_SECRET, SHOP_A, token_response

TOKEN_URL = f"https://{SHOP_A}/admin/oauth/access_token"


def expire_in(settings, seconds: int) -> None:
    """Move the stored access token's expiry to `seconds` from now."""
    with session_scope(settings.database_url) as session:
        session.execute(update(OfflineToken).values(expires_at=utcnow() + timedelta(seconds=seconds)))


def stored_tokens(settings) -> tuple[str, str | None]:
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(OfflineToken)).one()
        refresh = crypto.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None
        return crypto.decrypt(row.access_token_enc), refresh


def test_tokens_are_not_readable_in_the_database_without_the_key(settings, install_shop):
    install_shop(SHOP_A, access="shpat_plain_access_value", refresh="shprt_plain_refresh_value")
    with get_engine(settings.database_url).connect() as conn:
        access_raw, refresh_raw = conn.execute(
            text("SELECT access_token_enc, refresh_token_enc FROM offline_tokens")
        ).one()
        everything = " ".join(
            str(row)
            for table in ("shops", "offline_tokens", "audit_events")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert b"shpat_plain_access_value" not in bytes(access_raw)
    assert b"shprt_plain_refresh_value" not in bytes(refresh_raw)
    assert "plain_access" not in everything and "plain_refresh" not in everything
    other_key = crypto.generate_key()
    for raw in (access_raw, refresh_raw):
        with pytest.raises(crypto.SecretUnreadable):
            crypto.decrypt(bytes(raw), other_key)
    assert crypto.decrypt(bytes(access_raw), settings.encryption_keys) == "shpat_plain_access_value"


def encrypt_with_a_dropped_key(settings) -> None:
    """Re-encrypt the stored tokens with a key ENCRYPTION_KEY no longer holds (written long ago:
    not a token another process wrote a moment ago with a key being rolled out)."""
    dropped = crypto.generate_key()
    with session_scope(settings.database_url) as session:
        session.execute(
            update(OfflineToken).values(
                access_token_enc=crypto.encrypt("shpat_access_1", dropped),
                refresh_token_enc=crypto.encrypt("shprt_refresh_1", dropped),
                updated_at=utcnow() - timedelta(days=1),
            )
        )


@pytest.mark.parametrize("expires_in", [3600, 10], ids=["fresh", "expiring"])
def test_a_token_no_key_reads_parks_the_shop_saying_why(settings, install_shop, requests_mock, expires_in):
    """Not a SecretUnreadable 'bug' on every job for ever: the shop is parked with the reason,
    and the next token exchange (a staff member opening the app) replaces the token."""
    install_shop(SHOP_A)
    expire_in(settings, expires_in)
    encrypt_with_a_dropped_key(settings)
    with pytest.raises(ShopNeedsReauth) as caught:
        get_access_token(SHOP_A)
    assert "ENCRYPTION_KEY" in caught.value.reason
    shop = shop_row(settings, SHOP_A)
    assert shop.status == ShopStatus.NEEDS_REAUTH.value and "ENCRYPTION_KEY" in shop.status_reason
    assert requests_mock.call_count == 0


def test_fresh_token_is_served_without_calling_shopify(settings, install_shop, requests_mock):
    install_shop(SHOP_A, access="shpat_fresh")
    assert get_access_token(SHOP_A) == "shpat_fresh"
    assert requests_mock.call_count == 0


def test_refresh_near_expiry_rotates_both_tokens(settings, install_shop, requests_mock):
    install_shop(SHOP_A, access="shpat_access_1", refresh="shprt_refresh_1")
    expire_in(settings, 120)  # inside the 300 s margin
    requests_mock.post(TOKEN_URL, json=token_response("shpat_access_2", "shprt_refresh_2"))

    assert get_access_token(SHOP_A) == "shpat_access_2"

    sent = requests_mock.last_request.json()
    assert sent == {
        "client_id": API_KEY,
        "client_secret": API_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "shprt_refresh_1",
    }
    assert stored_tokens(settings) == ("shpat_access_2", "shprt_refresh_2")
    # The new token is fresh: the next call asks Shopify nothing.
    assert get_access_token(SHOP_A) == "shpat_access_2"
    assert requests_mock.call_count == 1


def test_a_refused_token_is_replaced_although_it_looks_fresh(settings, install_shop, requests_mock):
    install_shop(SHOP_A, access="shpat_access_1")
    requests_mock.post(TOKEN_URL, json=token_response("shpat_access_2", "shprt_refresh_2"))
    assert get_access_token(SHOP_A, refused="shpat_access_1") == "shpat_access_2"
    assert requests_mock.call_count == 1


def test_a_second_401_for_the_same_token_does_not_refresh_again(settings, install_shop, requests_mock):
    """Workers A and B both sent T1 and both got 401; A refreshed to T2 before B asked. B gets
    T2: refreshing again would rotate a token nobody refused (and waste the refresh token)."""
    install_shop(SHOP_A, access="shpat_T1", refresh="shprt_R1")
    requests_mock.post(
        TOKEN_URL,
        [{"json": token_response("shpat_T2", "shprt_R2")}, {"json": token_response("shpat_T3", "shprt_R3")}],
    )
    assert get_access_token(SHOP_A, refused="shpat_T1") == "shpat_T2"
    assert get_access_token(SHOP_A, refused="shpat_T1") == "shpat_T2"
    assert requests_mock.call_count == 1
    assert get_access_token(SHOP_A, refused="shpat_T2") == "shpat_T3"  # T2 refused in turn


def test_a_refresh_refused_by_an_uninstall_worked_meanwhile_leaves_the_shop_uninstalled(
    settings, install_shop, monkeypatch
):
    """Shopify revokes the grant at the uninstall; its app/uninstalled webhook is worked while a
    worker's refresh is in flight, then the refresh is refused. The uninstalled shop was parked
    needs_reauth again: 48 h of "re-authorize the app" e-mails to a store that removed it."""
    from jobs.compliance import app_uninstalled
    from jobs.inbox import WebhookEvent
    from shopify_app.token_endpoint import TokenRequestRejected

    install_shop(SHOP_A)
    expire_in(settings, 10)

    def refused_after_the_uninstall(_settings, shop, _refresh_token):
        event = WebhookEvent(
            1, "app/uninstalled", SHOP_A, "w1", "e1", "2026-10", utcnow(), {"myshopify_domain": SHOP_A}
        )
        app_uninstalled(event)
        raise TokenRequestRejected("refused", status=400, error="invalid_grant", request_id=None)

    monkeypatch.setattr(tokens, "refresh_access_token", refused_after_the_uninstall)
    with pytest.raises(ShopNeedsReauth):
        get_access_token(SHOP_A)
    shop = shop_row(settings, SHOP_A)
    assert shop.status == ShopStatus.UNINSTALLED.value, (shop.status, shop.status_reason)
    with session_scope(settings.database_url) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.shop_id == shop.id)).all()
    assert "shop.needs_reauth" not in actions


def test_refused_refresh_marks_needs_reauth_and_then_fails_fast(settings, install_shop, requests_mock):
    install_shop(SHOP_A)
    expire_in(settings, 10)
    requests_mock.post(
        TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "revoked"}
    )

    with pytest.raises(ShopNeedsReauth) as first:
        get_access_token(SHOP_A)
    assert isinstance(first.value, Rejected) and not first.value.retryable
    assert "invalid_grant" in first.value.reason
    shop = shop_row(settings, SHOP_A)
    assert shop.status == ShopStatus.NEEDS_REAUTH.value
    assert "invalid_grant" in shop.status_reason
    with session_scope(settings.database_url) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.shop_id == shop.id)).all()
    assert "shop.needs_reauth" in actions

    with pytest.raises(ShopNeedsReauth):
        get_access_token(SHOP_A)
    assert requests_mock.call_count == 1  # no second attempt at Shopify


@pytest.mark.parametrize("error", ["invalid_client", "unauthorized_client"])
def test_refused_app_credentials_keep_the_shop_active(settings, install_shop, requests_mock, error):
    """A wrong client secret deployed (or the old one revoked too early) is the app's fault, not
    the shop's: the refresh fails retryably, the shop stays active, and once the secret is fixed
    the same refresh token works with no merchant opening the app."""
    install_shop(SHOP_A)
    expire_in(settings, 10)
    requests_mock.post(TOKEN_URL, status_code=401, json={"error": error, "error_description": "bad client"})
    with pytest.raises(Transient) as caught:  # not ShopNeedsReauth: the shop is not parked
        get_access_token(SHOP_A)
    assert caught.value.retryable and caught.value.detail["code"] == error
    assert "SHOPIFY_API_SECRET" in caught.value.message
    assert shop_row(settings, SHOP_A).status == ShopStatus.ACTIVE.value
    assert stored_tokens(settings) == ("shpat_access_1", "shprt_refresh_1")

    requests_mock.post(TOKEN_URL, json=token_response("shpat_access_2", "shprt_refresh_2"))
    assert get_access_token(SHOP_A) == "shpat_access_2"


@pytest.mark.parametrize(
    "reply",
    [{"status_code": 503, "text": "unavailable"}, {"exc": requests.ConnectionError("down")}],
    ids=["5xx", "network"],
)
def test_unavailable_token_endpoint_is_transient_and_keeps_the_shop(
    settings, install_shop, requests_mock, reply
):
    install_shop(SHOP_A)
    expire_in(settings, 10)
    requests_mock.post(TOKEN_URL, **reply)
    with pytest.raises(Transient) as caught:
        get_access_token(SHOP_A)
    assert caught.value.retryable
    assert shop_row(settings, SHOP_A).status == ShopStatus.ACTIVE.value
    assert stored_tokens(settings) == ("shpat_access_1", "shprt_refresh_1")


def test_uninstalled_or_unknown_shop_fails_fast(settings, install_shop, requests_mock):
    install_shop(SHOP_A)
    expire_in(settings, 10)
    with session_scope(settings.database_url) as session:
        session.execute(update(Shop).values(status=ShopStatus.UNINSTALLED.value))
    with pytest.raises(ShopNeedsReauth, match="uninstalled"):
        get_access_token(SHOP_A)
    with pytest.raises(ShopNeedsReauth, match="not installed"):
        get_access_token("never-installed.myshopify.com")
    assert requests_mock.call_count == 0


def _first_read_gate(monkeypatch, gate) -> None:
    """Make each thread's first token read wait at `gate` (a Barrier or Event-like callable)."""
    original = tokens._read
    seen = threading.local()

    def gated_read(settings, domain):
        snapshot = original(settings, domain)
        if not getattr(seen, "done", False):
            seen.done = True
            gate()
        return snapshot

    monkeypatch.setattr(tokens, "_read", gated_read)


def test_two_workers_near_expiry_cause_exactly_one_refresh(
    settings, install_shop, requests_mock, monkeypatch
):
    install_shop(SHOP_A)
    expire_in(settings, 60)
    requests_mock.post(TOKEN_URL, json=token_response("shpat_access_2", "shprt_refresh_2"))
    barrier = threading.Barrier(2, timeout=10)
    _first_read_gate(monkeypatch, barrier.wait)  # both threads have seen the stale token
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(get_access_token(SHOP_A))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert results == ["shpat_access_2", "shpat_access_2"]
    assert requests_mock.call_count == 1


def test_token_is_read_again_once_the_lock_is_held(settings, install_shop, requests_mock, monkeypatch):
    """A worker that waited for the lock uses the token another worker just stored."""
    install_shop(SHOP_A)
    expire_in(settings, 60)
    requests_mock.post(TOKEN_URL, json=token_response("shpat_should_not_be_used", "x"))
    stale_seen = threading.Event()
    _first_read_gate(monkeypatch, stale_seen.set)
    result: list[str] = []
    with tokens.shop_token_lock(settings, SHOP_A):
        thread = threading.Thread(target=lambda: result.append(get_access_token(SHOP_A)))
        thread.start()
        assert stale_seen.wait(10)
        install_shop(SHOP_A, access="shpat_from_other_worker", refresh="shprt_other")
    thread.join(timeout=30)
    assert result == ["shpat_from_other_worker"]
    assert requests_mock.call_count == 0
