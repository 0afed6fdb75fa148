"""An order the import refused, entered in the ERP by hand, linked by a person (POST
/api/orders/<id>/erp-order): the ERP events the poller had skipped as "not linked to any Shopify
order" are applied (its NF-e written, the payment captured, the goods fulfilled), and so are its
later events, though the ERP order carries another sales channel and no channel id of the order.
A number that is not the order's (missing, cancelled, another order's) is refused."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import by_hand
import pytest
from sqlalchemy import select

from jobs.worker import run_worker
from ledger import handled, trace
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import AuditEvent, ErpConnection, Message, MessageStatus, OrderLink, Role, Shop, utcnow
from ledger.order_link_by_hand import ErpOrder, ShopifyOrder, compact_document, mismatch
from shopify_app.admin_api import for_shop

from .conftest import NRO_EMPRESA, World

COUNTER_CHANNEL = 1  # the store's own sales channel in the ERP: what a person types an order under


@pytest.fixture
def orders_api(env, world):
    """The API's test client and an operator's bearer header for the shop."""
    return by_hand.staff_api(env, world, Role.OPERATOR)


@pytest.fixture
def link_erp_order(orders_api):
    """POST /api/orders/<id>/erp-order as an operator of the shop: (status, body)."""
    client, auth = orders_api

    def post(order_id: int, nro: int, **more: Any) -> tuple[int, dict]:
        answer = client.post(f"/api/orders/{order_id}/erp-order", json={"nro_pedvenda": nro, **more},
                             headers=auth)  # fmt: skip
        return answer.status_code, answer.get_json()

    return post


@pytest.fixture
def unlink_erp_order(orders_api):
    """DELETE /api/orders/<id>/erp-order as an operator of the shop: (status, body)."""
    client, auth = orders_api

    def delete(order_id: int) -> tuple[int, dict]:
        answer = client.delete(f"/api/orders/{order_id}/erp-order", headers=auth)
        return answer.status_code, answer.get_json()

    return delete


BUYER_CPF = "52998224725"  # the customer of the order, at checkout and as typed in the ERP
SHIPPING, FREIGHT = "PAC", Decimal("19.90")  # sandbox.shopify.checkout.SHIPPING_RATES, typed as freight


def refused_order(world: World, lines: list[tuple[str, int]], **checkout: Any) -> tuple[str, int]:
    """A Shopify order (card, authorised only, the buyer's CPF BUYER_CPF) the import refused: its
    link without an ERP number and its failed orders message, as jobs.orders leaves them. (gid, link id)"""
    from sandbox.shopify.checkout import place_order

    checkout = {"gateway": "cartao", "capture": "manual", "discount_rate": 0.0, "seed": 5,
                "tax_id": BUYER_CPF,
                "shipping": SHIPPING, **checkout}  # fmt: skip
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": s, "quantity": q} for s, q in lines],
                      **checkout)  # fmt: skip
    order = for_shop(world.domain).order(gid)
    assert order is not None
    num = gid.rsplit("/", 1)[-1]
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{num}", SHOPIFY_TO_ERP,
                              shopify_id=gid, search=[order.name])  # fmt: skip
        trace.fail(
            session, message, Rejected(f"order {order.name}: taxes added", system="app", code="TAXES_ADDED")
        )
        total = order.total.amount if order.total else None
        link = OrderLink(shop_id=world.shop_id, shopify_order_id=gid, shopify_order_name=order.name,
                         total=total, currency=order.currency)  # fmt: skip
        session.add(link)
        session.flush()
        return gid, link.id


def typed_in_the_erp(world: World, lines: list[tuple[str, int]], channel_order_id: str | None = None,
                     channel: int = COUNTER_CHANNEL, cpf_cnpj: str = BUYER_CPF) -> int:  # fmt: skip
    """The same goods entered in the ERP by hand, under the store's counter channel."""
    return by_hand.typed_in_the_erp(
        world.chain,
        lines,
        nro_empresa=NRO_EMPRESA,
        channel=channel,
        cpf_cnpj=cpf_cnpj,
        channel_order_id=channel_order_id,
        freight=FREIGHT,
    )


def event_messages(nro: int) -> list[Message]:
    with session_scope() as session:
        rows = list(session.scalars(select(Message).where(Message.erp_id == str(nro)).order_by(Message.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_an_order_typed_in_the_erp_by_hand_and_linked_gets_its_invoice_capture_and_fulfilment(
    world: World, link_erp_order
) -> None:
    lines = [(world.plain(0), 2), (world.plain(1), 1)]
    gid, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)
    world.poll()
    skipped = event_messages(nro)
    assert [m.flow for m in skipped] == ["order_edits", "invoices"]  # picked (S), then invoiced (F)
    assert all(m.status == MessageStatus.SKIPPED.value and "not linked" in m.error_text for m in skipped)
    assert {m.error_detail["skip"]["key"] for m in skipped} == {
        "event_unknown_order"
    }  # its words for the pages
    assert world.link(gid).nfe_key is None  # the NF-e never reaches the Shopify order alone

    status, body = link_erp_order(order_id, nro)
    assert status == 200, body
    assert body["nro_pedvenda"] == nro and body["events_replayed"] == [m.id for m in skipped]
    assert body["events_enqueued"] is True
    run_worker(burst=True, simple=True, with_scheduler=False)

    picked, invoice = event_messages(nro)
    assert picked.status == MessageStatus.SKIPPED.value and "picking changed nothing" in picked.error_text
    assert picked.error_detail["skip"] == {"key": "picking_nothing_changed", "params": {}}
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert invoice.shopify_id == gid
    link = world.link(gid)
    assert link.nfe_key and link.nro_pedvenda == nro and link.hand_linked_erp == 0
    settled = world.settlement(gid)
    assert settled.paid > 0 and settled.active_fulfillments, settled
    with session_scope() as session:
        imported = session.scalars(
            select(Message).where(Message.flow == "orders", Message.shopify_id == gid)
        ).one()
        assert imported.status == MessageStatus.SKIPPED.value and str(nro) in imported.error_text
        assert imported.error_detail["handled"]["erp_order"] == nro
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "order.erp_linked")).all()
        assert audit.after["events_replayed"] == [picked.id, invoice.id] and audit.actor == "31"

    # a later event of the ERP order (tracking after the invoice) is taken at once, not skipped
    world.erp.track(nro, "BR123456789BR", carrier="Correios")
    assert world.poll()["enqueued"] == 1
    assert [m.status for m in event_messages(nro)][1:] == [MessageStatus.DONE.value] * 2


def test_a_number_that_is_not_the_orders_is_refused(world: World, link_erp_order) -> None:
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    assert link_erp_order(order_id, 987654321)[0] == 400  # the ERP has no such order
    other = world.linked_order(lines)  # the app's import of another order
    status, body = link_erp_order(order_id, other.nro)
    assert (status, body["error"]["code"]) == (409, "erp_order_taken")
    # the page says it in its language from the words (error.reason.<key>), the message stays English
    taken_by = world.link(other.gid).shopify_order_name
    assert body["error"]["words"] == {"key": "taken", "params": {"nro": other.nro, "order": taken_by}}
    # an ERP order another Shopify order of this store's channel placed, not linked here
    foreign = typed_in_the_erp(world, lines, channel_order_id="gid://shopify/Order/99999", channel=7)
    status, body = link_erp_order(order_id, foreign)
    assert (status, body["error"]["code"]) == (409, "erp_order_refused") and "another Shopify order" in body[
        "error"
    ]["message"]
    assert body["error"]["words"] == {"key": "another_shopify_order", "params": {
        "nro": foreign, "channel_order_id": "gid://shopify/Order/99999", "channel": 7}}  # fmt: skip
    cancelled = typed_in_the_erp(world, lines)
    world.erp.cancel(cancelled)
    status, body = link_erp_order(order_id, cancelled)
    assert (status, body["error"]["code"]) == (409, "erp_order_refused") and "cancelled" in body["error"][
        "message"
    ]
    assert body["error"]["words"] == {"key": "erp_order_cancelled", "params": {"nro": cancelled}}
    assert world.link(gid).nro_pedvenda is None
    fine = typed_in_the_erp(world, lines, channel_order_id=world.link(gid).shopify_order_name)
    assert link_erp_order(order_id, fine)[0] == 200
    status, body = link_erp_order(order_id, fine)
    assert (status, body["error"]["code"]) == (409, "already_linked")


OTHER_STORE_CHANNEL = 8  # a second store on the same ERP, under its own seqCanalVenda


def test_an_erp_order_of_another_stores_shopify_order_is_refused(world: World, link_erp_order) -> None:
    """Two stores on one ERP: the number typed is the ERP order the app imported for the OTHER
    store's Shopify order (its channel id a Shopify order gid, under that store's channel). Linked,
    its invoice would write that order's NF-e here, capture this order's payment and fulfil it."""
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    theirs = typed_in_the_erp(
        world, lines, channel_order_id="gid://shopify/Order/99999", channel=OTHER_STORE_CHANNEL
    )
    status, body = link_erp_order(order_id, theirs)
    assert (status, body["error"]["code"]) == (409, "erp_order_refused"), body
    assert "gid://shopify/Order/99999" in body["error"]["message"]
    assert world.link(gid).nro_pedvenda is None


@pytest.mark.parametrize(
    "written",
    [
        lambda url: url + "/",
        lambda url: url.replace("http://", "HTTPS://", 1),  # the other scheme: erp.factory.same_erp's rule
    ],
    ids=["trailing-slash", "other-scheme"],
)
def test_an_erp_order_another_store_on_the_same_erp_linked_is_refused(
    world: World, link_erp_order, written: Any
) -> None:
    """Another store on the same ERP (same address, as erp.factory.same_erp compares them: the
    scheme and a default port do not tell ERPs apart) linked that ERP order by hand to its own order."""
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    with session_scope() as session:
        other = Shop(domain=f"other{uuid.uuid4().hex[:8]}.myshopify.com", settings={})
        session.add(other)
        session.flush()
        session.add(ErpConnection(shop_id=other.id, base_url=written(world.chain.handle.url), username="x",
                                  password_enc=encrypt("x")))  # fmt: skip
        session.add(OrderLink(shop_id=other.id, shopify_order_id="gid://shopify/Order/77",
                              shopify_order_name="#77",
                              nro_pedvenda=nro, hand_linked_erp=0))  # fmt: skip
        domain = other.domain
    status, body = link_erp_order(order_id, nro)
    assert (status, body["error"]["code"]) == (409, "erp_order_taken"), body
    # told after the ERP read with this shop's credentials, without naming the other store's order
    assert "another store on the same ERP" in body["error"]["message"]
    assert "#77" not in body["error"]["message"] and domain not in body["error"]["message"]
    assert world.link(gid).nro_pedvenda is None


def test_an_erp_order_of_another_buyer_is_refused_and_another_total_needs_a_confirmation(
    world: World, link_erp_order
) -> None:
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    someone_else = typed_in_the_erp(world, lines, cpf_cnpj="11144477735")
    status, body = link_erp_order(order_id, someone_else)
    assert (status, body["error"]["code"]) == (409, "erp_order_mismatch"), body
    # an operator is told the documents masked, as everywhere below admin (LGPD): a number typed at
    # random must not reveal whose CPF an ERP order carries
    assert "11144477735" not in str(body) and "***.***.*77-35" in body["error"]["message"], body
    assert body["error"]["differs"] == ["cpf_cnpj"] and body["error"]["words"]["key"] == "buyer_differs"
    assert body["error"]["words"]["params"] | {"documents": None} == {
        "nro": someone_else, "erp_document": "***.***.*77-35", "documents": None}  # fmt: skip
    assert not re.search(r"\d{11}", body["error"]["words"]["params"]["documents"]), body
    bigger = typed_in_the_erp(world, [(world.plain(0), 9)])  # the same buyer, nine times the goods
    status, body = link_erp_order(order_id, bigger)
    assert (status, body["error"]["code"]) == (409, "erp_total_differs"), body
    assert (
        body["error"]["differs"] == ["total"] and body["error"]["erp_total"] != body["error"]["shopify_total"]
    )
    assert body["error"]["words"]["key"] == "total_gap" and body["error"]["words"]["params"]["nro"] == bigger
    assert world.link(gid).nro_pedvenda is None
    status, body = link_erp_order(order_id, bigger, confirm_total=True)  # a person checked it
    assert status == 200, body
    with session_scope() as session:
        linked = select(AuditEvent).where(AuditEvent.action == "order.erp_linked")
        [audit] = session.scalars(linked.where(AuditEvent.target == f"order:{order_id}")).all()
        assert audit.after["total_confirmed"] is True


def test_a_wrong_number_is_unlinked_until_its_events_apply(
    world: World, link_erp_order, unlink_erp_order
) -> None:
    """A counter order typed wrong (the same customer's other purchase) is linked, then corrected;
    once the right ERP order's invoice reached the Shopify order, its link can no longer be undone."""
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    wrong, right = typed_in_the_erp(world, lines), typed_in_the_erp(world, lines)
    world.erp.invoice(wrong)  # its picking and invoice events: skipped as not linked
    world.poll()
    assert link_erp_order(order_id, wrong)[0] == 200
    with session_scope() as session:  # its replays queued, not run yet: held as pending
        assert {m.status for m in session.scalars(select(Message).where(Message.erp_id == str(wrong)))} == {
            MessageStatus.PENDING.value
        }
    status, body = unlink_erp_order(order_id)
    assert (status, body["error"]["code"]) == (409, "erp_order_applied") and "being applied" in body["error"][
        "message"
    ]
    assert body["error"]["words"]["key"] == "event_running"
    assert body["error"]["words"]["params"]["nro"] == wrong and body["error"]["words"]["params"]["flow"]
    for message in event_messages(wrong):  # the replays lost: left failed before applying anything
        with session_scope() as session:
            trace.fail(session, session.get(Message, message.id), Rejected("test", system="app", code="X"))
    status, body = unlink_erp_order(order_id)
    assert status == 200, body
    assert body["nro_pedvenda"] is None and not body["erp_linked_by_hand"]
    assert all(
        m.status == MessageStatus.SKIPPED.value and "not linked" in m.error_text
        for m in event_messages(wrong)
    )
    with session_scope() as session:
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "order.erp_unlinked")).all()
        assert audit.before["nro_pedvenda"] == wrong and audit.actor == "31"
    assert link_erp_order(order_id, right)[0] == 200
    world.erp.invoice(right)
    world.poll()
    assert world.link(gid).nfe_key
    status, body = unlink_erp_order(order_id)
    assert (status, body["error"]["code"]) == (409, "erp_order_applied") and "NF-e" in body["error"][
        "message"
    ]
    assert body["error"]["words"] == {
        "key": "nfe_written",
        "params": {"nro": right, "key": world.link(gid).nfe_key},
    }
    assert world.link(gid).nro_pedvenda == right


def test_an_event_polled_while_the_link_is_made_is_not_lost(
    world: World, link_erp_order, monkeypatch
) -> None:
    """The ERP order typed by hand is invoiced and polled (skipped: not linked). While the link's
    transaction picks those up, the scheduled poll runs and takes the tracking the ERP gave since:
    reading the link as it was (no number), it would skip it as not linked after the pick-up, and
    nothing would ever pick it up again. The poll waits for the link (busy) and takes it after."""
    from jobs import order_events
    from ledger import order_link_by_hand

    lines = [(world.plain(0), 1)]
    _, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)
    world.poll()
    original = order_link_by_hand._pick_up_skipped
    polled: list[dict[str, int]] = []

    def pick_up_then_poll(*args: Any, **kwargs: Any) -> list[int]:
        picked = original(*args, **kwargs)
        world.erp.track(nro, "BR123456789BR", carrier="Correios")
        polled.append(order_events.run(world.shop_id))  # the scheduled poll, in its own transaction
        return picked

    monkeypatch.setattr(order_link_by_hand, "_pick_up_skipped", pick_up_then_poll)
    status, body = link_erp_order(order_id, nro)
    assert status == 200, body
    run_worker(burst=True, simple=True, with_scheduler=False)
    world.poll()  # the next scheduled poll
    rows = [(m.unit_key, m.flow, m.status, m.error_text) for m in event_messages(nro)]
    assert polled and len(rows) == 3, (polled, rows)
    assert [status for _, _, status, _ in rows][1:] == [MessageStatus.DONE.value] * 2, rows


def test_unlink_is_refused_once_an_event_closed_as_handled_wrote_its_nfe(
    world: World, link_erp_order, unlink_erp_order
) -> None:
    """The hand-linked ERP order's invoice event wrote its NF-e on the Shopify order, then its
    capture was refused; a person settled the money (Pix) and closed it as handled. That event
    changed the order (and was settled for it): unlinking is refused, whatever its status."""
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)
    world.poll()
    assert link_erp_order(order_id, nro)[0] == 200
    key = "3" * 44
    for message in event_messages(nro):
        with session_scope() as session:
            row = session.get(Message, message.id)
            refused = Rejected("orderCapture rejected", system="shopify", code="INVALID")
            if row.flow == "invoices":  # as jobs.invoices leaves it: NF-e written, then the capture refused
                row.response_payload = {"key": key, "nfe_written": key}
                trace.fail(session, row, refused)
                handled.mark(session, row, by="31", note="paid by Pix at the counter")
            else:
                trace.fail(session, row, Rejected("test", system="app", code="X"))
    assert world.link(gid).nfe_key is None  # the link's own record never saw it
    status, body = unlink_erp_order(order_id)
    assert (status, body["error"]["code"]) == (409, "erp_order_applied"), body
    assert world.link(gid).nro_pedvenda == nro


def test_unlink_is_refused_while_an_event_is_closed_as_handled_and_a_link_never_reopens_one(
    world: World, link_erp_order, unlink_erp_order
) -> None:
    """An invoice event of the hand-linked ERP order closed as handled (its money settled by Pix):
    the number cannot be unlinked (the decision was this order's). And a handled message that reads
    "not linked" (as an unlink before this rule left one) is never reopened and replayed by a link."""
    lines = [(world.plain(0), 1)]
    _, first = refused_order(world, lines)
    _, second = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)
    world.poll()
    assert link_erp_order(first, nro)[0] == 200
    handled_id = None
    for message in event_messages(nro):
        with session_scope() as session:
            row = session.get(Message, message.id)
            trace.fail(session, row, Rejected("orderCapture rejected", system="shopify", code="INVALID"))
            if row.flow == "invoices":
                handled.mark(session, row, by="31", note="paid by Pix at the counter")
                handled_id = row.id
    status, body = unlink_erp_order(first)
    assert (status, body["error"]["code"]) == (409, "erp_order_applied") and "handled" in body["error"][
        "message"
    ]

    with session_scope() as session:  # as the unlink of d401829 left it: re-skipped as not linked
        link = session.scalars(select(OrderLink).where(OrderLink.nro_pedvenda == nro)).one()
        link.nro_pedvenda = link.hand_linked_erp = link.nro_empresa = link.erp_status = None
        for message in event_messages(nro):
            row = session.get(Message, message.id)
            trace.skip(session, row, f"ERP order {nro} is not linked to any Shopify order of this shop")
    status, body = link_erp_order(second, nro)
    assert status == 200, body
    assert handled_id not in body["events_replayed"]
    with session_scope() as session:
        row = session.get(Message, handled_id)
        assert row.status == MessageStatus.SKIPPED.value and handled.info(row) is not None


@pytest.mark.parametrize(
    ("erp", "shopify"),
    [
        ("2998224725", "029.982.247-25"),  # a CPF's leading zero lost: NROCGCCPF is a number
        ("12345000195", "00.012.345/0001-95"),  # a CNPJ that lost two
        ("123456000195", "00123456000195"),
    ],
)
def test_a_document_the_erp_read_back_as_a_number_is_the_same_buyer(erp: str, shopify: str) -> None:
    order = ErpOrder(7, 1, "A", 1, None, cpf_cnpj=erp, total=Decimal("10"))
    carried = frozenset({compact_document(shopify)})
    assert mismatch(order, ShopifyOrder(carried, Decimal("10"))) is None
    assert mismatch(order, ShopifyOrder(frozenset({"11144477735"}), Decimal("10"))) is not None


def test_another_buyers_document_is_linked_once_a_person_confirms_it_audited(
    world: World, link_erp_order
) -> None:
    """The ERP customer was registered under another document (a spouse's CPF at the counter): a
    person who checked it confirms the buyer explicitly, and the audit says so."""
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    someone_else = typed_in_the_erp(world, lines, cpf_cnpj="11144477735")
    assert link_erp_order(order_id, someone_else)[1]["error"]["code"] == "erp_order_mismatch"
    status, body = link_erp_order(order_id, someone_else, confirm_buyer="yes")
    assert status == 400, body
    status, body = link_erp_order(order_id, someone_else, confirm_buyer=True)
    assert status == 200, body
    assert world.link(gid).nro_pedvenda == someone_else
    with session_scope() as session:
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "order.erp_linked")).all()
        assert audit.after["buyer_confirmed"] is True and "11144477735" in audit.after["buyer_differs"]


def _age(nro: int, days: int) -> None:
    """The order's event messages last changed `days` ago (what the retention compares)."""
    with session_scope() as session:
        for message in session.scalars(select(Message).where(Message.erp_id == str(nro))):
            message.updated_at = utcnow() - timedelta(days=days)


def test_an_invoiced_order_whose_events_aged_out_is_linked_with_a_note_saying_what_to_do(
    world: World, link_erp_order
) -> None:
    """The ERP invoiced the order typed by hand; its events were skipped (not linked) and, linked
    only months later, deleted by the retention (UNLINKED_EVENT_RETENTION_DAYS): the link replays
    nothing, and a note on the order says the NF-e, capture and fulfilment are left to a person."""
    from jobs import retention

    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)
    world.poll()
    _age(nro, 100)
    assert retention.forget_unlinked_events(90).gone == 2 and event_messages(nro) == []

    status, body = link_erp_order(order_id, nro)
    assert status == 200, body
    assert body["events_replayed"] == []
    [note] = body["attention_notes"]
    assert note["flow"] == "invoices" and f"O pedido {nro} do ERP está faturado" in note["text"]  # pt-BR
    assert "90 dias" in note["text"] and "registre a NF-e no pedido da Shopify" in note["text"]
    link = world.link(gid)
    assert (
        f"invoices: ERP order {nro} is invoiced, but the app holds no invoice event" in link.needs_attention
    )
    assert "older than the 90 days" in link.needs_attention and link.nfe_key is None


def test_an_order_linked_before_its_invoice_event_is_read_gets_the_note_until_the_poll_applies_it(
    world: World, link_erp_order
) -> None:
    lines = [(world.plain(0), 1)]
    gid, order_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    world.erp.invoice(nro)  # not polled yet

    status, body = link_erp_order(order_id, nro)
    assert status == 200 and body["events_replayed"] == []
    assert [n["flow"] for n in body["attention_notes"]] == ["invoices"]
    world.poll()  # the events, of a linked order now: applied, the invoices flow clears its note
    link = world.link(gid)
    assert link.nfe_key and not link.needs_attention


def test_an_order_cancelled_in_shopify_is_not_linked_to_the_erp_order_typed_for_it(
    world: World, link_erp_order
) -> None:
    """Its import refused, a person typed it in the ERP; the customer cancelled in Shopify before the
    link: the cancellation ended as never sent to the ERP (it knew no ERP order). Linking the typed
    order then left it live, picked and invoiced for a cancelled sale, nothing open to say so. The
    link is refused, before any total to confirm, saying to cancel the ERP order instead."""

    from jobs.cancellations import to_erp

    lines = [(world.plain(0), 1)]
    gid, link_id = refused_order(world, lines)
    nro = typed_in_the_erp(world, lines)
    by_hand.cancel_in_shopify(world.domain, gid, refund=True)

    status, body = link_erp_order(link_id, nro)  # Shopify says it: its webhook not handled yet
    assert (status, body["error"]["code"]) == (409, "erp_order_refused")
    assert body["error"]["words"] == {"key": "shopify_order_cancelled", "params": {"nro": nro}}
    assert to_erp.cancel_in_erp(world.shop_id, gid, "customer") == "skipped"  # "never sent to the ERP"
    status, body = link_erp_order(link_id, nro, confirm_total=True, confirm_buyer=True)
    assert (status, body["error"]["words"]["key"]) == (409, "shopify_order_cancelled")
    assert world.link(gid).nro_pedvenda is None
