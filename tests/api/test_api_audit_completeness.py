"""The audit trail says what changed, all of it and only that: a staff member's name as well as
their role, settings as the flows read them (a default in effect is a value, not null), and no
secret under any key that names a password."""

from __future__ import annotations

from sqlalchemy import select

from ledger import audit
from ledger.db import session_scope
from ledger.models import AuditEvent, ErpConnection, Role
from tests.api.conftest import headers


def _events(settings, shop_id, action):
    with session_scope(settings.database_url) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.shop_id == shop_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
        return [(e.before, e.after) for e in rows]


def test_renaming_a_staff_member_is_audited_and_saving_nothing_new_is_not(client, settings, shops):
    put = lambda body: client.put("/api/roles/3", json=body, headers=headers(Role.ADMIN))  # noqa: E731
    assert put({"role": "operator", "name": "Maria (caixa)"}).status_code == 200
    assert put({"role": "operator", "name": " João "}).get_json()["name"] == "João"
    assert put({"role": "operator", "name": "João"}).status_code == 200  # nothing changed
    assert put({"role": "operator"}).get_json()["name"] == "João"  # no name: kept, nothing changed
    assert put({"role": "viewer"}).status_code == 200
    assert _events(settings, shops.a, "role.granted") == [
        ({"role": "operator", "name": None}, {"role": "operator", "name": "Maria (caixa)"}),
        ({"role": "operator", "name": "Maria (caixa)"}, {"role": "operator", "name": "João"}),
        ({"role": "operator", "name": "João"}, {"role": "viewer", "name": "João"}),
    ]


def test_settings_audit_the_effective_value_before_and_skip_what_did_not_change(client, settings, shops):
    put = lambda body: client.put("/api/setup/settings", json=body, headers=headers(Role.ADMIN))  # noqa: E731
    # cancel_refund defaults to true (never stored), cancel_restock too: one is turned off, the
    # other saved as it already is
    assert put({"cancel_refund": False, "cancel_restock": True}).status_code == 200
    assert put({"cancel_restock": True}).status_code == 200
    assert put({"ignored_companies": []}).status_code == 200
    assert _events(settings, shops.a, "settings.changed") == [
        ({"cancel_refund": True}, {"cancel_refund": False})
    ]


def test_a_key_naming_a_password_anywhere_is_scrubbed():
    for key in ("password", "password_enc", "erp_password_new", "passwd", "Pass", "senha_erp", "api_key"):
        assert audit.is_secret_key(key), key
    assert audit.scrub({"password_enc": "x", "erp_password_new": "y", "passes": 3}) == {
        "password_enc": "***",
        "erp_password_new": "***",
        "passes": 3,
    }


def test_an_erp_address_holding_a_user_and_password_is_refused(client, settings, shops):
    for url in ("https://consinco:s3cret@erp.example.com.br/api", "https://consinco@erp.example.com.br/api"):
        body = {"base_url": url, "username": "x", "password": "y"}
        for path, method in (
            ("/api/setup/erp-connection", "PUT"),
            ("/api/setup/erp-connection/test", "POST"),
        ):
            reply = client.open(path, method=method, json=body, headers=headers(Role.ADMIN))
            assert reply.status_code == 400, (path, url)
            assert "own fields" in reply.get_json()["error"]["fields"]["base_url"]
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(ErpConnection)).all() == []
