"""customers/redact scrubbed free texts (a message's error_text, an order's note, a line change's
reason, a schedule's last error, an inbox row's reason) only of the values it knew (the request's
e-mail and phone, refused typed CPFs), e-mails and CPF-shaped tokens; never her name, though the
ledger holds it (her orders/create body: customer.first_name/last_name, shipping_address.name): an ERP
refusal quoting her register's name kept it (its CPF beside it scrubbed). Her names are known now."""

from __future__ import annotations

import json

from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import Message, WebhookInbox, utcnow
from tests.spine_jobs.conftest import SHOP
from tests.spine_jobs.test_compliance_handlers import work

EMAIL = "maria.souza@example.com"
ORDER_GID = "gid://shopify/Order/9001"


def test_her_name_quoted_by_the_erps_refusal_goes_with_customers_redact(shop_id, deliver, rconn):
    order = {
        "id": 9001,
        "name": "#1001",
        "email": EMAIL,
        "customer": {"id": 7001, "first_name": "Maria", "last_name": "Souza", "email": EMAIL},
        "shipping_address": {"name": "Maria Souza", "address1": "Rua das Flores, 1"},
    }
    with session_scope() as session:  # her orders/create delivery, processed
        session.add(
            WebhookInbox(
                webhook_id="w-1",
                topic="orders/create",
                shop_domain=SHOP,
                headers={},
                raw_body=json.dumps(order).encode(),
                status="processed",
                received_at=utcnow(),
                processed_at=utcnow(),
            )
        )
    with session_scope() as session:
        session.add(
            Message(
                shop_id=shop_id,
                flow="orders",
                direction="shopify_to_erp",
                unit_key="order:9001",
                shopify_id=ORDER_GID,
                status="failed",
                search_text="#1001",
                error_text="Consinco PedidoVenda refused: cliente 529.982.247-25 MARIA SOUZA "
                "bloqueado para venda (GE_PESSOA)",
            )
        )
    deliver(
        "customers/redact",
        {"shop_domain": SHOP, "customer": {"id": 7001, "email": EMAIL}, "orders_to_redact": [9001]},
    )
    work(rconn)
    with session_scope() as session:
        text = session.scalar(select(Message.error_text).where(Message.shopify_id == ORDER_GID))
    assert "529.982.247-25" not in text  # the CPF beside it went
    assert "MARIA SOUZA" not in text.upper(), text
