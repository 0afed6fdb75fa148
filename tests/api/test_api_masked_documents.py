"""CPFs a viewer must not read whole: one typed half-formatted in a person's note, and the ERP's
customer's read back as a number (its leading zero lost) in the audit of a hand link."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spine_auth.factories import SHOP_A
from sqlalchemy import select

from ledger import privacy
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import AuditEvent, OrderLink, Role, Shop
from ledger.order_link_by_hand import ErpOrder, ShopifyOrder, mismatch
from tests.api.conftest import headers

ERP_CPF = "2998224725"  # 029.982.247-25 as the ERP reads NROCGCCPF back (a number: its leading zero lost)
BUYER = "52998224725"


@pytest.mark.parametrize("cpf", ["529982247-25", "529 982 247 25", "529.982.247 25"])
def test_a_viewer_does_not_see_a_cpf_typed_half_formatted_in_a_handled_note(client, shops, message, cpf):
    mid = message(
        shops.a,
        error=Rejected("ERP refused the customer", system="consinco", code="X"),
        shopify_id="gid://shopify/Order/9001",
    )
    note = f"cliente confirmou CPF {cpf} por telefone"
    answer = client.post(f"/api/messages/{mid}/handled", json={"note": note}, headers=headers(Role.OPERATOR))
    assert answer.status_code == 200, answer.data[:300]
    shown = client.get(f"/api/messages/{mid}", headers=headers(Role.VIEWER)).get_json()["handled"]["note"]
    assert cpf not in shown and shown.endswith("por telefone"), shown
    admin = client.get(f"/api/messages/{mid}", headers=headers(Role.ADMIN)).get_json()["handled"]["note"]
    assert admin == note


def _audited_hand_link(shop_id: int) -> None:
    """What POST /api/orders/<id>/erp-order with confirm_buyer audits (api_orders.link_erp_order)."""
    differs = mismatch(
        ErpOrder(77, 1, "A", 1, None, cpf_cnpj=ERP_CPF, total=Decimal("10")),
        ShopifyOrder(frozenset({BUYER}), Decimal("10")),
    )
    assert differs is not None
    with session_scope() as session:
        link = OrderLink(
            shop_id=shop_id, shopify_order_id="gid://shopify/Order/9001", shopify_order_name="#1001"
        )
        session.add(link)
        session.flush()
        after = {"nro_pedvenda": 77, "buyer_confirmed": True, "buyer_differs": differs.text}
        session.add(
            AuditEvent(
                shop_id=shop_id,
                shop_domain=SHOP_A,
                actor="3",
                action="order.erp_linked",
                target=f"order:{link.id}",
                before={"nro_pedvenda": None},
                after=after,
            )
        )


def test_a_viewer_sees_the_erp_customers_cpf_masked_in_the_audit(client, shops):
    _audited_hand_link(shops.a)
    events = client.get("/api/audit", headers=headers(Role.VIEWER)).get_json()["events"]
    [event] = [e for e in events if e["action"] == "order.erp_linked"]
    shown = event["after"]["buyer_differs"]
    assert BUYER not in shown and ERP_CPF not in shown, shown


def test_customers_redact_removes_the_erp_customers_cpf_from_the_audit(shops):
    _audited_hand_link(shops.a)
    with session_scope() as session:
        ref = privacy.CustomerRef.from_payload(
            {"customer": {"id": 1, "email": "x@example.com"}, "orders_to_redact": [9001]}, "orders_to_redact"
        )
        privacy.redact_customer(session, session.get(Shop, shops.a), ref)
    with session_scope() as session:
        after = session.scalar(select(AuditEvent).where(AuditEvent.action == "order.erp_linked")).after
    assert BUYER not in str(after) and ERP_CPF not in str(after), after
