"""Setup page: ERP connection (password encrypted, never returned), settings validation, store
link, location mappings, status, ERP/Shopify failures as 502/503, and the catalog dry-run contract."""

from __future__ import annotations

import json

from spine_auth.factories import SHOP_B
from sqlalchemy import select

from ledger import shop_settings
from ledger.crypto import decrypt
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.models import AuditEvent, ErpConnection, Message, Role, Shop, utcnow
from shopify_app.frontend import I18N_DIR

from .conftest import headers, queued, save_location_set

SECRET = "s3nha-do-erp"


def audit_rows(settings, shop_id: int, action: str) -> list[AuditEvent]:
    with session_scope(settings.database_url) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.shop_id == shop_id, AuditEvent.action == action)
            )
        )


def test_erp_password_is_stored_encrypted_and_never_returned(client, settings, shops):
    body = {"base_url": "http://erp.example.test/api/", "username": "integra", "password": SECRET}
    saved = client.put("/api/setup/erp-connection", json=body, headers=headers())
    assert saved.status_code == 200
    assert SECRET not in saved.get_data(as_text=True)
    assert saved.get_json() | {"updated_at": None} == {
        "configured": True,
        "base_url": "http://erp.example.test/api",
        "username": "integra",
        "password_set": True,
        "updated_at": None,
        "resumed": 0,
        "retried": 0,
    }
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shops.a)).one()
        assert SECRET.encode() not in bytes(row.password_enc)
        assert decrypt(row.password_enc, settings.encryption_keys) == SECRET
    read = client.get("/api/setup/erp-connection", headers=headers(Role.VIEWER))
    assert SECRET not in read.get_data(as_text=True) and read.get_json()["password_set"] is True
    # Saving again without a password keeps the stored one (the same user's: a new user needs its
    # own); the audit shows only "***".
    client.put(
        "/api/setup/erp-connection",
        json={**body, "base_url": "http://erp.example.test/api", "password": ""},
        headers=headers(),
    )
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shops.a)).one()
        assert row.username == "integra" and decrypt(row.password_enc, settings.encryption_keys) == SECRET
    events = audit_rows(settings, shops.a, "erp_connection.saved")
    assert len(events) == 2 and events[0].after["password"] == "***"
    assert SECRET not in json.dumps([e.after for e in events])


def test_erp_connection_validation(client):
    first = client.put(
        "/api/setup/erp-connection", json={"base_url": "ftp://x", "username": ""}, headers=headers()
    )
    assert first.status_code == 400
    assert set(first.get_json()["error"]["fields"]) == {"base_url", "username", "password"}
    # The example is the SmPedidoVendaAPI's layout (docs/consinco-api.md), the one to copy.
    assert first.get_json()["error"]["fields"]["base_url"].endswith("/smpedidovenda/smpedidovendaapi")
    for url in ("http://[erp.example.com/api", "https://erp.example.com:99999/api"):  # parser errors
        for path in ("/api/setup/erp-connection", "/api/setup/erp-connection/test"):
            body = {"base_url": url, "username": "u", "password": "p"}
            reply = client.put(path, json=body, headers=headers()) if path.endswith("connection") else (
                client.post(path, json=body, headers=headers()))  # fmt: skip
            assert reply.status_code == 400 and "base_url" in reply.get_json()["error"]["fields"], (url, path)


def test_an_erp_address_with_a_query_or_fragment_is_refused(client):
    """Pasted from the ERP's Swagger page: every call appends its path after the "#" (or the "?"),
    so no ERP call could work with it; refused saying what the base address is."""
    for url in (
        "https://erp.example.com.br/smpedidovendaapi/swagger/index.html#/",
        "https://erp.example.com.br/smpedidovendaapi?tenant=1",
        "https://erp.example.com.br/smpedidovendaapi#",
    ):
        body = {"base_url": url, "username": "u", "password": "p"}
        reply = client.put("/api/setup/erp-connection", json=body, headers=headers())
        assert reply.status_code == 400, url
        assert "without a query" in reply.get_json()["error"]["fields"]["base_url"]


def test_a_changed_erp_user_needs_its_password(client, settings, shops):
    """Another admin changed the user and its password; a page opened before saves its old user
    with the password left blank ("keep the stored one"): that stored u1 with u2's password, a pair
    nobody typed, refused at every login. A new user needs its password typed."""
    url = "https://erp.example.com.br/smpedidovenda/smpedidovendaapi"
    first = {"base_url": url, "username": "u1", "password": "p1"}
    assert client.put("/api/setup/erp-connection", json=first, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:  # u1's login was accepted (erp.factory)
        session.query(ErpConnection).filter_by(shop_id=shops.a).update({"verified_at": utcnow()})
    new = {"base_url": url, "username": "u2", "password": "p2"}
    assert client.put("/api/setup/erp-connection", json=new, headers=headers(Role.OWNER)).status_code == 200
    with session_scope(settings.database_url) as session:  # u2 not proven yet
        assert session.query(ErpConnection.verified_at).filter_by(shop_id=shops.a).scalar() is None
    stale_page = {"base_url": url, "username": "u1"}
    stale = client.put("/api/setup/erp-connection", json=stale_page, headers=headers())
    assert stale.status_code == 400
    assert stale.get_json()["error"]["fields"] == {"password": "is required when the user changes"}
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shops.a)).one()
        assert (row.username, decrypt(row.password_enc, settings.encryption_keys)) == ("u2", "p2")
    same = client.put("/api/setup/erp-connection", json={**stale_page, "username": "u2"}, headers=headers())
    assert same.status_code == 200  # the same user keeps its stored password


def test_saving_the_connection_resumes_units_parked_for_it(client, shops, message, rq):
    parked = message(shops.a, error=MappingMissing("erp_connection", str(shops.a)))
    body = {"base_url": "http://erp.example.test", "username": "u", "password": "p"}
    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).get_json()["resumed"] == 1
    assert ("jobs.orders.replay", (parked,)) in queued(rq, "orders")


def test_an_erp_connection_moved_to_another_address_forgets_where_every_erp_flow_stood(
    client, settings, shops
):
    """Homologation -> production: the new ERP's change stream is read whole (every ERP cursor of
    the shop forgotten, the stock flow's location markers too), its order events are its own (the
    generation bumped) and the audit row says so; saving the same address forgets nothing."""
    from datetime import UTC, datetime

    from ledger import watermarks
    from ledger.bindings import BindingRow, upsert_many
    from ledger.models import Binding, Watermark

    body = {"base_url": "https://homolog.example.test/api", "username": "u", "password": "p"}
    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).status_code == 200
    at = datetime(2026, 11, 30, tzinfo=UTC)
    cursors = [("products", ""), ("skus", ""), ("prices", "1:1"), ("prices", "list:2:2:9"), ("stock", "1"),
               ("order_events", ""), ("stock", "orders_closed")]  # fmt: skip
    with session_scope(settings.database_url) as session:
        for shop_id in (shops.a, shops.b):
            for flow, scope in cursors:
                watermarks.advance(session, shop_id, flow, scope, at, 0, at)
            upsert_many(session, shop_id, "stock_location", [BindingRow("1", "gid://shopify/Location/1")])

    def left(shop_id: int) -> tuple[set[tuple[str, str]], int, int]:
        with session_scope(settings.database_url) as session:
            marks = {
                (w.flow, w.scope)
                for w in session.scalars(select(Watermark).where(Watermark.shop_id == shop_id))
            }
            markers = len(session.scalars(select(Binding).where(
                Binding.shop_id == shop_id, Binding.kind == "stock_location")).all())  # fmt: skip
            row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shop_id)).one_or_none()
            return marks, markers, row.generation if row else 0

    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).status_code == 200
    assert left(shops.a) == (set(cursors), 1, 0)  # the same ERP: nothing forgotten
    for same in ("http://HOMOLOG.example.test:80/api/", "https://homolog.example.test:443/api"):
        again = {**body, "base_url": same}  # the same ERP, written otherwise
        assert client.put("/api/setup/erp-connection", json=again, headers=headers()).status_code == 200
        assert left(shops.a) == (set(cursors), 1, 0)
    moved = {**body, "base_url": "https://producao.example.test/api"}
    assert client.put("/api/setup/erp-connection", json=moved, headers=headers()).status_code == 200
    assert left(shops.a) == ({("stock", "orders_closed")}, 0, 1)
    assert left(shops.b) == (set(cursors), 1, 0)  # another shop's are its own
    last = max(audit_rows(settings, shops.a, "erp_connection.saved"), key=lambda e: e.id)
    assert last.after["erp_generation"] == 1 and last.after["cursors_forgotten"] == len(cursors) - 1


def test_unreachable_erp_and_shopify_are_503_naming_the_system(client):
    body = {"base_url": client.application.config["SETTINGS"].erp_base_url, "username": "u", "password": "p"}
    client.put("/api/setup/erp-connection", json=body, headers=headers())
    choices = client.get("/api/setup/erp-choices", headers=headers())
    assert choices.status_code == 503
    assert choices.get_json()["error"]["system"] == "consinco"
    tested = client.post("/api/setup/erp-connection/test", headers=headers())
    assert tested.status_code == 200 and tested.get_json()["ok"] is False
    # the page says why by the code, in its language; the transport's own words are a detail
    assert tested.get_json()["code"] == "consinco_unavailable" and tested.get_json()["upstream_message"]
    locations = client.get("/api/setup/locations", headers=headers())
    assert locations.status_code == 503
    assert locations.get_json()["error"]["system"] == "shopify"
    channels = client.get("/api/setup/publications", headers=headers(Role.VIEWER))
    assert channels.status_code == 503
    assert channels.get_json()["error"]["system"] == "shopify"


def test_connection_tests_are_limited_per_shop_so_no_password_is_guessed_through_them(client):
    """Each test logs in to the address typed and says at once whether the ERP refused the login:
    unthrottled, a store's admin could try password after password against any ERP the app reaches."""
    from shopify_app import api_setup

    typed = {"base_url": client.application.config["SETTINGS"].erp_base_url, "username": "u", "password": "p"}
    answers = [
        client.post("/api/setup/erp-connection/test", json=typed, headers=headers()).get_json()
        for _ in range(api_setup.ERP_TESTS_PER_WINDOW + 1)
    ]
    assert all(a["code"] != "too_many_connection_tests" for a in answers[:-1]), answers[0]
    assert answers[-1] == {
        "ok": False,
        "code": "too_many_connection_tests",
        "message": "At most 10 connection tests every 5 minutes: wait, then try again.",
        "companies": [],
    }


def test_erp_choices_before_any_connection_is_409(client):
    response = client.get("/api/setup/erp-choices", headers=headers())
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "erp_not_configured"
    tested = client.post("/api/setup/erp-connection/test", headers=headers())
    assert tested.get_json() == {
        "ok": False,
        "code": "erp_not_configured",
        "message": "No ERP connection saved yet.",
        "companies": [],
    }


def test_every_code_a_connection_test_answers_has_words_in_both_languages():
    from shopify_app.api_upstream import CHECK_CODES
    from shopify_app.frontend import I18N_DIR

    for language in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{language}.json").read_text(encoding="utf-8"))
        assert sorted(c for c in CHECK_CODES.values() if f"error.code.{c}" not in catalogue) == [], language


def test_settings_defaults_validation_and_audit(client, settings, shops):
    assert client.get("/api/setup/settings", headers=headers(Role.VIEWER)).get_json() == {
        "seq_canal_venda": None,
        "cod_geral_oper": None,
        "nro_representante": None,
        "nro_tab_venda": None,
        "inactive_sku_status": "DRAFT",
        "payment_confirmation": "paid",
        "risk_hold": "cancel",
        "risk_app_wait_minutes": 0,
        "bulk_threshold": 250,
        "default_role": "viewer",
        "cancel_restock": True,
        "cancel_refund": True,
        "cancel_notify_customer": False,
        "fulfillment_notify_customer": False,
        "card_payment_data": True,
        "publish_to": None,
        "ignored_companies": [],
        "marketplace_sources": [],
        "pay_on_delivery_gateways": [],
        "delivery_slot_attributes": [
            "Delivery-Date",
            "Delivery-Time",
            "Pickup-Date",
            "Pickup-Time",
            "Data de entrega",
            "Horário de entrega",
            "Data de retirada",
            "Horário de retirada",
        ],
        "alert_emails": [],
        "alert_locale": "pt-BR",
    }
    bad = client.put(
        "/api/setup/settings",
        json={
            "seq_canal_venda": "7",
            "inactive_sku_status": "DELETED",
            "bulk_threshold": 0,
            "default_role": "owner",
        },
        headers=headers(),
    )
    assert bad.status_code == 400
    assert set(bad.get_json()["error"]["fields"]) == {
        "seq_canal_venda",
        "inactive_sku_status",
        "bulk_threshold",
        "default_role",
    }
    assert client.put("/api/setup/settings", json={"nope": 1}, headers=headers()).status_code == 400
    ok = client.put(
        "/api/setup/settings", json={"seq_canal_venda": 7, "cod_geral_oper": 201}, headers=headers()
    )
    assert ok.status_code == 200 and ok.get_json()["seq_canal_venda"] == 7
    with session_scope(settings.database_url) as session:
        assert session.get(Shop, shops.a).settings == {"seq_canal_venda": 7, "cod_geral_oper": 201}
        assert session.get(Shop, shops.b).settings in ({}, None)
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert event.before == {"seq_canal_venda": None, "cod_geral_oper": None}
    # What an ERP cancellation does to the Shopify order is the merchant's choice, read by the flow.
    assert (
        client.put("/api/setup/settings", json={"cancel_refund": "no"}, headers=headers()).status_code == 400
    )
    off = client.put("/api/setup/settings", json={"cancel_refund": False}, headers=headers())
    assert off.status_code == 200 and off.get_json()["cancel_refund"] is False
    with session_scope(settings.database_url) as session:
        assert shop_settings.get(session.get(Shop, shops.a), "cancel_refund") is False
    assert event.after == {"seq_canal_venda": 7, "cod_geral_oper": 201}
    # Where new products are published: publication ids, null (the Online Store) or [] (nowhere).
    malformed = ["gid://shopify/Publication/", "gid://shopify/Publication/abc def"]
    for wrong in ("gid://shopify/Publication/1", ["gid://shopify/Product/1"], [1], malformed):
        refused = client.put("/api/setup/settings", json={"publish_to": wrong}, headers=headers())
        assert refused.status_code == 400, wrong
    channels = ["gid://shopify/Publication/1", "gid://shopify/Publication/2"]
    chosen = client.put("/api/setup/settings", json={"publish_to": channels}, headers=headers())
    assert chosen.status_code == 200 and chosen.get_json()["publish_to"] == channels
    twice = client.put(
        "/api/setup/settings", json={"publish_to": [*channels, channels[0]]}, headers=headers()
    )
    assert twice.status_code == 200 and twice.get_json()["publish_to"] == channels  # repeats dropped


def test_card_data_turned_off_replays_the_open_card_messages_of_the_shop(client, shops, message, rq):
    """card_payment_data off (an ERP without the card call): the card messages left parked or
    failed are replayed at once, and the replay ends them saying so (jobs.card_payments); the
    shop's other messages and another shop's card messages stay as they are."""
    parked = message(shops.a, "orders", "card:1001", error=MappingMissing("card_brand", "Visa"))
    failed = message(shops.a, "orders", "card:1002", error=Rejected("ERP refused", system="erp"))
    order = message(shops.a, "orders", "order:1003", error=MappingMissing("payment_method", "Pix"))
    other = message(shops.b, "orders", "card:1001", error=MappingMissing("card_brand", "Visa"))
    saved = client.put("/api/setup/settings", json={"card_payment_data": False}, headers=headers())
    assert saved.status_code == 200 and saved.get_json()["resumed"] == 2
    replays = {args[0] for name, args in queued(rq, "orders") if name == "jobs.orders.replay"}
    assert replays == {parked, failed} and not replays & {order, other}
    again = client.put("/api/setup/settings", json={"card_payment_data": False}, headers=headers())
    assert again.get_json()["resumed"] == 0  # saved as it was: nothing acted on


def test_companies_not_sold_in_this_store_are_validated_stored_audited_and_free_their_refusals(
    client, settings, shops, message, rq
):
    """ignored_companies: ERP company numbers the stock flow leaves out while they have no location
    (instead of a parked refusal each, for ever). Their parked refusals are replayed at once, and
    the replay closes them (jobs.stock); another company's refusal and other flows stay parked."""
    for wrong in (4, "4", [0], [1_000_000_000], ["4"], [True], [4.5], [None], list(range(1, 502))):
        refused = client.put("/api/setup/settings", json={"ignored_companies": wrong}, headers=headers())
        assert refused.status_code == 400, wrong
        assert set(refused.get_json()["error"]["fields"]) == {"ignored_companies"}, wrong
    four = message(shops.a, "stock", "stock:4:location", error=MappingMissing("location", "4"))
    five = message(shops.a, "stock", "stock:5:location", error=MappingMissing("location", "5"))
    order = message(shops.a, "orders", "order-4", error=MappingMissing("location", "4"))
    saved = client.put("/api/setup/settings", json={"ignored_companies": [7, 4, 7]}, headers=headers())
    assert saved.status_code == 200 and saved.get_json()["ignored_companies"] == [4, 7]
    assert saved.get_json()["resumed"] == 1
    assert ("jobs.stock.replay", (four,)) in queued(rq, "catalog")
    assert {args[0] for _, args in queued(rq, "catalog") + queued(rq, "orders")}.isdisjoint({five, order})
    with session_scope(settings.database_url) as session:
        assert shop_settings.get(session.get(Shop, shops.a), "ignored_companies") == [4, 7]
        assert shop_settings.get(session.get(Shop, shops.b), "ignored_companies") == []
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert (event.before, event.after) == ({"ignored_companies": []}, {"ignored_companies": [4, 7]})
    got = client.get("/api/setup/settings", headers=headers(Role.VIEWER)).get_json()
    assert got["ignored_companies"] == [4, 7]
    cleared = client.put("/api/setup/settings", json={"ignored_companies": []}, headers=headers())
    assert cleared.status_code == 200 and cleared.get_json()["ignored_companies"] == []


def test_marketplace_sources_are_validated_and_saved_trimmed_without_repeats(client, settings, shops):
    """marketplace_sources: the Shopify sourceNames sold on a third party's marketplace (their
    orders go to the ERP with indIntermediador 1). Non-empty strings, at most 50 of 100 chars."""
    wrong_values = ("amazon", ["  "], [""], [7], [None], ["x" * 101], [f"s{i}" for i in range(51)])
    for wrong in wrong_values:
        refused = client.put("/api/setup/settings", json={"marketplace_sources": wrong}, headers=headers())
        assert refused.status_code == 400, wrong
        assert set(refused.get_json()["error"]["fields"]) == {"marketplace_sources"}, wrong
    given = [" Mercado Livre ", "amazon-channel", "mercado livre", "amazon-channel ", "x" * 100 + "  "]
    saved = client.put("/api/setup/settings", json={"marketplace_sources": given}, headers=headers())
    kept = ["Mercado Livre", "amazon-channel", "x" * 100]
    assert saved.status_code == 200 and saved.get_json()["marketplace_sources"] == kept
    with session_scope(settings.database_url) as session:
        assert shop_settings.get(session.get(Shop, shops.a), "marketplace_sources") == kept
        assert shop_settings.get(session.get(Shop, shops.b), "marketplace_sources") == []
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert (event.before, event.after) == ({"marketplace_sources": []}, {"marketplace_sources": kept})
    got = client.get("/api/setup/settings", headers=headers(Role.VIEWER)).get_json()
    assert got["marketplace_sources"] == kept
    cleared = client.put("/api/setup/settings", json={"marketplace_sources": []}, headers=headers())
    assert cleared.status_code == 200 and cleared.get_json()["marketplace_sources"] == []


def test_the_representative_and_price_table_are_optional_integers_that_can_be_cleared(
    client, settings, shops
):
    """nro_representante / nro_tab_venda (POST PedidoVenda's nroRepresentante / nroTabVenda):
    integers from 1 to 999999 as the sales channel is, but optional: null (the default) sends the
    order without them, and saving null clears one set before."""
    for key in ("nro_representante", "nro_tab_venda"):
        for wrong in (0, 1_000_000, "12", 1.5, True, [1]):
            refused = client.put("/api/setup/settings", json={key: wrong}, headers=headers())
            assert refused.status_code == 400, (key, wrong)
            assert set(refused.get_json()["error"]["fields"]) == {key}, (key, wrong)
    saved = client.put("/api/setup/settings", json={"nro_representante": 12, "nro_tab_venda": 3.0},
                       headers=headers())  # fmt: skip
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["nro_representante"], saved.get_json()["nro_tab_venda"]) == (12, 3)
    with session_scope(settings.database_url) as session:
        stored = session.get(Shop, shops.a).settings
        assert (stored["nro_representante"], stored["nro_tab_venda"]) == (12, 3)
        assert shop_settings.get(session.get(Shop, shops.b), "nro_representante") is None
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert event.before == {"nro_representante": None, "nro_tab_venda": None}
    assert event.after == {"nro_representante": 12, "nro_tab_venda": 3}
    cleared = client.put("/api/setup/settings", json={"nro_representante": None}, headers=headers())
    assert cleared.status_code == 200 and cleared.get_json()["nro_representante"] is None
    assert cleared.get_json()["nro_tab_venda"] == 3
    # The required two are not cleared so: an order cannot go without its channel or operation.
    for key in ("seq_canal_venda", "cod_geral_oper"):
        refused = client.put("/api/setup/settings", json={key: None}, headers=headers())
        assert refused.status_code == 400 and set(refused.get_json()["error"]["fields"]) == {key}, key


def test_pay_on_delivery_gateways_are_validated_saved_trimmed_and_resume_orders_waiting_for_payment(
    client, settings, shops, message, rq
):
    """pay_on_delivery_gateways: Shopify manual payment methods collected at delivery. Non-empty
    strings, at most 20 of 100 chars, saved trimmed without repeats as the payment De:Para compares
    gateways (case and inner spaces aside); a change resumes the orders waiting for their payment."""
    from ledger.models import Message

    wrong_values = ("COD", ["  "], [""], [7], [None], ["x" * 101], [f"m{i}" for i in range(21)])
    for wrong in wrong_values:
        refused = client.put(
            "/api/setup/settings", json={"pay_on_delivery_gateways": wrong}, headers=headers()
        )
        assert refused.status_code == 400, wrong
        assert set(refused.get_json()["error"]["fields"]) == {"pay_on_delivery_gateways"}, wrong
    waiting = message(shops.a, "orders", "order-31")
    with session_scope(settings.database_url) as session:
        session.get(Message, waiting).error_detail = {"waiting": "payment", "financial_status": "PENDING"}
    given = [" Cash on Delivery (COD) ", "Pagamento na entrega", "cash on  delivery (cod)", "x" * 100 + " "]
    saved = client.put("/api/setup/settings", json={"pay_on_delivery_gateways": given}, headers=headers())
    kept = ["Cash on Delivery (COD)", "Pagamento na entrega", "x" * 100]
    assert saved.status_code == 200 and saved.get_json()["pay_on_delivery_gateways"] == kept
    assert saved.get_json()["resumed"] == 1 and queued(rq, "orders") == [("jobs.orders.replay", (waiting,))]
    with session_scope(settings.database_url) as session:
        assert shop_settings.get(session.get(Shop, shops.a), "pay_on_delivery_gateways") == kept
        assert shop_settings.get(session.get(Shop, shops.b), "pay_on_delivery_gateways") == []
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert (event.before, event.after) == (
        {"pay_on_delivery_gateways": []},  # the default in effect
        {"pay_on_delivery_gateways": kept},
    )
    got = client.get("/api/setup/settings", headers=headers(Role.VIEWER)).get_json()
    assert got["pay_on_delivery_gateways"] == kept
    cleared = client.put("/api/setup/settings", json={"pay_on_delivery_gateways": []}, headers=headers())
    assert cleared.status_code == 200 and cleared.get_json()["pay_on_delivery_gateways"] == []


def test_the_risk_hold_is_a_choice_and_a_change_resumes_the_orders_held_for_their_risk(
    client, settings, shops, message, rq
):
    """risk_hold: cancel | investigate | off (jobs.order_risk). A change reads the orders held for
    their fraud risk again (the import decides on the new setting); one waiting for its payment is
    left alone."""
    for wrong in ("never", "", None, True, ["off"]):
        refused = client.put("/api/setup/settings", json={"risk_hold": wrong}, headers=headers())
        assert refused.status_code == 400, wrong
        assert set(refused.get_json()["error"]["fields"]) == {"risk_hold"}, wrong
    held = message(shops.a, "orders", "order-41")
    unpaid = message(shops.a, "orders", "order-42")
    with session_scope(settings.database_url) as session:
        session.get(Message, held).error_detail = {"waiting": "risk", "recommendation": "INVESTIGATE"}
        session.get(Message, unpaid).error_detail = {"waiting": "payment", "financial_status": "PENDING"}
    saved = client.put("/api/setup/settings", json={"risk_hold": "off"}, headers=headers())
    assert saved.status_code == 200 and saved.get_json()["risk_hold"] == "off"
    assert saved.get_json()["resumed"] == 1 and queued(rq, "orders") == [("jobs.orders.replay", (held,))]
    (event,) = audit_rows(settings, shops.a, "settings.changed")
    assert (event.before, event.after) == ({"risk_hold": "cancel"}, {"risk_hold": "off"})


def test_setting_the_sales_channel_resumes_the_orders_waiting_for_it(client, shops, message, rq):
    waiting = message(shops.a, "orders", "order-9", error=MappingMissing("setting", "seq_canal_venda"))
    other = message(shops.a, "orders", "order-10", error=MappingMissing("setting", "cod_geral_oper"))
    saved = client.put("/api/setup/settings", json={"seq_canal_venda": 3}, headers=headers()).get_json()
    assert saved["resumed"] == 1 and ("jobs.orders.replay", (waiting,)) in queued(rq, "orders")
    assert ("jobs.orders.replay", (other,)) not in queued(rq, "orders")


def test_accepting_authorized_payments_resumes_the_orders_waiting_for_payment(
    client, settings, shops, message, rq
):
    """payment_confirmation paid -> authorized: an order waiting with its payment authorized goes
    now (its replay re-reads it), not at the next catch-up; other pending orders are left alone."""
    from ledger.models import Message

    waiting = message(shops.a, "orders", "order-21")
    busy = message(shops.a, "orders", "order-22")  # pending, its job running: not waiting
    elsewhere = message(shops.b, "orders", "order-21")
    with session_scope(settings.database_url) as session:
        for message_id in (waiting, elsewhere):
            session.get(Message, message_id).error_detail = {
                "waiting": "payment",
                "financial_status": "AUTHORIZED",
            }
    saved = client.put("/api/setup/settings", json={"payment_confirmation": "authorized"}, headers=headers())
    assert saved.get_json()["resumed"] == 1
    assert queued(rq, "orders") == [("jobs.orders.replay", (waiting,))]
    assert busy not in [args[0] for _, args in queued(rq, "orders")]
    again = client.put("/api/setup/settings", json={"payment_confirmation": "authorized"}, headers=headers())
    assert again.get_json()["resumed"] == 0  # unchanged: nothing to resume


def test_a_store_link_the_erp_does_not_list_is_refused_and_one_it_cannot_check_is_said(client, monkeypatch):
    """A mistyped segment was saved as typed: the prices flow then read a pair the ERP does not sell
    in, from the start. The saved connection's ERP is asked; when it cannot be (none saved yet, the
    ERP down) the link is saved on its numbers and the answer says it was not checked."""
    from shopify_app import api_upstream

    listed = {"companies": [{"nro_empresa": 1}], "segments": [{"nro_segmento": 2}], "payment_methods": []}
    monkeypatch.setattr(api_upstream, "erp_client", lambda *a, **k: object())
    monkeypatch.setattr(api_upstream, "erp_choices", lambda erp: listed)  # what the Setup page offers
    typo = client.put(
        "/api/setup/store-link", json={"nro_empresa": 77, "nro_segmento": 99}, headers=headers()
    )
    assert typo.status_code == 400
    assert typo.get_json()["error"]["fields"] == {
        "nro_empresa": "the ERP lists no company 77",
        "nro_segmento": "the ERP lists no segment 99",
    }
    assert client.get("/api/setup/store-link", headers=headers()).get_json()["configured"] is False
    good = client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 2}, headers=headers())
    assert good.status_code == 200 and good.get_json()["erp_checked"] is True
    monkeypatch.undo()  # no ERP connection saved: not checked, saved and said so
    unchecked = client.put(
        "/api/setup/store-link", json={"nro_empresa": 5, "nro_segmento": 6}, headers=headers()
    )
    assert unchecked.status_code == 200 and unchecked.get_json()["erp_checked"] is False


def test_store_link_location_mappings_and_status(client, shops, message, rq):
    parked = message(shops.a, "stock", "stock-1", error=MappingMissing("location", "3"))
    assert client.get("/api/setup/status", headers=headers()).get_json()["complete"] is False
    link = client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 2}, headers=headers())
    assert link.get_json()["configured"] is True
    body = {
        "mappings": [{"nro_empresa": 3, "location_id": "gid://shopify/Location/9", "location_name": "CD"}]
    }
    saved = save_location_set(client, body["mappings"])
    assert saved.status_code == 200 and saved.get_json()["resumed"] == 1
    assert ("jobs.stock.replay", (parked,)) in queued(rq, "catalog")
    dup = [body["mappings"][0], {"nro_empresa": 4, "location_id": "gid://shopify/Location/9"}]
    refused = save_location_set(client, dup)
    assert refused.status_code == 400 and "mappings[1].location_id" in refused.get_json()["error"]["fields"]
    # Swapping is allowed: the whole set is replaced at once.
    swap = [{"nro_empresa": 4, "location_id": "gid://shopify/Location/9"}]
    assert save_location_set(client, swap).status_code == 200
    got = client.get("/api/setup/location-mappings", headers=headers()).get_json()["mappings"]
    assert [(m["nro_empresa"], m["location_id"]) for m in got] == [(4, "gid://shopify/Location/9")]
    assert (
        client.get("/api/setup/location-mappings", headers=headers(shop=SHOP_B)).get_json()["mappings"] == []
    )
    steps = {
        s["key"]: s["done"] for s in client.get("/api/setup/status", headers=headers()).get_json()["steps"]
    }
    assert steps == {
        "erp_connection": False,
        "store_link": True,
        "location_mappings": True,
        "sales_channel": False,
        "payment_methods": False,
        "catalog_diff": False,
    }


def test_linking_the_store_resumes_orders_parked_on_their_unmapped_location(client, shops, message, rq):
    """An order whose location no company is mapped to, with no store link, parks on the location
    gid ("map the location (or link the store)", jobs.order_lookup): linking the store frees it,
    as the catch-up itself judges (jobs.order_catch_up.mapping_now_exists), so it resumes now and
    counts in `resumed`. A stock unit waiting for a company number is not freed by the link."""
    waiting = MappingMissing(
        "location",
        "gid://shopify/Location/9",
        "the order ships from location gid://shopify/Location/9, which no ERP company is mapped to, "
        "and the store is linked to no company: map the location (or link the store)",
    )
    parked = message(shops.a, "orders", "order:77", error=waiting)
    stock = message(shops.a, "stock", "stock:3:location", error=MappingMissing("location", "3"))
    message(shops.b, "orders", "order:77", error=waiting)
    reply = client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 1}, headers=headers())
    assert reply.status_code == 200 and reply.get_json()["resumed"] == 1, reply.get_json()
    assert queued(rq, "orders") == [("jobs.orders.replay", (parked,))]
    assert ("jobs.stock.replay", (stock,)) not in queued(rq, "catalog")


def test_catalog_diff_contract(client, shops, rq):
    started = client.post("/api/setup/catalog-diff", headers=headers())
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]
    assert queued(rq, "catalog") == [("jobs.catalog_diff.run", (shops.a,))]
    assert (
        client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers()).get_json()["status"] == "pending"
    )
    # Shop B cannot read shop A's dry run.
    assert client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers(shop=SHOP_B)).status_code == 404
    rq.set(f"catalog_diff:{shops.a}:{job_id}", json.dumps({"create": 3, "update": 1}))
    done = client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers(Role.VIEWER)).get_json()
    assert done == {"job_id": job_id, "status": "done", "result": {"create": 3, "update": 1}, "error": None}
    steps = {
        s["key"]: s["done"] for s in client.get("/api/setup/status", headers=headers()).get_json()["steps"]
    }
    assert steps["catalog_diff"] is True
    missing = f"catalog-diff-{shops.a}-000000000000"
    assert client.get(f"/api/setup/catalog-diff/{missing}", headers=headers()).status_code == 404


def test_every_change_writes_an_audit_row_with_before_and_after(client, settings, shops):
    client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 2}, headers=headers())
    client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 3}, headers=headers())
    save_location_set(client, [{"nro_empresa": 1, "location_id": "gid://shopify/Location/1"}])
    client.put("/api/flows/stock/schedule", json={"cron": "*/5 * * * *"}, headers=headers())
    client.post("/api/flows/stock/run", headers=headers())
    client.post("/api/setup/catalog-diff", headers=headers())
    with session_scope(settings.database_url) as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.shop_id == shops.a, AuditEvent.action != "app.installed")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.action, e.actor) for e in events] == [
        ("store_link.saved", "2"),
        ("store_link.saved", "2"),
        ("location_mappings.saved", "2"),
        ("schedule.changed", "2"),
        ("flow.run_now", "2"),
        ("catalog_diff.started", "2"),
    ]
    assert events[1].before == {"nro_empresa": 1, "nro_segmento": 2}
    assert events[1].after == {"nro_empresa": 1, "nro_segmento": 3}
    assert events[2].after == {
        "mappings": [{"nro_empresa": 1, "location_id": "gid://shopify/Location/1", "location_name": None}]
    }
    # Installing created the default schedule: the audit shows what it was.
    assert events[3].before == {"cron": "*/3 * * * *", "enabled": True}
    assert events[3].after == {"cron": "*/5 * * * *", "enabled": True}


def test_the_stored_erp_password_never_goes_to_an_address_typed_later(client, settings, shops):
    """An admin typing another host (to test, or to save) must type the password too: the stored
    one goes only to the address it was saved for."""
    body = {"base_url": "http://erp.example.test/api", "username": "integra", "password": SECRET}
    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).status_code == 200
    elsewhere = {"base_url": "http://attacker.example.test", "username": "integra"}
    tested = client.post("/api/setup/erp-connection/test", json=elsewhere, headers=headers())
    assert tested.status_code == 400 and "password" in tested.get_json()["error"]["fields"]
    saved = client.put("/api/setup/erp-connection", json=elsewhere, headers=headers())
    assert saved.status_code == 400 and "password" in saved.get_json()["error"]["fields"]
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shops.a)).one()
        assert row.base_url == "http://erp.example.test/api"


def test_the_resumed_replay_sees_the_new_payment_confirmation(
    client, settings, shops, message, rq, monkeypatch
):
    """The replays go on the queue after the change is committed: a worker taking one at once
    reads the new setting, not the old (the order then waited again until the next catch-up)."""
    import shopify_app.enqueue as enqueue

    waiting = message(shops.a, "orders", "order-21")
    with session_scope(settings.database_url) as session:
        session.get(Message, waiting).error_detail = {"waiting": "payment", "financial_status": "AUTHORIZED"}
    seen: list[str] = []
    real = enqueue.enqueue_replay

    def enqueue_and_run_at_once(msg, conn=None):
        found = real(msg, conn)
        # what an idle worker's replay reads the moment the job is on the queue
        with session_scope(settings.database_url) as session:
            shop = session.get(Shop, msg.shop_id)
            seen.append(shop_settings.effective(shop)["payment_confirmation"])
        return found

    monkeypatch.setattr(enqueue, "enqueue_replay", enqueue_and_run_at_once)
    saved = client.put("/api/setup/settings", json={"payment_confirmation": "authorized"}, headers=headers())
    assert saved.get_json()["resumed"] == 1
    assert seen == ["authorized"], seen


def test_a_location_set_saved_from_a_stale_page_is_refused_not_dropping_another_admins_line(
    client, settings, shops
):
    """Two admins open the Setup page on {1 -> L1}. A maps company 3 to L3 and saves; B, still on
    the old page, maps company 2 to L2 and saves the set his page holds. The PUT replaces the whole
    set, so without a version B's save deleted company 3's line and an order fulfilled at L3 went to
    the store link's company. The GET answers the set's version, the PUT sends it back: B's stale
    save is a 409 in words ("reload"), A's line stays, and an L3 order ships from company 3."""
    from jobs.order_lookup import company_for
    from ledger.models import LocationMapping

    l1, l2, l3 = (f"gid://shopify/Location/{n}" for n in (101, 102, 103))
    client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 1}, headers=headers())
    first = [{"nro_empresa": 1, "location_id": l1, "location_name": "Centro"}]
    assert save_location_set(client, first).status_code == 200
    seen_by_b = client.get("/api/setup/location-mappings", headers=headers()).get_json()
    a = [*first, {"nro_empresa": 3, "location_id": l3, "location_name": "Sul"}]
    saved_by_a = save_location_set(client, a)
    assert saved_by_a.status_code == 200
    after_a = client.get("/api/setup/location-mappings", headers=headers()).get_json()
    assert saved_by_a.get_json()["version"] == after_a["version"] != seen_by_b["version"]
    b = [{k: m[k] for k in ("nro_empresa", "location_id", "location_name")} for m in seen_by_b["mappings"]]
    b.append({"nro_empresa": 2, "location_id": l2, "location_name": "Norte"})
    stale = client.put(
        "/api/setup/location-mappings",
        json={"version": seen_by_b["version"], "mappings": b},
        headers=headers(),
    )
    assert stale.status_code == 409, stale.get_json()
    error = stale.get_json()["error"]
    assert error["code"] == "location_mappings_changed"
    assert "reload" in error["message"]
    for lang, words in (("en", "reload"), ("pt-BR", "recarregue")):
        catalogue = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert words in catalogue["error.code.location_mappings_changed"]
    with session_scope(settings.database_url) as session:
        mapped = {r.nro_empresa: r.location_id for r in session.scalars(select(LocationMapping))}
        assert mapped == {1: l1, 3: l3}
        assert company_for(session, shops.a, [l3]) == 3
    # B reloads (a new version) and saves his line on top of A's.
    assert save_location_set(client, [*a, b[-1]]).status_code == 200
    # A line changed on the De:Para page changes the set the Setup page shows: its version too.
    before = client.get("/api/setup/location-mappings", headers=headers()).get_json()["version"]
    line = {"kind": "location", "shopify_code": l2, "erp_code": "4"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    assert client.get("/api/setup/location-mappings", headers=headers()).get_json()["version"] != before
    # The version is required: a save that does not say which set it replaces is refused.
    unversioned = client.put("/api/setup/location-mappings", json={"mappings": a}, headers=headers())
    assert unversioned.status_code == 400
    assert unversioned.get_json()["error"]["fields"] == {"version": "is required"}


def test_a_company_or_segment_the_erp_does_not_list_is_refused_on_a_location_or_market_line(
    client, monkeypatch
):
    """The stock flow goes by the companies the ERP lists: a location mapped to a mistyped company
    (77 for 7) was never written, nor said. The location set and the De:Para location and segment
    <-> market lines ask the ERP as the store link does (a company mapped before stays, whatever the
    ERP lists now); a market line's Shopify side must be a market."""
    from shopify_app import api_upstream

    listed = {"companies": [{"nro_empresa": 1}], "segments": [{"nro_segmento": 2}], "payment_methods": []}
    monkeypatch.setattr(api_upstream, "erp_client", lambda *a, **k: object())
    monkeypatch.setattr(api_upstream, "erp_choices", lambda erp: listed)
    location = "gid://shopify/Location/9"
    typo = save_location_set(client, [{"nro_empresa": 77, "location_id": location}])
    assert typo.status_code == 400
    assert typo.get_json()["error"]["fields"] == {"mappings[0].nro_empresa": "the ERP lists no company 77"}
    line = {"kind": "location", "shopify_code": location, "erp_code": "77"}
    refused = client.put("/api/mappings", json=line, headers=headers())
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"] == {"erp_code": "the ERP lists no company 77"}
    market = {"kind": "segment_market", "shopify_code": "gid://shopify/Market/5", "erp_code": "1:99"}
    refused = client.put("/api/mappings", json=market, headers=headers())
    assert refused.get_json()["error"]["fields"] == {"erp_code": "the ERP lists no segment 99"}
    named = client.put(
        "/api/mappings", json={**market, "shopify_code": "Brasil", "erp_code": "1:2"}, headers=headers()
    )
    assert (
        named.status_code == 400
        and "one of the shop's markets" in named.get_json()["error"]["fields"]["shopify_code"]
    )
    assert (
        client.put("/api/mappings", json={**market, "erp_code": "1:2"}, headers=headers()).status_code == 200
    )

    ten_digits = save_location_set(client, [{"nro_empresa": 1_234_567_890, "location_id": location}])
    assert ten_digits.get_json()["error"]["fields"] == {
        "mappings[0].nro_empresa": "must be between 1 and 999999999"
    }
    csv_text = f"shopify_code,erp_code,label\n{location},77,\ngid://shopify/Market/6,1:99,\n"
    imported = client.post(
        "/api/mappings/import", json={"kind": "location", "csv": csv_text}, headers=headers()
    )
    assert imported.get_json()["errors"][0] == {"line": 2, "message": "the ERP lists no company 77"}
    markets = client.post(
        "/api/mappings/import",
        json={"kind": "segment_market", "csv": "shopify_code,erp_code,label\ngid://shopify/Market/6,1:99,\n"},
        headers=headers(),
    )
    assert markets.get_json()["errors"] == [{"line": 2, "message": "the ERP lists no segment 99"}]
    assert save_location_set(client, [{"nro_empresa": 1, "location_id": location}]).status_code == 200
    listed["companies"] = [{"nro_empresa": 3}]  # company 1 closed in the ERP since: its line stays
    other = "gid://shopify/Location/10"
    kept = save_location_set(
        client, [{"nro_empresa": 1, "location_id": location}, {"nro_empresa": 3, "location_id": other}]
    )
    assert kept.status_code == 200, kept.get_json()


def test_the_first_connection_saved_to_another_erp_than_the_fallback_it_ran_on_is_a_move(
    client, settings, shops, monkeypatch
):
    """A shop with no saved connection runs on the environment's ERP (the demo's, a non-production
    embedded app's: erp.factory). Saving a connection to another ERP kept every cursor of the first:
    the new ERP was read from the old one's change times, missing what changed before them."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from erp.factory import erp_address
    from ledger.models import Watermark

    monkeypatch.setenv("CONSINCO_USER", "demo")
    monkeypatch.setenv("CONSINCO_PASSWORD", "demo")
    assert erp_address(None) is not None  # the fallback the flows ran on
    with session_scope(settings.database_url) as session:
        for flow, scope in (("stock", "1"), ("prices", "1:2"), ("products", "")):
            when = datetime(2026, 11, 1, tzinfo=UTC)
            session.add(Watermark(shop_id=shops.a, flow=flow, scope=scope, last_changed_at=when, page=0))
    body = {"base_url": "https://erp-producao.example.com.br/api", "username": "u", "password": "p"}
    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Watermark).where(Watermark.shop_id == shops.a)).all() == []


def test_the_store_link_takes_a_company_of_9_digits_at_most_as_every_setup_field(client, shops):
    """A company number is 1 to 9 digits everywhere (a location line, the location set, companies
    not sold): the store link took 1234567890 with the ERP unreachable, a company that could then
    never be given a location."""
    reply = client.put(
        "/api/setup/store-link", json={"nro_empresa": 1234567890, "nro_segmento": 1}, headers=headers()
    )
    assert reply.status_code == 400
    assert reply.get_json()["error"]["fields"] == {"nro_empresa": "must be between 1 and 999999999"}
    assert client.get("/api/setup/store-link", headers=headers()).get_json()["configured"] is False


def test_a_payment_method_the_erp_does_not_list_is_refused_on_a_line_and_in_a_csv(client, monkeypatch):
    """The ERP lists its payment forms (the form's picker reads them): a line typed "99" for "9"
    (or imported from a spreadsheet) was saved, and every order paid so then failed at the ERP
    (FORMAPAGTO_INVALIDA). Asked as a company is; saved unchecked when the ERP cannot be asked."""
    from shopify_app import api_upstream

    listed = {"companies": [], "segments": [], "payment_methods": [{"nro_forma_pagto": 9}]}
    monkeypatch.setattr(api_upstream, "erp_client", lambda *a, **k: object())
    monkeypatch.setattr(api_upstream, "erp_choices", lambda erp: listed)
    line = {"kind": "payment_method", "shopify_code": "Pix", "erp_code": "99"}
    refused = client.put("/api/mappings", json=line, headers=headers())
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"] == {"erp_code": "the ERP lists no payment method 99"}
    assert client.put("/api/mappings", json={**line, "erp_code": "09"}, headers=headers()).status_code == 200
    csv_text = "shopify_code;erp_code\nBoleto;0\nCartão;9\n"
    imported = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": csv_text}, headers=headers()
    ).get_json()
    assert imported["errors"] == [{"line": 2, "message": "the ERP lists no payment method 0"}]
    assert imported["created"] == 1
    listed["payment_methods"] = []  # form 9 closed in the ERP since: a label change keeps the line
    relabelled = client.put(
        "/api/mappings", json={**line, "erp_code": "9", "label": "Pix"}, headers=headers()
    )
    assert relabelled.status_code == 200

    def down(erp):
        raise api_upstream.ApiError(502, "consinco_unreachable", "the ERP is down")

    monkeypatch.setattr(api_upstream, "erp_choices", down)
    unchecked = client.put(
        "/api/mappings", json={**line, "shopify_code": "Vale", "erp_code": "7"}, headers=headers()
    )
    assert unchecked.status_code == 200


def test_setup_is_complete_only_once_the_connection_logged_in_and_payments_are_mapped(
    client, shops, rq, settings
):
    """Every badge turned green for a store whose saved connection never logged in (its own Test said
    it failed) and that had no payment De:Para line: every paid order parked on its gateway."""
    body = {"base_url": "http://erp.example.test/api", "username": "integra", "password": "wrong"}
    assert client.put("/api/setup/erp-connection", json=body, headers=headers()).status_code == 200
    client.put("/api/setup/store-link", json={"nro_empresa": 1, "nro_segmento": 1}, headers=headers())
    save_location_set(client, [{"nro_empresa": 1, "location_id": "gid://shopify/Location/9"}])
    client.put("/api/setup/settings", json={"seq_canal_venda": 3, "cod_geral_oper": 207}, headers=headers())
    job_id = client.post("/api/setup/catalog-diff", headers=headers()).get_json()["job_id"]
    rq.set(f"catalog_diff:{shops.a}:{job_id}", '{"create": 3, "update": 0}')

    def status() -> tuple[dict[str, bool], bool]:
        got = client.get("/api/setup/status", headers=headers()).get_json()
        return {s["key"]: s["done"] for s in got["steps"]}, got["complete"]

    steps, complete = status()
    assert (steps["erp_connection"], steps["payment_methods"], complete) == (False, False, False)
    line = {"kind": "payment_method", "shopify_code": "Pix", "erp_code": "1"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:  # a login with what is saved (erp.factory.verified)
        connection = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shops.a)).one()
        connection.verified_at = utcnow()
    steps, complete = status()
    assert all(steps.values()) and complete
