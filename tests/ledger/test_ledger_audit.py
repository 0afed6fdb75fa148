"""Audit trail on SQLite and PostgreSQL: secrets never stored, only changed keys kept, newest first."""

from sqlalchemy import String, cast, select

from ledger import audit
from ledger.models import AuditEvent


def test_diff_keeps_only_changed_keys():
    before = {"seqCanalVenda": 1, "codGeralOper": 201, "gone": "x", "same": [1, 2]}
    after = {"seqCanalVenda": 2, "codGeralOper": 201, "new": True, "same": [1, 2]}
    assert audit.diff(before, after) == ({"seqCanalVenda": 1, "gone": "x"}, {"seqCanalVenda": 2, "new": True})
    assert audit.diff(before, before) == ({}, {})


def test_diff_shows_that_a_secret_changed_without_showing_it():
    assert audit.diff({"password": "old", "user": "a"}, {"password": "new", "user": "a"}) == (
        {"password": "***"},
        {"password": "***"},
    )


def test_scrub_is_recursive():
    scrubbed = audit.scrub(
        {
            "erp": {"base_url": "https://erp", "password": "s3nha", "username": "api"},
            "tokens": [{"access_token": "shpat_123", "scope": "read"}],
            "client_secret": "abc",
            "api_key": "k",
            "refresh_token": None,
        }
    )
    assert scrubbed == {
        "erp": {"base_url": "https://erp", "password": "***", "username": "api"},
        "tokens": "***",
        "client_secret": "***",
        "api_key": "***",
        "refresh_token": None,
    }


def test_record_stores_scrubbed_snapshots(session, shop):
    event = audit.record(
        session,
        shop.id,
        shop.domain,
        "staff:42",
        "erp_connection.update",
        target="erp_connection",
        before={"password": "old", "base_url": "a"},
        after={"password": "new", "base_url": "b"},
    )
    session.commit()
    session.expire_all()
    stored = session.get(AuditEvent, event.id)
    assert stored.before == {"password": "***", "base_url": "a"}
    assert stored.after == {"password": "***", "base_url": "b"}
    assert stored.actor == "staff:42" and stored.shop_domain == shop.domain and stored.created_at is not None
    stored_text = session.execute(
        select(cast(AuditEvent.before, String), cast(AuditEvent.after, String))
    ).one()
    assert all("old" not in part and "new" not in part for part in stored_text)


def test_history_is_newest_first_and_pages(session, shop, other_shop):
    for i in range(5):
        audit.record(session, shop.id, shop.domain, "system", f"action.{i}")
    audit.record(session, other_shop.id, other_shop.domain, "system", "elsewhere")
    session.commit()
    first = audit.history(session, shop.id, limit=3)
    assert [e.action for e in first] == ["action.4", "action.3", "action.2"]
    rest = audit.history(session, shop.id, limit=3, before_id=first[-1].id)
    assert [e.action for e in rest] == ["action.1", "action.0"]
