"""Orders (links, edit ledger, related messages), audit trail (masked below admin), a customer's
data export, roles and /api/me."""

from __future__ import annotations

from decimal import Decimal

from spine_auth.factories import SHOP_A, SHOP_B

from jobs.compliance import customers_data_request
from jobs.inbox import WebhookEvent
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import AuditEvent, OrderLineChange, OrderLink, Role

from .conftest import USERS, headers
from .test_api_messages import NFE_KEY


def seed_order(settings, shop_id: int, name: str, nro: int | None, **fields) -> int:
    with session_scope(settings.database_url) as session:
        link = OrderLink(
            shop_id=shop_id,
            shopify_order_id=f"gid://shopify/Order/{name.strip('#')}",
            shopify_order_name=name,
            nro_pedvenda=nro,
            **fields,
        )
        session.add(link)
        session.flush()
        return link.id


def test_orders_search_filters_and_detail(client, settings, shops, message):
    invoiced = seed_order(
        settings, shops.a, "#1001", 880123, nfe_key=NFE_KEY, captured_amount=Decimal("99.9000")
    )
    waiting = seed_order(
        settings, shops.a, "#1002", None, needs_attention="payment method pix has no mapping"
    )
    seed_order(settings, shops.b, "#1001", 1)
    with session_scope(settings.database_url) as session:
        session.add(
            OrderLineChange(
                order_link_id=invoiced,
                change_key="ev-1:1",
                direction="erp_to_shopify",
                kind="cut",
                sku="789100",
                qty_before=Decimal(2),
                qty_after=Decimal(1),
            )
        )
    related = message(shops.a, "orders", "order-1001", shopify_id="gid://shopify/Order/1001", done=True)

    def found(query: str) -> list[int]:
        return [
            o["id"]
            for o in client.get(f"/api/orders?{query}", headers=headers(Role.VIEWER)).get_json()["orders"]
        ]

    assert found("") == [waiting, invoiced]
    assert found("q=%231001") == [invoiced]
    assert found("q=880123") == [invoiced]
    assert found(f"q={NFE_KEY[-10:]}") == [invoiced]
    assert found("status=needs_attention") == [waiting]
    assert found("status=invoiced") == [invoiced]
    assert found("status=not_in_erp") == [waiting]
    detail = client.get(f"/api/orders/{invoiced}", headers=headers(Role.VIEWER)).get_json()
    assert detail["captured_amount"] == "99.9" and detail["nfe_key"] == NFE_KEY
    assert [(c["kind"], c["qty_before"], c["qty_after"]) for c in detail["changes"]] == [("cut", "2", "1")]
    assert [m["id"] for m in detail["messages"]] == [related]
    assert client.get(f"/api/orders/{invoiced}", headers=headers(shop=SHOP_B)).status_code == 404
    assert found("q=%C2%B2") == []  # a Unicode digit is text, not a NROPEDVENDA (was a 500)


def test_orders_are_found_by_their_delivery_slot_day(client, settings, shops) -> None:
    """The picking team looks for a day's orders: the slot's text, or the day as an ISO date
    (the slot writes it 05/12/2026); another shop's order of that day is not listed."""
    slot = "Data de entrega: 05/12/2026; Horário de entrega: 08h às 12h"
    friday = seed_order(settings, shops.a, "#2001", 880201, delivery_slot=slot)
    seed_order(settings, shops.a, "#2002", 880202, delivery_slot="Data de entrega: 06/12/2026")
    seed_order(settings, shops.a, "#2003", 880203)
    seed_order(settings, shops.b, "#2001", 2, delivery_slot=slot)

    def found(query: str) -> list[int]:
        return [
            o["id"]
            for o in client.get(f"/api/orders?{query}", headers=headers(Role.VIEWER)).get_json()["orders"]
        ]

    assert found("q=05/12/2026") == [friday]
    assert found("q=2026-12-05") == [friday]
    assert found("q=08h%20%C3%A0s%2012h") == [friday]  # the window, as the customer chose it
    assert found("q=2026-12-07") == []
    # the slot spelt otherwise by the storefront's scheduling app: its day as parsed (slot_day)
    short = seed_order(settings, shops.a, "#2004", 880204, delivery_slot="Data de entrega: 5/12/26")
    assert sorted(found("q=2026-12-05")) == sorted([friday, short])
    assert found("q=2026-02-30") == []  # no such day: the text alone, nothing found


def test_a_days_orders_are_listed_in_the_order_they_are_picked(client, settings, shops) -> None:
    """slot_day lists the day's delivery and pickup slots by their start (those with no time
    last, then as they came), page by page with `after`; another day, another shop, an order with
    no slot are not listed; a slot changed moves the order to its new day."""
    day = "Delivery-Date: 05/12/2026; Delivery-Time: "
    late = seed_order(settings, shops.a, "#3001", 1, delivery_slot=day + "1:00 PM - 2:00PM")
    untimed = seed_order(settings, shops.a, "#3002", 2, delivery_slot="Data de retirada: 05/12/2026")
    early = seed_order(
        settings, shops.a, "#3003", 3, delivery_slot="Data de entrega: 5-12-26; Horário: 8h às 12h"
    )
    also_late = seed_order(settings, shops.a, "#3004", 4, delivery_slot=day + "13:00 - 14:00")
    moved = seed_order(settings, shops.a, "#3005", 5, delivery_slot=day + "10:00 - 11:00")
    seed_order(settings, shops.a, "#3006", 6, delivery_slot="Delivery-Date: 06/12/2026; Delivery-Time: 07:00")
    seed_order(settings, shops.a, "#3007", 7)
    seed_order(settings, shops.b, "#3001", 8, delivery_slot=day + "09:00")
    with session_scope(settings.database_url) as session:  # rescheduled to the next day
        session.get(OrderLink, moved).delivery_slot = "Delivery-Date: 06/12/2026; Delivery-Time: 18:00"

    def page(query: str) -> dict:
        response = client.get(f"/api/orders?{query}", headers=headers(Role.VIEWER))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    whole = page("slot_day=2026-12-05")
    assert [o["id"] for o in whole["orders"]] == [early, late, also_late, untimed]
    assert [(o["slot_day"], o["slot_time"]) for o in whole["orders"]][:2] == [
        ("2026-12-05", "08:00"),
        ("2026-12-05", "13:00"),
    ]
    assert whole["next_after"] is None and whole["next_before_id"] is None
    seen, after = [], ""
    while True:
        one = page(f"slot_day=2026-12-05&limit=1&after={after}")
        seen += [o["id"] for o in one["orders"]]
        if not one["next_after"]:
            break
        after = one["next_after"].replace("|", "%7C")
    assert seen == [early, late, also_late, untimed]
    assert [o["id"] for o in page("slot_day=2026-12-06")["orders"]][-1] == moved
    assert [o["id"] for o in page("slot_day=2026-12-05&q=%233001")["orders"]] == [late]
    for bad in ("slot_day=05/12/2026", "slot_day=2026-02-30", "slot_day=2026-12-05&after=x"):
        response = client.get(f"/api/orders?{bad}", headers=headers(Role.VIEWER))
        assert response.status_code == 400, bad


def test_an_order_shows_every_flows_note_one_per_flow(client, settings, shops, message):
    """An edit NOT applied in the ERP and an invoice's capture warning are both on the order, one
    note per flow, in the list and the detail, and the needs_attention filter finds it; a row
    written when the column held one note shows it as its flow's; an order held out of the ERP
    shows its orders message's reason beside a note of its own."""
    from erp.errors import ErpRejected

    edit = "order_edits: Shopify edit of #1001 NOT applied in the ERP: ERP order 880123 is separated"
    capture = "invoices: the NF-e total 120.00 is 20.00 above what the customer paid or authorised"
    both = seed_order(settings, shops.a, "#1001", 880123, needs_attention=edit)
    with session_scope(settings.database_url) as session:
        order_notes.put(session.get(OrderLink, both), "invoices", capture)
    old = seed_order(settings, shops.a, "#1003", 880124, needs_attention=edit)
    seed_order(settings, shops.a, "#1004", 880125)
    unsure = "cancellations: ERP number unknown. Order #1002 was cancelled in Shopify"
    held = seed_order(settings, shops.a, "#1002", None, needs_attention=unsure)
    message(shops.a, "orders", "order:1002", shopify_id="gid://shopify/Order/1002",
            error=ErpRejected("CPF inválido"))  # fmt: skip

    def notes(order: dict) -> list[tuple[str | None, str]]:
        return [(n["flow"], n["note"]) for n in order["attention_notes"]]

    listed = client.get("/api/orders?status=needs_attention", headers=headers(Role.ADMIN)).get_json()[
        "orders"
    ]
    by_id = {o["id"]: o for o in listed}
    assert set(by_id) == {both, old, held}
    assert notes(by_id[both]) == [("order_edits", edit), ("invoices", capture)]
    assert by_id[both]["needs_attention"] == f"{edit}\n{capture}"
    assert notes(by_id[old]) == [("order_edits", edit)]
    [(flow, first), (orders, why)] = notes(by_id[held])
    assert (flow, first, orders) == ("cancellations", unsure, "orders") and "CPF inválido" in why
    detail = client.get(f"/api/orders/{both}", headers=headers(Role.VIEWER)).get_json()
    assert notes(detail) == notes(by_id[both])


def test_an_orders_detail_lists_messages_of_its_own_name_only(client, settings, shops, message):
    """Messages found by the order's name match it as a whole token: #100 does not list #1001's."""
    short = seed_order(settings, shops.a, "#100", None)
    own = message(shops.a, "cancellations", "cancel:100", search=("#100",), done=True)
    other = message(shops.a, "cancellations", "cancel:1001", search=("1001", "#1001"), done=True)
    detail = client.get(f"/api/orders/{short}", headers=headers(Role.VIEWER)).get_json()
    assert [m["id"] for m in detail["messages"]] == [own] and other != own


def test_an_orders_detail_lists_by_erp_number_only_messages_of_the_order_flows(
    client, settings, shops, message
):
    """ERP order 3's detail lists the order flows' messages whose erp_id is "3", not product 3's,
    company 3's stock nor a price's (the same digits, another ERP key)."""
    order = seed_order(settings, shops.a, "#1003", 3)
    own = message(
        shops.a, "orders", "order:1003", shopify_id="gid://shopify/Order/1003", erp_id="3", done=True
    )
    event = message(shops.a, "invoices", "event:9", erp_id="3", done=True)
    message(shops.a, "products", "product:3", shopify_id="gid://shopify/Product/1037", erp_id="3", done=True)
    message(shops.a, "stock", "stock:3:abc", erp_id="3", done=True)
    message(shops.a, "prices", "price:3", erp_id="3", done=True)
    detail = client.get(f"/api/orders/{order}", headers=headers(Role.VIEWER)).get_json()
    assert [m["id"] for m in detail["messages"]] == [event, own]


def test_me_and_permissions(client):
    me = client.get("/api/me?locale=en", headers=headers(Role.OPERATOR)).get_json()
    assert me == {
        "shop": "shop-a.myshopify.com",
        "timezone": None,  # not read from Shopify in these tests (shopify_app/shop_timezone.py)
        "user_id": "3",
        "role": "operator",
        "locale": "en",
        "permissions": {"read": True, "operate": True, "configure": False, "grant_admin": False},
    }


def test_role_rules_are_enforced_by_the_api_and_audited(client):
    # An admin manages operators and viewers...
    granted = client.put(
        "/api/roles/50", json={"role": "operator", "name": "Bia"}, headers=headers(Role.ADMIN)
    )
    assert granted.status_code == 200 and granted.get_json()["name"] == "Bia"
    # ...but not admins or owners, nor can they touch an existing admin.
    assert client.put("/api/roles/51", json={"role": "admin"}, headers=headers(Role.ADMIN)).status_code == 403
    newline = client.put("/api/roles/99%0A", json={"role": "viewer"}, headers=headers(Role.OWNER))
    assert newline.status_code == 400  # "99\n" is not a staff id (the pattern's "$" let it through)
    for actor in ("system", "shopify", "merchant"):  # the app's own actors: a name there signed its actions
        named = client.put(
            f"/api/roles/{actor}", json={"role": "viewer", "name": "Carlos"}, headers=headers(Role.OWNER)
        )
        assert named.status_code == 400, actor
    assert client.put("/api/roles/1", json={"role": "viewer"}, headers=headers(Role.ADMIN)).status_code == 403
    assert client.delete("/api/roles/2", headers=headers(Role.ADMIN)).status_code == 403
    # The owner can; the last owner cannot be demoted.
    assert client.put("/api/roles/51", json={"role": "admin"}, headers=headers(Role.OWNER)).status_code == 200
    last = client.put("/api/roles/1", json={"role": "admin"}, headers=headers(Role.OWNER))
    assert last.status_code == 409 and last.get_json()["error"]["code"] == "last_owner"
    assert client.put("/api/roles/52", json={"role": "king"}, headers=headers(Role.OWNER)).status_code == 400
    assert client.delete("/api/roles/50", headers=headers(Role.ADMIN)).status_code == 204
    assert client.delete("/api/roles/50", headers=headers(Role.ADMIN)).status_code == 404
    roles = client.get("/api/roles", headers=headers(Role.VIEWER)).get_json()
    assert {r["user_id"]: r["role"] for r in roles["roles"]} == {
        "1": "owner",
        "2": "admin",
        "3": "operator",
        "4": "viewer",
        "51": "admin",
    }
    assert roles["default_role"] == "viewer"
    # Shop B's staff list is its own.
    assert {
        r["user_id"] for r in client.get("/api/roles", headers=headers(shop=SHOP_B)).get_json()["roles"]
    } == {"1", "2", "3", "4"}
    events = client.get("/api/audit", headers=headers(Role.VIEWER)).get_json()["events"]
    actions = [(e["action"], e["target"], e["actor"]) for e in events]
    assert actions[:3] == [
        ("role.revoked", "user:50", "2"),
        ("role.granted", "user:51", "1"),
        ("role.granted", "user:50", "2"),
    ]
    # the role the removed person has now, the shop's default (it said none: "Operator -> —")
    assert (events[0]["before"], events[0]["after"]) == ({"role": "operator"}, {"role": "viewer"})


def test_removing_a_role_below_the_default_says_the_role_it_leaves(client):
    """With operator as the default, "Remove" on a viewer makes them an operator: the row says so."""
    settings = client.put(
        "/api/setup/settings", json={"default_role": "operator"}, headers=headers(Role.ADMIN)
    )
    assert settings.status_code == 200
    assert client.delete("/api/roles/4", headers=headers(Role.ADMIN)).status_code == 204
    assert client.get("/api/me", headers=headers(Role.VIEWER)).get_json()["role"] == "operator"
    events = client.get("/api/audit", headers=headers(Role.ADMIN)).get_json()["events"]
    revoked = next(e for e in events if e["action"] == "role.revoked")
    assert (revoked["before"], revoked["after"]) == ({"role": "viewer"}, {"role": "operator"})


def test_audit_pages_newest_first(client):
    for n in range(3):
        client.put("/api/setup/settings", json={"bulk_threshold": 100 + n}, headers=headers())
    page = client.get("/api/audit?limit=2", headers=headers()).get_json()
    assert [e["after"]["bulk_threshold"] for e in page["events"]] == [102, 101]
    rest = client.get(f"/api/audit?limit=2&before_id={page['next_before_id']}", headers=headers()).get_json()
    assert rest["events"][0]["after"] == {"bulk_threshold": 100}
    assert rest["events"][1]["action"] == "app.installed"
    others = client.get("/api/audit", headers=headers(shop=SHOP_B)).get_json()["events"]
    assert [e["action"] for e in others] == ["app.installed"]


CPF = "52998224725"
EMAIL = "ana.souza@example.com"


def test_a_customers_data_export_is_for_admins_and_the_audit_trail_keeps_only_ids(
    client, settings, shops, message
):
    """customers/data_request: the audit trail (read by viewers) keeps counts and row ids, never
    the customer's data; GET /api/audit/<id>/export gives an admin or owner the export, rebuilt
    from those rows, to send the customer. A viewer or operator is refused, another shop sees 404."""
    message_id = message(
        shops.a,
        "orders",
        "order:9001",
        shopify_id="gid://shopify/Order/9001",
        request={"clienteDto": {"cpfCnpj": CPF, "nomeRazaoSocial": "Ana Souza", "email": EMAIL}},
        done=True,
    )
    payload = {"shop_domain": SHOP_A, "customer": {"id": 7001, "email": EMAIL}, "orders_requested": [9001],
               "data_request": {"id": 99}}  # fmt: skip
    customers_data_request(
        WebhookEvent(1, "customers/data_request", SHOP_A, "w1", "e1", "2026-10", None, payload)
    )

    for role in (Role.VIEWER, Role.ADMIN):
        [event] = [
            e
            for e in client.get("/api/audit", headers=headers(role)).get_json()["events"]
            if e["action"] == "customer.data_exported"
        ]
        assert event["after"]["counts"]["messages"] == 1
        assert event["after"]["exported"]["messages"] == [message_id]
        assert CPF not in str(event) and EMAIL not in str(event) and "Ana Souza" not in str(event)
    url = f"/api/audit/{event['id']}/export"
    assert client.get(url, headers=headers(Role.VIEWER)).status_code == 403
    assert client.get(url, headers=headers(Role.OPERATOR)).status_code == 403
    assert client.get(url, headers=headers(shop=SHOP_B)).status_code == 404
    export = client.get(url, headers=headers(Role.OWNER)).get_json()
    assert export["customer"] == {"id": "7001"} and export["counts"]["messages"] == 1
    assert export["messages"][0]["request_payload"]["clienteDto"] == {
        "cpfCnpj": CPF,
        "nomeRazaoSocial": "Ana Souza",
        "email": EMAIL,
    }
    another = client.get("/api/audit", headers=headers()).get_json()["events"][-1]["id"]  # app.installed
    assert client.get(f"/api/audit/{another}/export", headers=headers()).status_code == 404


def test_the_audit_trail_masks_personal_data_below_admin(client, settings, shops):
    """An audit record's before/after may name a customer (a note, an e-mail): viewers and
    operators read them masked (keys and free text, as on the Messages page), admins in full."""
    with session_scope(settings.database_url) as session:
        session.add(AuditEvent(shop_id=shops.a, shop_domain="a", actor="u1", action="order.fixed", target="x",
                               before={"customer": {"email": EMAIL}},
                               after={"note": f"CPF {CPF} confirmado por {EMAIL}"}))  # fmt: skip
    for role in (Role.VIEWER, Role.OPERATOR):
        [event] = client.get("/api/audit?limit=1", headers=headers(role)).get_json()["events"]
        assert CPF not in str(event) and EMAIL not in str(event), role
        assert event["after"]["note"].startswith("CPF ***.***.*47-25 confirmado por a***@e***.com")
    [event] = client.get("/api/audit?limit=1", headers=headers(Role.ADMIN)).get_json()["events"]
    assert event["before"] == {"customer": {"email": EMAIL}} and CPF in event["after"]["note"]


def test_two_owners_demoting_each_other_at_once_leave_an_owner(app, settings, shops, monkeypatch):
    """The last-owner rule under concurrency: both requests count two owners before either writes
    unless role changes of one shop run one at a time (the shop row is locked); one gets 409."""
    import contextlib
    import threading

    from spine_auth.factories import bearer, make_id_token
    from sqlalchemy import func, select

    from ledger.models import StaffRole
    from shopify_app import roles

    with session_scope(settings.database_url) as session:
        session.add(StaffRole(shop_id=shops.a, user_id="5", role=Role.OWNER.value))
    barrier = threading.Barrier(2)
    original = roles._owner_count

    def counted_then_wait(session, shop_id):
        n = original(session, shop_id)
        with contextlib.suppress(threading.BrokenBarrierError):  # a lock makes the other wait here
            barrier.wait(timeout=3)
        return n

    monkeypatch.setattr(roles, "_owner_count", counted_then_wait)
    answers: dict[str, int] = {}

    def demote(caller: str, target: str) -> None:
        token = bearer(make_id_token(SHOP_A, caller))
        response = app.test_client().put(f"/api/roles/{target}", json={"role": "admin"}, headers=token)
        answers[f"{caller}->{target}"] = response.status_code

    threads = [threading.Thread(target=demote, args=pair) for pair in (("1", "5"), ("5", "1"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    with session_scope(settings.database_url) as session:
        owners = session.scalar(
            select(func.count())
            .select_from(StaffRole)
            .where(StaffRole.shop_id == shops.a, StaffRole.role == Role.OWNER.value)
        )
    assert owners == 1 and sorted(answers.values()) == [200, 409], (owners, answers)


def test_an_admin_cannot_demote_an_admin_by_racing_the_owners_promotion(app, settings, shops, monkeypatch):
    """Only an owner changes an admin's role: an admin's change of an operator, read before the
    owner's promotion of that operator committed, must not then demote the new admin. The view
    takes the shop lock before it reads the role it checks: the owner's promotion waits for it."""
    import threading

    from spine_auth.factories import bearer, make_id_token
    from sqlalchemy import select

    from ledger.models import StaffRole
    from shopify_app import api_admin

    with session_scope(settings.database_url) as session:
        session.add(StaffRole(shop_id=shops.a, user_id="77", role=Role.OPERATOR.value))
    answers: dict[str, int] = {}

    def put(caller: str, role: str) -> None:
        token = bearer(make_id_token(SHOP_A, caller))
        answers[caller] = (
            app.test_client().put("/api/roles/77", json={"role": role}, headers=token).status_code
        )

    owners = threading.Thread(target=put, args=(USERS[Role.OWNER], "admin"))
    original = api_admin._needs_owner

    def checked_then_the_owner_promotes(current, wanted):
        needed = original(current, wanted)
        if not owners.is_alive() and "1" not in answers:  # the admin's check: the owner's PUT lands now
            owners.start()
            owners.join(timeout=2)  # with the shop locked by the admin's request, it waits
        return needed

    monkeypatch.setattr(api_admin, "_needs_owner", checked_then_the_owner_promotes)
    put(USERS[Role.ADMIN], "viewer")
    owners.join(timeout=20)
    with session_scope(settings.database_url) as session:
        now = session.scalar(
            select(StaffRole.role).where(StaffRole.shop_id == shops.a, StaffRole.user_id == "77")
        )
    # the admin changed an operator (200), then the owner made them admin: never an admin demoted
    assert (now, answers) == ("admin", {"2": 200, "1": 200}), (now, answers)


def test_the_orders_page_masks_the_customers_data_quoted_in_a_flag_below_admin(
    client, settings, shops, message
):
    """A flag on an order (and a line change's reason) can quote the ERP's words about the customer:
    below admin they are masked as on the Messages page; an admin reads them whole."""
    from erp.errors import ErpRejected
    from ledger.models import Message

    cpf, email = "52998224725", "ana.souza@example.com"
    said = f"Cliente CPF {cpf} ({email}) bloqueado para venda"
    msg_id = message(
        shops.a, "invoices", "event-77", error=ErpRejected(said), shopify_id="gid://shopify/Order/1001"
    )
    with session_scope(settings.database_url) as session:
        text = session.get(Message, msg_id).error_text
        link = OrderLink(
            shop_id=shops.a,
            shopify_order_id="gid://shopify/Order/1001",
            shopify_order_name="#1001",
            nro_pedvenda=880123,
            needs_attention=f"invoices (ERP event #77): {text}",
        )
        session.add(link)
        session.flush()
        change = dict(direction="erp_to_shopify", kind="cut", change_key="ev77:789", sku="789", applied=False)
        session.add(OrderLineChange(order_link_id=link.id, reason=text, **change))
        link_id = link.id
    listed = client.get("/api/orders", headers=headers(Role.VIEWER)).get_json()["orders"][0]
    detail = client.get(f"/api/orders/{link_id}", headers=headers(Role.VIEWER)).get_json()
    shown = [listed["needs_attention"], detail["needs_attention"], detail["changes"][0]["reason"]]
    assert not any(cpf in text or email in text for text in shown), shown
    admin = client.get(f"/api/orders/{link_id}", headers=headers(Role.ADMIN)).get_json()
    assert cpf in admin["needs_attention"] and email in admin["changes"][0]["reason"]


def test_an_erp_event_that_failed_as_a_bug_puts_the_order_under_needs_attention(
    client, settings, shops, message
):
    """An invoice that failed as a bug (NF-e not written, nothing captured or fulfilled) leaves no
    note on the link (jobs.order_events flags only refusals): the order is flagged from the message
    itself, in any flow, like one held out of the ERP; and no longer once the message is settled."""
    from ledger import trace
    from ledger.models import Message

    invoiced = seed_order(settings, shops.a, "#1001", 555, erp_status="F")
    calm = seed_order(settings, shops.a, "#1002", 556, erp_status="F")
    bug = message(shops.a, "invoices", "event:77", shopify_id="gid://shopify/Order/1001", erp_id="555",
                  error=KeyError("valorTotal"))  # fmt: skip
    message(shops.a, "invoices", "event:78", shopify_id="gid://shopify/Order/1002", erp_id="556", done=True)
    message(shops.b, "invoices", "event:79", shopify_id="gid://shopify/Order/1002", erp_id="556",
            error=KeyError("valorTotal"))  # another shop's, same order id  # fmt: skip
    message(shops.a, "products", "product:556", erp_id="556", error=KeyError("x"))  # another kind of 556

    def listed(query: str = "") -> dict[int, dict]:
        page = client.get(f"/api/orders?{query}", headers=headers(Role.ADMIN)).get_json()
        return {o["id"]: o for o in page["orders"]}

    assert set(listed("status=needs_attention")) == {invoiced}
    shown = listed()[invoiced]
    assert [n["flow"] for n in shown["attention_notes"]] == ["invoices"]
    assert "KeyError" in shown["needs_attention"] and listed()[calm]["needs_attention"] is None
    detail = client.get(f"/api/orders/{invoiced}", headers=headers(Role.VIEWER)).get_json()
    assert "KeyError" in detail["needs_attention"]

    with session_scope(settings.database_url) as session:  # the Retry applied it
        trace.succeed(session, session.get(Message, bug))
    assert listed("status=needs_attention") == {} and listed()[invoiced]["needs_attention"] is None


def test_a_refused_event_is_shown_once_beside_its_own_note(client, settings, shops, message):
    """A refused ERP event already left its note on the link ("invoices (ERP event #77): ..."):
    its message adds no second one; a parked edit of the order is shown as the edits' note."""
    from ledger.errors import MappingMissing, Rejected

    order = seed_order(settings, shops.a, "#1001", 555)
    with session_scope(settings.database_url) as session:
        order_notes.put(session.get(OrderLink, order), "invoices", "ORDER_CANCELLED refused", event=77)
    message(shops.a, "invoices", "event:77", shopify_id="gid://shopify/Order/1001", erp_id="555",
            error=Rejected("ORDER_CANCELLED refused", system="app", code="ORDER_CANCELLED"))  # fmt: skip
    message(shops.a, "order_edits", "edit:9", shopify_id="gid://shopify/Order/1001",
            error=MappingMissing("variant", "789"))  # fmt: skip
    [shown] = client.get("/api/orders?status=needs_attention", headers=headers()).get_json()["orders"]
    assert [(n["flow"], n["note"].split(":")[0]) for n in shown["attention_notes"]] == [
        ("invoices", "invoices (ERP event #77)"),
        ("order_edits", "order_edits"),
    ]
