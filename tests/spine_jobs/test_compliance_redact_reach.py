"""customers/redact and customers/data_request against stored deliveries shaped unlike the usual:
what the customer typed into the order's attributes, and a body nested too deep to walk."""

from __future__ import annotations

import contextlib

import pytest

from jobs import inbox
from ledger.db import session_scope
from ledger.models import InboxStatus, WebhookInbox
from tests.spine_jobs.conftest import SHOP
from tests.spine_jobs.test_compliance_handlers import every_value, work

EMAIL = "maria.souza@example.com"
CUSTOMER = {"id": 7001, "email": EMAIL}


def test_customer_redact_removes_what_the_customer_typed_into_the_order_attributes(shop_id, deliver, rconn):
    """note_attributes (and a line's properties) are {name, value} pairs of what the buyer typed at
    checkout: a recipient, a contact phone, a CPF for the invoice typed half-formatted. The inbox
    keeps the delivery (a failed one for ever): the values go, the store's attribute names stay."""
    body = {
        "id": 9001,
        "name": "#1001",
        "email": EMAIL,
        "admin_graphql_api_id": "gid://shopify/Order/9001",
        "customer": {"id": 7001, "email": EMAIL, "first_name": "Maria"},
        "note_attributes": [
            {"name": "Quem vai receber", "value": "Joaquim Souza"},
            {"name": "Telefone para contato", "value": "(11) 98765-4321"},
            {"name": "CPF na nota", "value": "529982247-25"},
        ],
        "line_items": [
            {"id": 1, "name": "Bolo", "properties": [{"name": "Dedicatória", "value": "Para Joaquim"}]}
        ],
    }
    deliver("orders/create", body)
    redact = {
        "shop_domain": SHOP,
        "customer": {**CUSTOMER, "phone": "+5511987654321"},
        "orders_to_redact": [9001],
    }
    deliver("customers/redact", redact)
    work(rconn)
    after = every_value()
    left = [
        v for v in (EMAIL, "Joaquim Souza", "(11) 98765-4321", "529982247-25", "Para Joaquim") if v in after
    ]
    assert left == [], left
    assert "Quem vai receber" in after and "Dedicat" in after  # the store's own words (JSON escapes the ó)


def _nested_body(depth: int) -> bytes:
    return b'{"customer": {"email": "' + EMAIL.encode() + b'"}, "x": ' + b"[" * depth + b"]" * depth + b"}"


def _run(inbox_id: int) -> WebhookInbox:
    with contextlib.suppress(Exception):  # a bug is re-raised after the row is marked: the row says
        inbox.process(inbox_id)
    with session_scope() as session:
        return session.get(WebhookInbox, inbox_id)


# 600: a body the receiver accepted (its JSON parses); 100000: one it kept as rejected (too deep)
@pytest.mark.parametrize("depth", [600, 100_000])
@pytest.mark.parametrize("topic", ["customers/redact", "customers/data_request"])
def test_a_deep_stored_body_does_not_fail_the_shops_privacy_requests(shop_id, deliver, rconn, depth, topic):
    """The privacy code walks a stored body recursively: one nested past the recursion limit failed
    the shop's every redact and data request as a bug, each Retry the same. Read as text, it is
    found by the customer's e-mail and scrubbed."""
    kept = deliver("orders/create", _nested_body(depth)).json["inbox_id"]
    payload = {"shop_id": 1, "shop_domain": SHOP, "customer": CUSTOMER}
    if topic == "customers/redact":
        payload["orders_to_redact"] = []
    else:
        payload |= {"orders_requested": [], "data_request": {"id": 1}}
    row = _run(deliver(topic, payload).json["inbox_id"])
    assert row.status == InboxStatus.PROCESSED.value, (row.status, row.reason)
    if topic == "customers/redact":
        with session_scope() as session:
            assert EMAIL.encode() not in bytes(session.get(WebhookInbox, kept).raw_body)
