"""A shop parked at install (its grant lacked a required scope) made whole by Shopify's
app/scopes_update (the merchant approved the permissions in the admin): the shop goes active
and the catch-up reconciliation the install path runs is enqueued (orders delivered while it was
parked were refused with needs_reauth; the page's /auth/session finds the shop usable, so no
install runs). Best effort: Redis refusing the enqueue does not fail the delivery."""

from __future__ import annotations

from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select

from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import AuditEvent, InboxStatus, Shop, WebhookInbox
from settings import DEFAULT_SCOPES, get_settings
from shopify_app import enqueue, oauth
from shopify_app.scopes import is_missing_reason, missing_reason
from shopify_app.token_endpoint import TokenSet

from .conftest import SHOP

REQUIRED = DEFAULT_SCOPES.split(",")
REDUCED = ",".join(s for s in REQUIRED if s not in ("read_orders", "write_orders"))


def reconcile_jobs(rconn) -> list[str]:
    return [j for j in Queue("default", connection=rconn).job_ids if "reconcile" in j]


def park_at_install(rconn) -> None:
    oauth.install(get_settings(), SHOP, TokenSet("shpat_new", REDUCED, "shprt_new", 3600), actor="u1")
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "needs_reauth"
    assert reconcile_jobs(rconn) == []


def grant_whole(deliver, rconn) -> WebhookInbox:
    body = {"id": 1, "shop_id": 1, "previous": REDUCED.split(","), "current": REQUIRED,
            "updated_at": "2099-01-01T00:00:00Z"}  # fmt: skip
    response = deliver("app/scopes_update", body)
    assert response.status_code == 200
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "active"
        return session.get(WebhookInbox, response.json["inbox_id"])


def test_restore_by_scopes_update_runs_the_catch_up(shop_id, deliver, rconn):
    park_at_install(rconn)
    grant_whole(deliver, rconn)
    assert len(reconcile_jobs(rconn)) == 1, "made whole by app/scopes_update: no catch-up enqueued"
    with session_scope() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "shop.scopes_restored"))


def test_a_grant_that_changes_nothing_enqueues_no_catch_up(shop_id, deliver, rconn):
    """An active shop granted the whole list again is not restored: no catch-up."""
    body = {"id": 1, "shop_id": 1, "previous": REQUIRED, "current": REQUIRED,
            "updated_at": "2099-01-01T00:00:00Z"}  # fmt: skip
    assert deliver("app/scopes_update", body).status_code == 200
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)
    assert reconcile_jobs(rconn) == []


def test_redis_refusing_the_catch_up_leaves_the_restore_done(shop_id, deliver, rconn, monkeypatch):
    park_at_install(rconn)

    def refuse(*_a, **_k):
        raise RedisError("connection refused")

    monkeypatch.setattr(enqueue, "enqueue_run", refuse)
    inbox = grant_whole(deliver, rconn)
    assert inbox.status == InboxStatus.PROCESSED.value
    assert reconcile_jobs(rconn) == []


def test_a_shop_parked_with_the_earlier_wording_is_restored_too(shop_id, deliver, rconn):
    """Rows parked before the reason was reworded ("Shopify no longer grants the app ...") are
    still known as parked for missing scopes: a whole grant restores them and catches up."""
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.status, shop.status_reason = "needs_reauth", "Shopify no longer grants the app 1 permission(s)"
    grant_whole(deliver, rconn)
    assert len(reconcile_jobs(rconn)) == 1


def test_the_reason_fits_a_first_install_and_a_merchant_inside_the_app():
    reason = missing_reason(["read_orders", "write_orders"])
    assert reason.startswith(
        "Shopify does not grant the app 2 permissions it needs: read_orders, write_orders."
    )
    assert "no longer" not in reason and "Open the app" not in reason
    assert "Approve the permissions in Shopify" in reason
    assert is_missing_reason(reason) and not is_missing_reason("Shopify refused the app's token")
    assert "1 permission it needs: write_orders." in missing_reason(["write_orders"])
