"""Mark as handled: a failure a person settled outside the app (the order entered in the ERP by
hand, a picking fixed in Shopify), which a Retry only sees refused again, is closed for good with a
note: skipped, its error kept, who / when / why audited, its order's note of it cleared, off the
Orders page's "Needs attention" and the dashboard's open failures."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from ledger import flows, handled, order_notes, trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.models import AuditEvent, Message, OrderLink, Role, utcnow

from .conftest import headers
from .test_api_orders_admin import seed_order

GID = "gid://shopify/Order/1001"


def _attention(client) -> list[str]:
    page = client.get("/api/orders?status=needs_attention", headers=headers()).get_json()
    return [o["shopify_order_name"] for o in page["orders"]]


def test_a_refusal_handled_by_hand_is_closed_with_its_note_kept_and_audited(client, settings, shops, message):
    refused = Rejected("order #1001: taxes added on top of the prices", system="app", code="TAXES_ADDED")
    mid = message(shops.a, "orders", "order:1001", shopify_id=GID, search=("#1001",), error=refused)
    seed_order(settings, shops.a, "#1001", None)
    assert _attention(client) == ["#1001"]
    shown = client.get(f"/api/messages/{mid}", headers=headers(Role.OPERATOR)).get_json()
    assert shown["can_mark_handled"] is True and shown["handled"] is None

    note = "entered by hand as ERP order 9001"
    answer = client.post(
        f"/api/messages/{mid}/handled", json={"note": f"  {note} "}, headers=headers(Role.OPERATOR)
    )
    assert answer.status_code == 200, answer.get_json()
    closed = answer.get_json()
    assert (closed["status"], closed["error_class"]) == ("skipped", None)
    assert closed["handled"]["note"] == note and closed["handled"]["by"] == "3"
    assert closed["handled"]["status"] == "failed" and "taxes added" in closed["handled"]["error_text"]
    with session_scope(settings.database_url) as session:
        row = session.get(Message, mid)
        assert row.error_detail["code"] == "TAXES_ADDED"  # the original error's detail is kept
        assert note in row.error_text and row.finished_at is not None
        counts = trace.dashboard_counts(session, shops.a, utcnow() - timedelta(hours=1))
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "message.handled").all()
        assert (event.actor, event.target) == ("3", f"message:{mid}")
        assert event.before["status"] == "failed" and event.after["note"] == note
    assert "failed" not in counts["orders"] and counts["orders"]["skipped"] == 1
    assert _attention(client) == []

    detail = client.get(f"/api/messages/{mid}", headers=headers(Role.VIEWER)).get_json()
    assert detail["explanation"] is None and detail["handled"]["note"] == note
    assert (detail["can_retry"], detail["can_mark_handled"]) == (False, False)
    again = client.post(
        f"/api/messages/{mid}/handled", json={"note": "twice"}, headers=headers(Role.OPERATOR)
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_closable"
    assert client.post(f"/api/messages/{mid}/retry", headers=headers(Role.OPERATOR)).status_code == 409


def test_only_operators_with_a_note_close_failed_or_parked_messages_of_their_shop(client, shops, message):
    failed = message(shops.a, "invoices", "event:5", error=KeyError("valorTotal"))
    parked = message(shops.a, "orders", "order:7", error=MappingMissing("payment_method", "Pix"))
    done = message(shops.a, "orders", "order:8", done=True)
    pending = message(shops.a, "orders", "order:9")
    other = message(shops.b, "orders", "order:10", error=KeyError("x"))
    post = lambda mid, body, role=Role.OPERATOR: client.post(  # noqa: E731
        f"/api/messages/{mid}/handled", json=body, headers=headers(role)
    )
    assert post(failed, {"note": "done"}, Role.VIEWER).status_code == 403
    for body in ({}, {"note": "   "}, {"note": "x" * 501}, {"note": "ok", "extra": 1}):
        answer = post(failed, body)
        assert answer.status_code == 400, body
    assert post(other, {"note": "not mine"}).status_code == 404
    assert post(done, {"note": "no"}).status_code == 409
    assert post(pending, {"note": "no"}).status_code == 409  # a job may be working on it
    assert post(failed, {"note": "NF-e written in Shopify by hand"}).status_code == 200
    assert post(parked, {"note": "entered in the ERP by hand"}).status_code == 200


def test_closing_an_erp_event_clears_its_own_note_only(client, settings, shops, message):
    order = seed_order(settings, shops.a, "#1001", 555)
    capture = "invoices: the NF-e total 120.00 is 20.00 above what the customer paid"
    with session_scope(settings.database_url) as session:
        link = session.get(OrderLink, order)
        order_notes.put(link, "invoices", capture)
        order_notes.put(link, "order_edits", "item 3 cannot be edited", event=12)
        order_notes.put(link, "invoices", "order cancelled in Shopify", event=13)
    refused = Rejected("item 3 cannot be edited", system="shopify", code="LINE_NOT_EDITABLE")
    mid = message(shops.a, "order_edits", "event:12", shopify_id=GID, erp_id="555", error=refused)
    answer = client.post(
        f"/api/messages/{mid}/handled", json={"note": "picking fixed in Shopify"}, headers=headers()
    )
    assert answer.status_code == 200, answer.get_json()
    with session_scope(settings.database_url) as session:
        left = [n.text for n in order_notes.notes(session.get(OrderLink, order))]
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "message.handled").all()
    assert left == [capture, "invoices (ERP event #13): order cancelled in Shopify"]
    assert event.after["notes_cleared"] == ["order_edits (ERP event #12)"]  # its slot, never its words


def test_closing_a_card_payment_message_leaves_the_orders_flows_own_note(client, settings, shops, message):
    """The card data's message is in the orders flow beside the import's, but about the card only:
    closing it leaves the note the import left on the order (it has its own topic, "card payment")."""
    order = seed_order(settings, shops.a, "#1001", 555)
    own = "orders: ERP order 555 was posted, but its customer's phone could not be sent"
    with session_scope(settings.database_url) as session:
        order_notes.put(session.get(OrderLink, order), "orders", own)
    refused = Rejected("the ERP refused the card data", system="consinco", code="REQUISICAO_INVALIDA")
    mid = message(shops.a, "orders", "card:1001", shopify_id=GID, erp_id="555", error=refused)
    page = client.get("/api/orders?status=needs_attention", headers=headers()).get_json()
    [shown] = [o["attention_notes"] for o in page["orders"] if o["shopify_order_id"] == GID]
    # two notes: the import's own (no message closes it) and the card message's, on its own topic
    labels = [(n["label"], n["message_id"]) for n in shown]
    assert labels == [("orders", None), ("orders (card payment)", mid)]
    answer = client.post(
        f"/api/messages/{mid}/handled", json={"note": "typed in the ERP's card screen"}, headers=headers()
    )
    assert answer.status_code == 200, answer.get_json()
    with session_scope(settings.database_url) as session:
        left = [n.text for n in order_notes.notes(session.get(OrderLink, order))]
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "message.handled").all()
    assert left == [own]
    assert event.after["notes_cleared"] == []
    assert order_notes.topic_of("card:1001") == "card payment"


def test_closing_an_event_of_the_erp_the_shop_moved_to_clears_that_erps_note(
    client, settings, shops, message
):
    """An event of the second ERP ("event:12:erp1") is not the first ERP's #12: closing it clears the
    note its own failure left, not the first ERP's, and not nothing."""
    order = seed_order(settings, shops.a, "#1001", 555)
    with session_scope(settings.database_url) as session:
        link = session.get(OrderLink, order)
        order_notes.put(link, "order_edits", "item 3 cannot be edited", event=12)
        order_notes.put(link, "order_edits", "item 4 cannot be edited", event=12, generation=1)
    refused = Rejected("item 4 cannot be edited", system="shopify", code="LINE_NOT_EDITABLE")
    mid = message(shops.a, "order_edits", "event:12:erp1", shopify_id=GID, erp_id="555", error=refused)
    answer = client.post(f"/api/messages/{mid}/handled", json={"note": "fixed in Shopify"}, headers=headers())
    assert answer.status_code == 200, answer.get_json()
    with session_scope(settings.database_url) as session:
        left = [n.text for n in order_notes.notes(session.get(OrderLink, order))]
    assert left == ["order_edits (ERP event #12): item 3 cannot be edited"]


def test_linking_an_erp_order_is_for_operators_and_refused_before_the_erp_is_asked(
    client, settings, shops, message
):
    """POST /api/orders/<id>/erp-order: what it refuses without reading the ERP (which is not set up
    here); tests/orders_out/test_hand_linked_order.py links one against the ERP sandbox."""
    refused = seed_order(settings, shops.a, "#1001", None)
    linked = seed_order(settings, shops.a, "#1002", 880123)
    running = seed_order(settings, shops.a, "#1003", None)
    message(shops.a, "orders", "order:1003", shopify_id="gid://shopify/Order/1003")  # pending: a job has it
    post = lambda order, body, role=Role.OPERATOR: client.post(  # noqa: E731
        f"/api/orders/{order}/erp-order", json=body, headers=headers(role)
    )
    assert post(refused, {"nro_pedvenda": 9001}, Role.VIEWER).status_code == 403
    for body in (
        {},
        {"nro_pedvenda": "9001"},
        {"nro_pedvenda": 0},
        {"nro_pedvenda": True},
        {"nro_pedvenda": 1, "x": 1},
    ):
        assert post(refused, body).status_code == 400, body
    assert post(linked, {"nro_pedvenda": 9001}).get_json()["error"]["code"] == "already_linked"
    assert post(running, {"nro_pedvenda": 9001}).get_json()["error"]["code"] == "import_running"
    taken = post(refused, {"nro_pedvenda": 880123})
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "erp_order_taken")
    assert "#1002" in taken.get_json()["error"]["message"]
    unset = post(refused, {"nro_pedvenda": 9001})  # no ERP connection in this shop
    assert (unset.status_code, unset.get_json()["error"]["code"]) == (409, "erp_not_configured")
    with session_scope(settings.database_url) as session:
        assert session.get(OrderLink, refused).nro_pedvenda is None


def test_an_erp_order_linked_by_hand_takes_its_events_by_number_while_on_its_erp(settings, shops):
    """jobs.order_events.find_link: an ERP order typed by hand carries no channel id of the order,
    or another one (the order's name typed in NROPEDCLIENTE): a link made by hand takes its events
    by number all the same; an ordinary link never takes another order's; once the shop moved to
    another ERP, that number is another ERP's order."""
    from types import SimpleNamespace

    from jobs import order_events
    from ledger.models import ErpConnection

    by_hand = seed_order(settings, shops.a, "#1001", 9001, hand_linked_erp=0)
    seed_order(settings, shops.a, "#1002", 9002)
    with session_scope(settings.database_url) as session:
        for channel_id in (None, "#1001", "balcao-7"):
            found = order_events.find_link(
                session, shops.a, SimpleNamespace(channel_order_id=channel_id, nro_pedvenda=9001)
            )
            assert found is not None and found.id == by_hand, channel_id
        other = SimpleNamespace(channel_order_id="gid://shopify/Order/5", nro_pedvenda=9002)
        assert order_events.find_link(session, shops.a, other) is None
        session.add(ErpConnection(shop_id=shops.a, base_url="https://erp2.example", username="u",
                                  password_enc=b"x", generation=1))  # fmt: skip
        session.flush()
        assert (
            order_events.find_link(
                session, shops.a, SimpleNamespace(channel_order_id=None, nro_pedvenda=9001)
            )
            is None
        )


def test_retry_and_replay_of_a_handled_message_are_refused_saying_it_was_handled(client, shops, message):
    """Its buttons are hidden; an API call (a stale page, a script) gets a 409 in words that say why:
    a person closed it, and running it again would undo what they did."""
    refused = Rejected("order #1001: taxes added on top of the prices", system="app", code="TAXES_ADDED")
    mid = message(shops.a, "orders", "order:1001", shopify_id=GID, error=refused)
    note = {"note": "entered by hand as ERP order 9001"}
    assert client.post(f"/api/messages/{mid}/handled", json=note, headers=headers()).status_code == 200
    for action in ("retry", "replay"):
        answer = client.post(f"/api/messages/{mid}/{action}", headers=headers(Role.OPERATOR))
        error = answer.get_json()["error"]
        assert (answer.status_code, error["code"]) == (409, f"not_{action}able"), error
        assert "closed as handled outside the app" in error["message"], error
        assert error["message_status"] == "skipped"


REPLAYED = {  # a unit of each flow whose replay would run it again (begin: its record wiped)
    "products": "product:1",
    "skus": "product:1",
    "prices": "price:store_link",
    "stock": "stock:erp_connection",
    "orders": "order:1001",
    "order_edits": "edit:77",
    "invoices": "event:5",
    "cancellations": "cancel:1001",
    "reconcile": f"report:{utcnow():%Y-%m-%d}",
    "catalog_full": "sweep",
    "prices_full": "sweep",
    "stock_full": "sweep",
}


@pytest.mark.parametrize("flow", [f.name for f in flows.FLOWS])
def test_every_flows_replay_ends_on_a_message_closed_as_handled(settings, shops, message, flow):
    """A Retry queued before the message was closed (two people at once, a page left open): the
    flow's replay job ends without running it, whatever the flow; running it would reopen the
    message (trace.begin clears the handled record) and redo what a person settled by hand."""
    assert set(REPLAYED) == set(flows.BY_NAME)  # a new flow names its unit here
    refused = Rejected("refused", system="shopify", code="INVALID")
    mid = message(shops.a, flow, REPLAYED[flow], shopify_id=GID, erp_id="555", error=refused)
    with session_scope(settings.database_url) as session:
        handled.mark(session, session.get(Message, mid), by="3", note="done by hand")
    outcome = importlib.import_module(flows.get(flow).replay_job.rpartition(".")[0]).replay(mid)
    with session_scope(settings.database_url) as session:
        row = session.get(Message, mid)
        assert (row.status, row.attempts) == ("skipped", 1)
        assert handled.info(row)["note"] == "done by hand"
    assert outcome == "handled"


def test_a_mark_crossing_a_job_that_began_the_message_meanwhile_is_refused(
    client, settings, shops, message, monkeypatch
):
    """The API read the message failed, then a Retry queued a moment before began it (two people at
    once): the mark closes nothing (its replay would reopen it, or has settled it) and says so."""
    import shopify_app.api_messages as api_messages

    refused = Rejected("refused", system="shopify", code="INVALID")
    mid = message(shops.a, "prices", "price:7", error=refused)

    def began_meanwhile(found):  # after the API read the row: the worker's begin commits
        with session_scope(settings.database_url) as session:
            trace.begin(session, shops.a, "prices", "price:7", flows.ERP_TO_SHOPIFY)
        return None

    monkeypatch.setattr(api_messages, "job_holding", began_meanwhile)
    answer = client.post(
        f"/api/messages/{mid}/handled", json={"note": "by hand"}, headers=headers(Role.OPERATOR)
    )

    error = answer.get_json()["error"]
    assert (answer.status_code, error["code"], error["message_status"]) == (409, "message_changed", "pending")
    with session_scope(settings.database_url) as session:
        row = session.get(Message, mid)
        assert (row.status, handled.info(row)) == ("pending", None)
        assert session.query(AuditEvent).filter(AuditEvent.action == "message.handled").count() == 0


def test_the_unlink_refusal_quotes_a_handled_note_masked_below_admin(client, settings, shops):
    """The Messages page masks a handled note below admin; the unlink refusal quoting that note
    (409 erp_order_applied, an operator's) gave the customer's CPF and e-mail whole."""
    import json

    cpf, email = "529.982.247-25", "maria.souza@example.com"
    with session_scope(settings.database_url) as session:
        link = OrderLink(shop_id=shops.a, shopify_order_id="gid://shopify/Order/1001",
                         shopify_order_name="#1001", nro_pedvenda=77, hand_linked_erp=0)  # fmt: skip
        session.add(link)
        session.flush()
        order_id = link.id
        message = trace.begin(session, shops.a, "invoices", "event:5", "erp_to_shopify", erp_id="77",
                              shopify_id="gid://shopify/Order/1001")  # fmt: skip
        trace.fail(session, message, Rejected("capture refused", system="shopify", code="X"))
        handled.mark(session, message, by="3", note=f"Pix devolvido a {email}, CPF {cpf}")
    for role, shown in ((Role.OPERATOR, False), (Role.ADMIN, True)):
        reply = client.delete(f"/api/orders/{order_id}/erp-order", headers=headers(role))
        assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "erp_order_applied"
        body = json.dumps(reply.get_json(), ensure_ascii=False)
        assert (cpf in body and email in body) is shown and (cpf in body or email in body) is shown, body
