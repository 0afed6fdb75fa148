"""A viewer (every staff member's default role) must not read the customer's delivery address, name
and phone: the address flag's text ends with the new delivery as obsPedido names it ("New delivery
text: Entrega: <name>, <street>, <city>, CEP <zip>, <phone>", in pt-BR "Novo texto de entrega:
..."), free text masked once only for e-mails and CPF/CNPJ (ledger.masking.mask_text), although
the same values under their keys in a payload are masked for viewers. Messages and Orders, both
languages; admins still read it."""

from __future__ import annotations

import json

from api.conftest import headers
from ledger import order_notes
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import OrderLink, Role
from ledger.privacy import NEW_DELIVERY

PART = "Entrega: Maria Aparecida Souza, Rua das Flores, 1234, Sao Paulo/SP, CEP 01310-100, +55 11 98765-4321"
EXPLANATION = (
    "The delivery address of order #1001 was changed in Shopify, but ERP order 77 is being picked, so it "
    "was NOT changed in the ERP. A person must tell the picking and delivery team the new address, then "
    f"Mark as handled. {NEW_DELIVERY} {PART}"
)


def test_a_viewer_does_not_read_the_customers_delivery_address(client, shops, message):
    error = Rejected(
        EXPLANATION,
        system="app",
        code="PEDIDO_EM_SEPARACAO",
        words=("address_not_sent", {"name": "#1001", "nro": 77, "delivery": PART}),
    )
    message_id = message(shops.a, "order_edits", "address:1001", error=error)

    viewer = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER))
    admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN))

    assert viewer.status_code == 200 and admin.status_code == 200
    assert "Rua das Flores" in json.dumps(admin.get_json())  # admins see it: fine
    shown = json.dumps(viewer.get_json(), ensure_ascii=False)
    assert viewer.get_json()["pii_masked"] is True
    assert not _leaked(shown), _leaked(shown)
    pt = client.get(f"/api/messages/{message_id}?locale=pt-BR", headers=headers(Role.VIEWER)).get_json()
    assert not _leaked(json.dumps(pt, ensure_ascii=False)), pt


def _leaked(shown: str) -> list[str]:
    return [v for v in ("Aparecida Souza", "Rua das Flores", "01310-100", "98765-4321") if v in shown]


def test_a_viewer_does_not_read_it_in_an_orders_note(client, settings, shops):
    words = ("address_not_sent", {"name": "#1001", "nro": 77, "state": ("state_other", {"situacao": "S"}),
                                  "advice": ("address_todo_picking", {}), "delivery": PART})  # fmt: skip
    with session_scope(settings.database_url) as session:
        gid = "gid://shopify/Order/1001"
        link = OrderLink(shop_id=shops.a, shopify_order_id=gid, shopify_order_name="#1001", nro_pedvenda=77)
        session.add(link)
        session.flush()
        order_notes.put(link, "order_edits", EXPLANATION, words=words)
        link_id = link.id

    def shown(role: Role, where: str) -> str:
        got = client.get(f"/api/orders/{link_id}?locale={where}", headers=headers(role))
        assert got.status_code == 200
        return json.dumps(got.get_json(), ensure_ascii=False)

    for where in ("pt-BR", "en"):
        assert "Rua das Flores" in shown(Role.ADMIN, where)
        viewer = shown(Role.VIEWER, where)
        assert not _leaked(viewer), (where, viewer)
    assert "Novo texto de entrega: ***" in shown(Role.VIEWER, "pt-BR")
