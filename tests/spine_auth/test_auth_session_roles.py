"""POST /auth/session (token exchange install) and require_role on JSON endpoints."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ledger.db import session_scope
from ledger.models import AuditEvent, Role, Shop, ShopStatus, StaffRole
from settings import DEFAULT_SCOPES
from shopify_app.roles import RETRY_HEADER, RoleChangeRefused, revoke_role, set_role
from shopify_app.token_endpoint import GRANT_TOKEN_EXCHANGE, OFFLINE_TOKEN_TYPE
from shopify_app.tokens import get_access_token
from spine_auth.conftest import shop_row
from spine_auth.factories import API_KEY, SHOP_A, SHOP_B, bearer, graphql_url, make_id_token, token_response
from spine_auth.test_auth_tokens import encrypt_with_a_dropped_key


def exchange_url(shop: str) -> str:
    return f"https://{shop}/admin/oauth/access_token"


def audit_actions(settings, shop_id: int) -> list[str]:
    with session_scope(settings.database_url) as session:
        return list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.shop_id == shop_id).order_by(AuditEvent.id)
            )
        )


def test_first_session_installs_by_token_exchange(settings, client, requests_mock):
    requests_mock.post(exchange_url(SHOP_A), json=token_response("shpat_exchanged", "shprt_exchanged"))
    zone = requests_mock.post(
        graphql_url(SHOP_A), json={"data": {"shop": {"ianaTimezone": "America/Sao_Paulo"}}}
    )
    id_token = make_id_token(SHOP_A, "1001")

    reply = client.post("/auth/session", headers=bearer(id_token))

    assert reply.status_code == 200, reply.json
    assert reply.json == {
        "shop": SHOP_A,
        "user_id": "1001",
        "role": "owner",
        "installed": True,
        "newly_installed": True,
        "timezone": "America/Sao_Paulo",  # the store's, read once at install
    }
    sent = requests_mock.request_history[0].json()
    assert sent["grant_type"] == GRANT_TOKEN_EXCHANGE
    assert sent["subject_token"] == id_token
    assert sent["requested_token_type"] == OFFLINE_TOKEN_TYPE
    assert sent["expiring"] == "1"
    assert sent["client_id"] == API_KEY
    shop = shop_row(settings, SHOP_A)
    assert shop.status == ShopStatus.ACTIVE.value and shop.installed_at is not None
    assert shop.scopes == DEFAULT_SCOPES
    assert get_access_token(SHOP_A) == "shpat_exchanged"
    assert audit_actions(settings, shop.id) == ["app.installed", "role.granted"]

    assert shop.iana_timezone == "America/Sao_Paulo"

    # Installed now: the next session does not exchange again (nor read the zone again); a
    # second staff member is a viewer.
    again = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "2002")))
    assert again.json["role"] == "viewer" and again.json["newly_installed"] is False
    assert again.json["timezone"] == "America/Sao_Paulo"
    assert requests_mock.call_count == 2 and zone.call_count == 1


def test_a_zone_shopify_did_not_give_at_install_is_read_at_the_next_session(settings, client, requests_mock):
    """The zone is a nicety: Shopify failing to answer it (or answering one nobody knows) never
    stops the session; the page then shows the browser's time until a later session reads it."""
    requests_mock.post(exchange_url(SHOP_A), json=token_response("shpat_exchanged", "shprt_exchanged"))
    zone = requests_mock.post(
        graphql_url(SHOP_A),
        [
            {"status_code": 503, "text": "unavailable"},
            {"json": {"data": {"shop": {"ianaTimezone": "Not/AZone"}}}},
            {"json": {"data": {"shop": {"ianaTimezone": "America/Manaus"}}}},
        ],
    )
    first = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001")))
    assert first.status_code == 200 and first.json["timezone"] is None
    second = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001")))
    assert second.status_code == 200 and second.json["timezone"] is None
    third = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A, "1001")))
    assert third.json["timezone"] == "America/Manaus" and zone.call_count == 3
    assert (
        client.post("/auth/session", headers=bearer(make_id_token(SHOP_A))).json["timezone"]
        == "America/Manaus"
    )
    assert zone.call_count == 3 and shop_row(settings, SHOP_A).iana_timezone == "America/Manaus"


def test_session_reinstalls_a_shop_that_needs_reauth(settings, client, requests_mock, install_shop):
    shop_id = install_shop(SHOP_A, access="shpat_old")
    with session_scope(settings.database_url) as session:
        session.execute(update(Shop).values(status=ShopStatus.NEEDS_REAUTH.value, status_reason="x"))
    requests_mock.post(exchange_url(SHOP_A), json=token_response("shpat_new", "shprt_new"))
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 200 and reply.json["newly_installed"] is True
    assert shop_row(settings, SHOP_A).status == ShopStatus.ACTIVE.value
    assert get_access_token(SHOP_A) == "shpat_new"
    assert audit_actions(settings, shop_id).count("app.installed") == 2


def test_session_replaces_a_token_no_key_reads_any_more(settings, client, requests_mock, install_shop):
    """ENCRYPTION_KEY lost the key the token was stored with: the row is there, but worth
    nothing; opening the app exchanges a new token instead of answering 'installed'."""
    install_shop(SHOP_A, access="shpat_old")
    encrypt_with_a_dropped_key(settings)
    requests_mock.post(exchange_url(SHOP_A), json=token_response("shpat_new", "shprt_new"))
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 200 and reply.json["newly_installed"] is True
    assert get_access_token(SHOP_A) == "shpat_new"


def test_session_with_a_bad_token_gets_401_and_the_retry_header(client, requests_mock):
    for headers in ({}, bearer(make_id_token(secret="forged-secret-0123456789abcdef01234"))):
        reply = client.post("/auth/session", headers=headers)
        assert reply.status_code == 401
        assert reply.headers[RETRY_HEADER] == "1"
        assert reply.json["error"]["code"] in ("unauthenticated", "invalid_session")
    assert requests_mock.call_count == 0


def test_exchange_refusing_the_id_token_is_a_401(client, requests_mock):
    requests_mock.post(exchange_url(SHOP_A), status_code=400, json={"error": "invalid_subject_token"})
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 401 and reply.headers[RETRY_HEADER] == "1"


def test_exchange_unavailable_is_a_503(client, requests_mock):
    requests_mock.post(exchange_url(SHOP_A), status_code=502)
    reply = client.post("/auth/session", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 503 and reply.json["error"]["code"] == "shopify_unavailable"


def test_a_token_for_shop_a_only_ever_reads_shop_a(settings, client, install_shop):
    shop_a = install_shop(SHOP_A)
    install_shop(SHOP_B)
    reply = client.get(f"/probe/whoami?shop={SHOP_B}", headers=bearer(make_id_token(SHOP_A, "1001")))
    assert reply.status_code == 200
    assert reply.json["shop"] == SHOP_A and reply.json["shop_id"] == shop_a
    # The shop in a header or parameter never wins over the token.
    reply = client.get("/probe/whoami", headers={**bearer(make_id_token(SHOP_A)), "X-Shop-Domain": SHOP_B})
    assert reply.json["shop"] == SHOP_A


def test_a_token_naming_two_shops_is_refused(client, install_shop):
    install_shop(SHOP_A)
    install_shop(SHOP_B)
    token = make_id_token(SHOP_A, dest=f"https://{SHOP_B}")
    reply = client.get("/probe/whoami", headers=bearer(token))
    assert reply.status_code == 401 and reply.headers[RETRY_HEADER] == "1"


def test_a_viewer_cannot_change_configuration(settings, client, install_shop):
    install_shop(SHOP_A)
    owner = client.get("/probe/whoami", headers=bearer(make_id_token(SHOP_A, "1")))
    assert owner.json["role"] == "owner"

    viewer = client.post("/probe/settings", headers=bearer(make_id_token(SHOP_A, "2")))
    assert viewer.status_code == 403
    assert viewer.json["error"]["code"] == "forbidden" and viewer.json["error"]["role"] == "viewer"

    assert client.post("/probe/settings", headers=bearer(make_id_token(SHOP_A, "1"))).status_code == 200


def test_shop_default_role_applies_to_unknown_staff(settings, client, install_shop):
    install_shop(SHOP_A)
    client.get("/probe/whoami", headers=bearer(make_id_token(SHOP_A, "1")))  # the owner
    with session_scope(settings.database_url) as session:
        session.execute(update(Shop).values(settings={"default_role": "admin"}))
    reply = client.post("/probe/settings", headers=bearer(make_id_token(SHOP_A, "3")))
    assert reply.status_code == 200


def test_role_grants_and_revokes_are_audited(settings, client, install_shop):
    shop_id = install_shop(SHOP_A)
    client.get("/probe/whoami", headers=bearer(make_id_token(SHOP_A, "1")))  # owner
    with session_scope(settings.database_url) as session:
        set_role(session, shop_id, "2", Role.ADMIN, actor="1")
    assert client.post("/probe/settings", headers=bearer(make_id_token(SHOP_A, "2"))).status_code == 200
    with session_scope(settings.database_url) as session:
        assert revoke_role(session, shop_id, "2", actor="1") is True
        with pytest.raises(RoleChangeRefused):
            set_role(session, shop_id, "1", Role.VIEWER, actor="1")
    assert client.post("/probe/settings", headers=bearer(make_id_token(SHOP_A, "2"))).status_code == 403
    with session_scope(settings.database_url) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("role.%")).order_by(AuditEvent.id)
        ).all()
        staff = session.scalars(select(StaffRole.user_id)).all()
    assert [(r.action, r.target, r.actor) for r in rows] == [
        ("role.granted", "user:1", "system"),
        ("role.granted", "user:2", "1"),
        ("role.revoked", "user:2", "1"),
    ]
    assert staff == ["1"]


@pytest.mark.parametrize("status", [ShopStatus.NEEDS_REAUTH, ShopStatus.UNINSTALLED])
def test_endpoints_send_a_parked_shop_back_to_auth_session(settings, client, install_shop, status):
    install_shop(SHOP_A)
    with session_scope(settings.database_url) as session:
        session.execute(update(Shop).values(status=status.value))
    reply = client.get("/probe/whoami", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 409
    assert reply.json["error"]["action"] == "/auth/session"


def test_endpoints_refuse_a_shop_never_installed(client):
    reply = client.get("/probe/whoami", headers=bearer(make_id_token(SHOP_A)))
    assert reply.status_code == 409 and reply.json["error"]["code"] == "not_installed"
