"""app/scopes_update through the receiver and a worker: the shop's granted scopes recorded; a
required scope no longer granted parks the shop needs_reauth naming it; every step audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import AuditEvent, InboxStatus, OfflineToken, Shop, WebhookInbox
from settings import DEFAULT_SCOPES
from shopify_app.scopes import missing_scopes

from .conftest import SHOP

TOPIC = "app/scopes_update"
REQUIRED = DEFAULT_SCOPES.split(",")


def payload(current: list[str], *, previous: list[str] | None = None, updated_at: str | None = None) -> dict:
    return {
        "id": 1,
        "shop_id": 1,
        "previous": previous if previous is not None else REQUIRED,
        "current": current,
        "updated_at": updated_at or "2026-11-28T12:00:00.000Z",
    }


def work(rconn) -> None:
    run_worker(["webhooks"], burst=True, simple=True, with_scheduler=False, conn=rconn)


def the_shop() -> Shop:
    with session_scope() as session:
        return session.scalar(select(Shop).where(Shop.domain == SHOP))


def audit(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


def row(inbox_id: int) -> WebhookInbox:
    with session_scope() as session:
        return session.get(WebhookInbox, inbox_id)


def deliver_and_work(deliver, rconn, body: Any, **kw: Any) -> WebhookInbox:
    response = deliver(TOPIC, body, **kw)
    assert response.status_code == 200, response.json
    work(rconn)
    return row(response.json["inbox_id"])


def test_write_implies_read_as_shopify_says():
    """Shopify leaves out the read scope a granted write scope implies."""
    assert (
        missing_scopes(["write_orders", "read_customers"], ["read_orders", "write_orders", "read_customers"])
        == []
    )
    assert missing_scopes(["read_orders"], ["read_orders", "write_orders", "read_customers"]) == [
        "write_orders",
        "read_customers",
    ]


def test_a_full_grant_is_recorded_and_the_shop_stays_active(shop_id, deliver, rconn):
    # The read scopes a write scope implies are left out, as Shopify's own grants do.
    current = [s for s in REQUIRED if not (s.startswith("read_") and f"write_{s[5:]}" in REQUIRED)]
    inbox = deliver_and_work(deliver, rconn, payload(current, previous=["read_products"]))
    assert (inbox.status, inbox.reason) == (InboxStatus.PROCESSED.value, None)
    shop = the_shop()
    assert shop.scopes == ",".join(current) and shop.status == "active"
    [record] = audit("app.scopes_updated")
    assert record.actor == "shopify" and record.shop_id == shop_id
    assert record.before == {"scopes": ["read_products"]}
    assert record.after["scopes"] == current and record.after["missing"] == []
    assert audit("shop.needs_reauth") == []


def test_a_required_scope_no_longer_granted_parks_the_shop_naming_it(shop_id, deliver, rconn):
    with session_scope() as session:
        session.add(OfflineToken(shop_id=shop_id, access_token_enc=b"enc", scopes=DEFAULT_SCOPES))
    current = [s for s in REQUIRED if s not in ("read_customers", "write_orders")]
    inbox = deliver_and_work(deliver, rconn, payload(current))
    assert inbox.status == InboxStatus.PROCESSED.value
    shop = the_shop()
    assert shop.scopes == ",".join(current)
    assert shop.status == "needs_reauth"
    assert "write_orders" in shop.status_reason and "read_customers" in shop.status_reason
    assert "read_products" not in shop.status_reason
    assert "Approve the permissions in Shopify" in shop.status_reason  # the page's button
    with session_scope() as session:
        assert session.scalar(select(OfflineToken)).scopes == ",".join(current)
    [update] = audit("app.scopes_updated")
    assert update.after["missing"] == ["write_orders", "read_customers"]
    [parked] = audit("shop.needs_reauth")
    assert parked.after == {"status": "needs_reauth", "reason": shop.status_reason}


def test_the_grant_made_whole_again_puts_the_parked_shop_back(shop_id, deliver, rconn):
    deliver_and_work(deliver, rconn, payload(["read_products"], updated_at="2026-11-28T12:00:00Z"))
    assert the_shop().status == "needs_reauth"
    deliver_and_work(deliver, rconn, payload(REQUIRED, updated_at="2026-11-28T12:05:00Z"))
    shop = the_shop()
    assert (shop.status, shop.status_reason, shop.scopes) == ("active", None, DEFAULT_SCOPES)
    [restored] = audit("shop.scopes_restored")
    assert restored.before["status"] == "needs_reauth" and restored.after == {"status": "active"}


def test_a_whole_grant_leaves_a_shop_parked_for_another_reason_parked(shop_id, deliver, rconn):
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.status, shop.status_reason = "needs_reauth", "Shopify refused to refresh the token"
    deliver_and_work(deliver, rconn, payload(REQUIRED))
    shop = the_shop()
    assert (shop.status, shop.status_reason) == ("needs_reauth", "Shopify refused to refresh the token")
    assert shop.scopes == DEFAULT_SCOPES


def test_a_scope_loss_keeps_the_reason_a_shop_was_parked_for_already(shop_id, deliver, rconn):
    """A shop parked because Shopify refused its token stays parked for that reason: a scope
    loss does not overwrite it, so the later whole grant cannot put it back to active with the
    dead token (the scopes are in the audit row; the next install reads the grant anew)."""
    dead = "Shopify refused to refresh the token"
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.status, shop.status_reason = "needs_reauth", dead
    deliver_and_work(deliver, rconn, payload(["read_products"], updated_at="2026-11-28T12:00:00Z"))
    shop = the_shop()
    assert (shop.status, shop.status_reason, shop.scopes) == ("needs_reauth", dead, "read_products")
    [update] = audit("app.scopes_updated")
    assert "write_orders" in update.after["missing"]
    assert audit("shop.needs_reauth") == []
    deliver_and_work(deliver, rconn, payload(REQUIRED, updated_at="2026-11-28T12:05:00Z"))
    shop = the_shop()
    assert (shop.status, shop.status_reason) == ("needs_reauth", dead)
    assert audit("shop.scopes_restored") == []


def test_an_older_update_delivered_late_changes_nothing(shop_id, deliver, rconn):
    """Webhooks come out of order: the update Shopify made last is the one that stands."""
    deliver_and_work(deliver, rconn, payload(REQUIRED, updated_at="2026-11-28T12:05:00Z"))
    late = deliver_and_work(deliver, rconn, payload(["read_products"], updated_at="2026-11-28T12:00:00Z"))
    assert late.status == InboxStatus.PROCESSED.value and "older" in late.reason
    shop = the_shop()
    assert (shop.status, shop.scopes) == ("active", DEFAULT_SCOPES)
    assert len(audit("app.scopes_updated")) == 1
    assert len(audit("app.scopes_updated.stale")) == 1


def test_an_update_older_than_the_token_in_hand_changes_nothing(shop_id, deliver, rconn):
    """The install (token exchange) after the update read the grant from Shopify then."""
    from datetime import datetime

    with session_scope() as session:
        session.get(Shop, shop_id).installed_at = datetime(2026, 11, 28, 13, 0)
    late = deliver_and_work(deliver, rconn, payload(["read_products"], updated_at="2026-11-28T12:00:00Z"))
    assert late.status == InboxStatus.PROCESSED.value and "older" in late.reason
    assert the_shop().status == "active"


def test_an_update_for_a_shop_not_installed_is_ignored_with_why(jobs_env, deliver, rconn):
    inbox = deliver_and_work(deliver, rconn, payload(REQUIRED))
    assert inbox.status == InboxStatus.PROCESSED.value
    assert inbox.reason.startswith("ignored:") and SHOP in inbox.reason


def test_a_payload_without_its_scope_lists_fails_visibly_and_is_kept(shop_id, deliver, rconn):
    for body, words in (
        ({"id": 1, "previous": ["read_products"]}, "no `current` list"),
        ({"id": 1, "current": "read_products,write_products"}, "no `current` list"),
        ({"id": 1, "current": ["read_products", 7]}, "not a scope name"),
    ):
        inbox = deliver_and_work(deliver, rconn, body)
        assert inbox.status == InboxStatus.FAILED.value, body
        assert TOPIC in inbox.reason and words in inbox.reason, inbox.reason
        assert inbox.raw_body  # nothing lost: the delivery stays in the inbox
    assert (the_shop().scopes, the_shop().status) == ("read_products", "active")


def test_a_body_that_is_no_json_object_is_kept_rejected(shop_id, deliver, rconn):
    response = deliver(TOPIC, b"[1, 2]")
    assert response.status_code == 200 and response.json["status"] == "rejected"
    assert "not an object" in row(response.json["inbox_id"]).reason


def test_a_badly_signed_update_is_refused(shop_id, deliver, rconn):
    response = deliver(TOPIC, payload(["read_products"]), secret="not-the-app-secret")
    assert response.status_code == 401
    with session_scope() as session:
        assert session.scalars(select(WebhookInbox)).all() == []
