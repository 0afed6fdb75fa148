"""Messages: search by any external id, detail with PII masked below admin and the error
explained, retry / replay / retry all failed enqueue the flow's replay job, all audited."""

from __future__ import annotations

from spine_auth.factories import SHOP_B
from sqlalchemy import select

from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.models import AuditEvent, Role

from .conftest import headers, queued

NFE_KEY = "35260412345678000195550010000012341000012345"
CUSTOMER = {
    "customer": {"email": "ana.souza@example.com", "firstName": "Ana", "lastName": "Souza"},
    "clienteDto": {"cpfCnpj": "52998224725", "nomeRazaoSocial": "Ana Souza"},
    "name": "#1001",
}


def ids(client, query: str, role: Role = Role.VIEWER, shop: str | None = None) -> list[int]:
    extra = {"shop": shop} if shop else {}
    response = client.get(f"/api/messages?{query}", headers=headers(role, **extra))
    assert response.status_code == 200, response.get_json()
    return [m["id"] for m in response.get_json()["messages"]]


def test_search_by_sku_order_name_nropedvenda_and_nfe_key(client, shops, message):
    sku = message(shops.a, "skus", "sku-7891000100103", search=("7891000100103",), done=True)
    order = message(
        shops.a,
        "orders",
        "order-1001",
        shopify_id="gid://shopify/Order/55",
        erp_id="880123",
        search=("#1001",),
        done=True,
    )
    invoice = message(shops.a, "invoices", "nfe-1", search=(NFE_KEY, "880123"), done=True)
    message(shops.b, "orders", "order-1001", search=("#1001",), done=True)
    assert ids(client, "q=7891000100103") == [sku]
    assert ids(client, "q=%231001") == [order]
    assert ids(client, "q=880123") == [invoice, order]
    assert ids(client, f"q={NFE_KEY}") == [invoice]
    assert ids(client, "q=880123&flow=invoices") == [invoice]
    assert ids(client, "status=done&limit=1") == [invoice]
    assert ids(client, f"before_id={invoice}") == [order, sku]
    assert client.get("/api/messages?status=bogus", headers=headers()).status_code == 400


def test_pii_is_masked_for_a_viewer_and_revealed_for_an_admin(client, shops, message):
    message_id = message(shops.a, "orders", "order-1001", request=CUSTOMER, done=True)
    seen_by_viewer = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER)).get_json()
    text = str(seen_by_viewer["request_payload"])
    assert seen_by_viewer["pii_masked"] is True
    assert "ana.souza@example.com" not in text and "52998224725" not in text and "Souza" not in text
    assert seen_by_viewer["request_payload"]["name"] == "#1001"  # an order name is not PII
    seen_by_admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN)).get_json()
    assert seen_by_admin["pii_masked"] is False and seen_by_admin["request_payload"] == CUSTOMER
    assert client.get(f"/api/messages/{message_id}", headers=headers(shop=SHOP_B)).status_code == 404


def test_the_explanation_masks_the_systems_words_for_a_viewer(client, shops, message):
    """The explanation block repeats the system's message: a viewer sees it masked there too."""
    refused = Rejected("CPF 529.982.247-25 invalido (ana.souza@example.com)", system="consinco", code="X")
    message_id = message(shops.a, "orders", "order:1", error=refused)
    seen_by_viewer = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER)).get_json()
    words = seen_by_viewer["explanation"]["system_message"] or ""
    assert words and "529.982.247-25" not in words and "ana.souza@example.com" not in words
    seen_by_admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN)).get_json()
    assert "529.982.247-25" in seen_by_admin["explanation"]["system_message"]


def test_error_explained_in_the_merchants_language(client, shops, message):
    refused = message(
        shops.a,
        "orders",
        "o-1",
        error=Rejected("Pedido já faturado", system="consinco", code="PEDIDO_FATURADO"),
    )
    parked = message(shops.a, "orders", "o-2", error=MappingMissing("payment_method", "pix"))
    pt = client.get(f"/api/messages/{refused}", headers=headers()).get_json()["explanation"]
    assert pt["system"] == "consinco" and pt["system_message"] == "Pedido já faturado"
    assert "faturado" in pt["what_happened"] and pt["code"] == "PEDIDO_FATURADO"
    en = client.get(f"/api/messages/{refused}?locale=en", headers=headers()).get_json()["explanation"]
    assert "invoiced" in en["what_happened"]
    waiting = client.get(f"/api/messages/{parked}", headers=headers()).get_json()
    assert waiting["explanation"]["mapping"] == {"kind": "payment_method", "code": "pix"}
    assert "pix" in waiting["explanation"]["what_happened"] and waiting["can_retry"] is True
    english = client.get(
        f"/api/messages/{parked}", headers=headers(**{"Accept-Language": "en-US,en"})
    ).get_json()
    assert english["locale"] == "en" and "mapping" in english["explanation"]["what_to_do"]


def test_retry_and_replay_follow_the_status_and_are_audited(client, settings, shops, message, rq):
    failed = message(shops.a, "orders", "o-1", error=Rejected("no", system="consinco"))
    done = message(shops.a, "skus", "s-1", done=True)
    retried = client.post(f"/api/messages/{failed}/retry", headers=headers(Role.OPERATOR))
    assert retried.status_code == 202 and retried.get_json()["enqueued"] is True
    assert client.post(f"/api/messages/{failed}/replay", headers=headers(Role.OPERATOR)).status_code == 409
    assert client.post(f"/api/messages/{done}/retry", headers=headers(Role.OPERATOR)).status_code == 409
    assert client.post(f"/api/messages/{done}/replay", headers=headers(Role.OPERATOR)).status_code == 202
    assert client.post(f"/api/messages/{done}/replay", headers=headers(shop=SHOP_B)).status_code == 404
    assert queued(rq, "orders") == [("jobs.orders.replay", (failed,))]
    assert queued(rq, "catalog") == [("jobs.skus.replay", (done,))]
    with session_scope(settings.database_url) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("message.%")).order_by(AuditEvent.id)
        )
        assert [(e.action, e.target, e.actor) for e in events] == [
            ("message.retry", f"message:{failed}", "3"),
            ("message.replay", f"message:{done}", "3"),
        ]


def test_retry_failed_enqueues_one_job_per_failed_message_of_the_flow(client, shops, message, rq):
    failed = [message(shops.a, "orders", f"o-{n}", error=Rejected("no", system="consinco")) for n in range(3)]
    message(shops.a, "orders", "o-parked", error=MappingMissing("carrier", "x"))
    message(shops.a, "orders", "o-done", done=True)
    message(shops.a, "invoices", "i-1", error=Rejected("no", system="shopify"))
    message(shops.b, "orders", "o-b", error=Rejected("no", system="consinco"))
    response = client.post("/api/messages/retry-failed?flow=orders", headers=headers(Role.OPERATOR))
    assert response.status_code == 202
    assert response.get_json() == {"flow": "orders", "enqueued": 3, "message_ids": failed}
    assert sorted(queued(rq, "orders")) == sorted(("jobs.orders.replay", (m,)) for m in failed)
    assert client.post("/api/messages/retry-failed", headers=headers()).status_code == 400
