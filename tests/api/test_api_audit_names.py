"""The audit trail names people: an event's actor, and the staff member a role event is about, by
the name the roles table holds for them (Shopify gives the app user ids only), per shop."""

from __future__ import annotations

from ledger.db import session_scope
from ledger.models import Role
from shopify_app.roles import set_role

from .conftest import SHOP_A, SHOP_B, bearer, headers, make_id_token


def test_actor_and_role_target_carry_the_names_the_roles_table_holds(client, settings, shops):
    with session_scope(settings.database_url) as session:
        set_role(session, shops.a, "2", Role.ADMIN, actor="1", name="Maria Souza")
        set_role(session, shops.b, "2", Role.ADMIN, actor="1", name="Someone of shop B")
    granted = client.put("/api/roles/51", json={"role": "viewer", "name": "João Santos"}, headers=headers())
    assert granted.status_code == 200, granted.get_json()
    client.put("/api/roles/52", json={"role": "viewer"}, headers=headers())  # no name given
    assert (
        client.put("/api/setup/settings", json={"bulk_threshold": 300}, headers=headers()).status_code == 200
    )

    events = client.get("/api/audit", headers=headers(Role.VIEWER)).get_json()["events"]
    by_target = {e["target"]: e for e in events}
    assert by_target["settings"]["actor"] == "2" and by_target["settings"]["actor_name"] == "Maria Souza"
    assert by_target["user:51"]["target_name"] == "João Santos"
    assert by_target["user:52"]["target_name"] is None  # nobody typed a name: the page says so
    assert by_target["user:2"]["actor"] == "1" and by_target["user:2"]["actor_name"] is None
    installed = next(e for e in events if e["action"] == "app.installed")
    assert installed["actor_name"] is None and installed["target_name"] is None
    shop_b = client.get("/api/audit", headers=headers(shop=SHOP_B)).get_json()["events"]
    assert "Maria Souza" not in {e["actor_name"] for e in shop_b}


def test_a_role_row_of_the_apps_own_actor_names_none_of_its_actions(client, settings, shops):
    """Before staff ids had to be numbers, an admin could grant "system" a role with a person's name:
    every action the app itself wrote (the first owner's grant, an uninstall) then read as theirs."""
    with session_scope(settings.database_url) as session:
        set_role(session, shops.a, "system", Role.VIEWER, actor="1", name="Carlos (gerente)")
        set_role(session, shops.a, "51", Role.OWNER, actor="system")  # as the first visitor's grant
    events = client.get("/api/audit", headers=headers(Role.VIEWER)).get_json()["events"]
    by_system = [e for e in events if e["actor"] == "system"]
    assert by_system and {e["actor_name"] for e in by_system} == {None}


def test_a_person_whose_role_is_removed_stays_named_in_the_history(client, settings, shops):
    """Names were read from the roles table only: removing someone erased their name from every
    change they had made, and from the removal itself (an audit must keep who did what)."""
    with session_scope(settings.database_url) as session:
        set_role(session, shops.a, "2", Role.ADMIN, actor="1", name="Maria Souza")
    saved = client.put("/api/setup/settings", json={"bulk_threshold": 300}, headers=headers(Role.ADMIN))
    assert saved.status_code == 200
    assert client.delete("/api/roles/2", headers=headers(Role.OWNER)).status_code == 204
    with session_scope(settings.database_url) as session:  # named later: the page says the name now
        set_role(session, shops.a, "53", Role.ADMIN, actor="1")
    as_53 = bearer(make_id_token(SHOP_A, "53"))
    assert client.put("/api/setup/settings", json={"bulk_threshold": 301}, headers=as_53).status_code == 200
    with session_scope(settings.database_url) as session:
        set_role(session, shops.a, "53", Role.ADMIN, actor="1", name="Ana Lima")

    events = client.get("/api/audit", headers=headers(Role.VIEWER)).get_json()["events"]
    changed = [e for e in events if e["target"] == "settings"]
    assert [(e["actor"], e["actor_name"]) for e in changed] == [("53", "Ana Lima"), ("2", "Maria Souza")]
    revoked = next(e for e in events if e["action"] == "role.revoked")
    assert revoked["target_name"] == "Maria Souza" and revoked["before"] == {"role": "admin"}
