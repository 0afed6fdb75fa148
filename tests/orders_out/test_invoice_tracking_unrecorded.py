"""ERP -> Shopify: tracking the ERP gives for an NF-e the ledger records no fulfillment of
(jobs.invoice_fulfillments.unrecorded) is never dropped silently: an NF-e applied before
fulfillments were recorded per NF-e (or whose message was rerun before that) takes the order's
unrecorded fulfillments when it is the only NF-e owning none; a re-issued NF-e takes those of the
NF-e the ERP cancelled; otherwise a person is told — a later event fails naming the order, the NF-e
and the tracking, and a person's own fulfillment is left alone with the order flagged."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from jobs import invoice_tracking, invoices
from jobs.invoice_record import ADOPTED, FULFILLED_FOR, KEY
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.admin_api import for_shop

from .conftest import LinkedOrder, World
from .test_invoice_documents import _another_nfe, _first_part_invoiced
from .test_invoice_tracking import _counting, _invoiced_without_tracking, _tracking
from .test_picking_and_invoice import _fulfillment_orders_status


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fulfillment ids every fulfillmentTrackingInfoUpdate the app sends names."""
    sent: list[str] = []
    monkeypatch.setattr(invoice_tracking, "fulfillment_tracking_update", _counting(sent))
    return sent


def _as_before_the_record(message: Message) -> None:
    """What a message applied (or rerun) before fulfillments were recorded per NF-e holds: its key,
    and `"fulfillments": []` (a rerun found nothing left to fulfil and wrote that over the first run's)."""
    with session_scope() as session:
        row = session.get(Message, message.id)
        assert row is not None
        response = {k: v for k, v in (row.response_payload or {}).items() if k != FULFILLED_FOR}
        row.response_payload = {**response, "fulfillments": []}


def _later(world: World, order: LinkedOrder) -> Message:
    return world.messages("invoices", order)[-1]


def test_an_nfe_applied_before_fulfillments_were_recorded_takes_the_orders_fulfillment(
    world: World, updates: list[str]
) -> None:
    """The order's one NF-e, its message rerun before this was recorded (`"fulfillments": []`): the
    carrier's code on a later F event reaches the order's fulfillment (no message recorded it, made
    after the NF-e was read), and the message says it took it; the next code goes there too."""
    order, fulfillment = _invoiced_without_tracking(world)
    [first] = world.messages("invoices", order)
    _as_before_the_record(first)

    world.erp.track(order.nro, "BR000000009BR", carrier="Correios")
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert updates == [fulfillment]
    assert _tracking(world, order.gid)[fulfillment][:2] == ("Correios", "BR000000009BR")
    assert later.response_payload[ADOPTED]["ids"] == [fulfillment]
    assert "recorded by no message" in later.response_payload[ADOPTED]["from"]
    assert world.link(order.gid).needs_attention is None

    world.erp.track(order.nro, "BR000000019BR", carrier="Correios")
    world.poll()
    assert _later(world, order).status == MessageStatus.DONE.value
    assert updates == [fulfillment, fulfillment]
    assert _tracking(world, order.gid)[fulfillment][1] == "BR000000019BR"


def test_an_unrecorded_nfe_takes_only_what_no_other_nfe_recorded(world: World, updates: list[str]) -> None:
    """Two NF-e, only A's message without its record: A's code goes to the fulfillment B's message
    did not record (A's), never to B's."""
    order, items, _part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    key_a = first.response_payload[KEY]
    [fulfillment_a] = first.response_payload["fulfillments"]
    _another_nfe(world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]])
    world.poll()
    [fulfillment_b] = world.messages("invoices", order)[1].response_payload["fulfillments"]
    _as_before_the_record(first)

    world.erp.track(order.nro, "A-3", carrier="Loggi", key=key_a)
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert updates == [fulfillment_a]
    assert _tracking(world, order.gid)[fulfillment_a][1] == "A-3"
    assert _tracking(world, order.gid)[fulfillment_b][1] != "A-3"


def test_two_unrecorded_nfe_fail_the_tracking_event_for_a_person(world: World, updates: list[str]) -> None:
    """Two NF-e, neither message with its record: which fulfillment carries A's goods cannot be
    told, so A's tracking event fails for a person (TRACKING_FULFILLMENT_UNKNOWN) naming the order,
    the NF-e and the code, the order flagged; nothing is sent."""
    order, items, _part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    key_a = first.response_payload[KEY]
    _another_nfe(world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]])
    world.poll()
    for message in world.messages("invoices", order):
        _as_before_the_record(message)

    world.erp.track(order.nro, "A-4", carrier="Loggi", key=key_a)
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.FAILED.value
    assert (later.error_detail or {}).get("code") == "TRACKING_FULFILLMENT_UNKNOWN"
    name = world.settlement(order.gid).name
    for named in (f"ERP order {order.nro}", f"Shopify order {name}", f"NF-e {key_a}", "tracking A-4 (Loggi)"):
        assert named in (later.error_text or ""), later.error_text
    assert updates == []
    assert "tracking A-4" in (world.link(order.gid).needs_attention or "")


def test_nothing_fulfilled_to_carry_the_tracking_is_told_never_blamed_on_a_pickup(
    world: World, updates: list[str]
) -> None:
    """The order's fulfillment order is on hold (someone held it): the NF-e is applied, nothing is
    fulfilled. Its own event's tracking is noted as not sent and the order flagged (the message ends
    done: its money and NF-e went through); a later event's tracking fails for a person
    (TRACKING_NO_FULFILLMENT), and once the hold is released its Retry fulfils the goods with it."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    _fulfillment_orders_status(world, order.gid, "ON_HOLD")
    world.erp.invoice(order.nro)  # with the sandbox carrier's code
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert "nothing of Shopify order" in first.response_payload["tracking"]
    assert "local pickup" not in first.response_payload["tracking"]
    flag = world.link(order.gid).needs_attention or ""
    assert "on hold" in flag and f"tracking SB{order.nro:09d}BR" in flag, flag

    world.erp.track(order.nro, "BR000000020BR", carrier="Correios")
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.FAILED.value
    assert (later.error_detail or {}).get("code") == "TRACKING_NO_FULFILLMENT"
    assert "tracking BR000000020BR (Correios)" in (later.error_text or "")
    assert updates == []

    _fulfillment_orders_status(world, order.gid, "OPEN")  # a person releases the hold
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    [shipped] = world.settlement(order.gid).fulfillments
    assert (shipped.tracking_company, shipped.tracking_number) == ("Correios", "BR000000020BR")


def test_a_reissued_nfes_tracking_reaches_the_goods_fulfillment_of_the_cancelled_one(
    world: World, updates: list[str]
) -> None:
    """NF-e 1 applied (its goods fulfilled, no tracking yet), then cancelled in the ERP and NF-e 2
    issued for the same goods (applied: nothing left to fulfil). The carrier's code for NF-e 2
    reaches the fulfillment made under NF-e 1, and the message records where it came from."""
    order, fulfillment = _invoiced_without_tracking(world)
    [first] = world.messages("invoices", order)
    key1 = first.response_payload[KEY]
    key2 = _another_nfe(world, order.nro, Decimal(first.response_payload["total"]), cancel_first=True)
    world.poll()
    _, second = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert second.response_payload["fulfillments"] == []

    world.erp.track(order.nro, "BR000000010BR", carrier="Correios", key=key2)
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert updates == [fulfillment]
    assert _tracking(world, order.gid)[fulfillment][1] == "BR000000010BR"
    assert later.response_payload[ADOPTED] == {
        "ids": [fulfillment],
        "from": f"NF-e {key1}, cancelled in the ERP: this NF-e re-issues its goods",
    }


def test_a_fulfillment_made_by_hand_before_the_nfe_is_left_alone_and_the_order_flagged(
    world: World, updates: list[str]
) -> None:
    """The store marks the order fulfilled by hand in Shopify before the ERP invoices it (no
    tracking); the NF-e then finds nothing to fulfil, and the carrier's code comes later. A person's
    fulfillment is not the NF-e's: nothing is sent to it, and the message and the order link say the
    ERP's tracking was not sent and why — not "a local pickup"."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    client = for_shop(world.domain)
    shop_order = client.order(order.gid, with_fulfillment_orders=True)
    client.fulfillment_create({fo.id: None for fo in shop_order.fulfillment_orders})
    time.sleep(1.05 - time.time() % 1)  # Shopify's times are to the second: the NF-e comes a second later
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    world.erp.track(order.nro, "BR000000011BR", carrier="Correios")
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    note = later.response_payload["tracking"]
    assert "fulfilled in Shopify by hand before the app fulfilled them" in note, note
    assert "local pickup" not in note
    assert updates == []
    flag = world.link(order.gid).needs_attention or ""
    assert "tracking BR000000011BR (Correios) not sent" in flag and "by hand" in flag, flag


def test_a_local_pickups_tracking_has_nothing_to_reach_and_needs_nobody(
    world: World, updates: list[str]
) -> None:
    """A local pickup (marked ready for pickup at the NF-e, no fulfillment): tracking given later
    has nothing to carry it, and no person needs to act."""
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual", shipping="RETIRADA")
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.response_payload["ready_for_pickup"], first.response_payload
    world.erp.track(order.nro, "BR000000012BR", carrier="Correios")
    world.poll()
    later = _later(world, order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert "is a local pickup" in later.response_payload["tracking"]
    assert updates == [] and world.link(order.gid).needs_attention is None


def test_a_fulfillment_a_person_made_while_the_nfe_waited_is_left_alone_not_taken_as_the_nfes(
    world: World, monkeypatch
) -> None:
    """The F event read, its first run failed before fulfilling; meanwhile the store ships by hand
    with its own carrier's code. The Retry finds nothing left to fulfil: the person's fulfillment,
    made while the app had asked Shopify for none, is not the NF-e's (its code kept, the order
    flagged), as one made before the app read the NF-e."""
    from ledger.errors import Rejected

    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    real, calls = invoices._settlement, []

    def failing_once(client, order_id):
        calls.append(order_id)
        if len(calls) == 1:
            raise Rejected("Shopify unavailable (test)", system="shopify", code="TEST_DOWN")
        return real(client, order_id)

    monkeypatch.setattr(invoices, "_settlement", failing_once)
    world.erp.invoice(order.nro)  # its F event gives the ERP's tracking
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value
    time.sleep(1.05 - time.time() % 1)  # a later second than the event's read
    client = for_shop(world.domain)  # the store ships by hand
    placed = client.order(order.gid, with_fulfillment_orders=True)
    client.fulfillment_create({fo.id: None for fo in placed.fulfillment_orders},
                              tracking={"company": "Loggi", "number": "PERSON-CODE-1"})  # fmt: skip
    sent: list[str] = []
    monkeypatch.setattr(invoice_tracking, "fulfillment_tracking_update", _counting(sent))

    invoices.replay(message.id)

    assert sent == []
    assert [f.tracking_number for f in world.settlement(order.gid).fulfillments] == ["PERSON-CODE-1"]
    note = world.link(order.gid).needs_attention or ""
    assert "fulfilled in Shopify by hand before the app fulfilled them" in note, note
