"""Mark as handled on an order's note itself: a note no parked or failed message stands behind (an
invoice's capture warning, "order_edits (fulfilled lines)" and "(lowered lines)", a cancellation's
"NF-e cancelled in the ERP after invoicing") had no way to be closed, so an order a person dealt with
stayed "needs attention" for ever. An operator closes it from the order with a note: only that slot
goes, every other note stays, audited as order.note_handled; the flow may write it again."""

from __future__ import annotations

from ledger import order_notes
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import AuditEvent, OrderLink, Role

from .conftest import headers
from .test_api_orders_admin import seed_order

GID = "gid://shopify/Order/1001"
CAPTURE = "invoices: the NF-e total 120.00 is 20.00 above what the customer paid: refund 20.00"
FULFILLED = "item 3 was fulfilled in Shopify before the ERP's picking cut it"
LOWERED = "item 4 was lowered in Shopify below what the ERP picked"
CANCELLED = "cancellations: NF-e 3526 was cancelled in the ERP after invoicing (event #9)"


def _noted(settings, shop_id: int) -> int:
    order = seed_order(settings, shop_id, "#1001", 555)
    with session_scope(settings.database_url) as session:
        link = session.get(OrderLink, order)
        money = order_notes.money
        said = {"nfe": ("the_nfe", {}), "invoiced": money(120), "held_back": money(20), "total": money(100)}
        order_notes.put(link, "invoices", CAPTURE, words=("capture_above_total", said))
        order_notes.put(link, "order_edits", FULFILLED, topic="fulfilled lines")
        order_notes.put(link, "order_edits", LOWERED, topic="lowered lines")
        order_notes.put(link, "cancellations", CANCELLED)
    return order


def _post(client, order: int, body: dict, role: Role = Role.OPERATOR):
    return client.post(f"/api/orders/{order}/notes/handled", json=body, headers=headers(role))


def _labels(settings, order: int) -> list[str]:
    with session_scope(settings.database_url) as session:
        return [n.label for n in order_notes.notes(session.get(OrderLink, order))]


def test_a_note_with_no_message_is_marked_handled_alone_and_audited(client, settings, shops):
    """The invoice capture warning (a refund owed) is closed by a person: that slot and its words go,
    the cancellation's and both order_edits topics' notes stay, the audit names the slot, never its
    words; the flow writes it again if the problem comes back."""
    order = _noted(settings, shops.a)
    shown = client.get(f"/api/orders/{order}", headers=headers(Role.VIEWER)).get_json()["attention_notes"]
    assert [(n["label"], n["message_id"]) for n in shown] == [
        ("cancellations", None),
        ("invoices", None),
        ("order_edits (fulfilled lines)", None),
        ("order_edits (lowered lines)", None),
    ]

    note = "refunded R$ 20,00 to the customer in Shopify"
    answer = _post(client, order, {"label": "invoices", "note": f" {note} "})
    assert answer.status_code == 200, answer.get_json()
    assert [n["label"] for n in answer.get_json()["attention_notes"]] == [
        "cancellations",
        "order_edits (fulfilled lines)",
        "order_edits (lowered lines)",
    ]
    with session_scope(settings.database_url) as session:
        link = session.get(OrderLink, order)
        assert order_notes.note_of(link, "invoices") is None
        assert "invoices" not in (link.attention_words or {})
        assert order_notes.note_of(link, "order_edits", topic="fulfilled lines").endswith(FULFILLED)
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "order.note_handled").all()
        assert (event.actor, event.target) == ("3", f"order:{order}")
        assert event.after == {"note": note, "notes_cleared": ["invoices"]}
        assert "refund" not in str(event.before) + str(event.after).replace(note, "")
        order_notes.put(link, "invoices", CAPTURE)  # the problem back: the flow says it again
    assert "invoices" in _labels(settings, order)

    rest = ("order_edits (fulfilled lines)", "order_edits (lowered lines)", "cancellations", "invoices")
    for label in rest:
        assert _post(client, order, {"label": label, "note": "dealt with"}).status_code == 200, label
    listed = client.get("/api/orders?status=needs_attention", headers=headers()).get_json()["orders"]
    assert listed == []  # off "needs attention" once every note is closed


def test_only_operators_with_a_note_close_a_note_of_their_shops_order(client, settings, shops):
    order = _noted(settings, shops.a)
    other = _noted(settings, shops.b)
    assert _post(client, order, {"label": "invoices", "note": "done"}, Role.VIEWER).status_code == 403
    for body in (
        {"label": "invoices"},
        {"label": "invoices", "note": "   "},
        {"label": "invoices", "note": "x" * 501},
        {"note": "done"},
        {"label": "invoices", "note": "ok", "extra": 1},
    ):
        assert _post(client, order, body).status_code == 400, body
    assert _post(client, other, {"label": "invoices", "note": "not mine"}).status_code == 404
    gone = _post(client, order, {"label": "invoices (ERP event #12)", "note": "no such note"})
    assert gone.status_code == 409 and gone.get_json()["error"]["code"] == "note_gone"
    assert len(_labels(settings, order)) == 4
    with session_scope(settings.database_url) as session:
        assert session.query(AuditEvent).filter(AuditEvent.action == "order.note_handled").count() == 0


def test_a_note_a_failed_message_stands_behind_is_closed_on_that_message(client, settings, shops, message):
    """Closing the note alone would leave its message failed, shown as the same note again: the API
    names the message whose Mark as handled closes both, and keeps the note."""
    order = _noted(settings, shops.a)
    refused = Rejected("ERP order 555 is invoiced: cancel the NF-e", system="app", code="PEDIDO_FATURADO")
    mid = message(shops.a, "cancellations", "order:1001", shopify_id=GID, error=refused)
    answer = _post(client, order, {"label": "cancellations", "note": "NF-e cancelled"})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "note_has_message"
    assert answer.get_json()["error"]["message_id"] == mid
    assert "cancellations" in _labels(settings, order)
    assert _post(client, order, {"label": "invoices", "note": "refunded"}).status_code == 200
