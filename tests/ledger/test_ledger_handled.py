"""Mark as handled (ledger.handled) where it crosses other writers: a mark and a replay starting at
once never both win (the mark closes only the row it read; the replay's begin leaves a row closed
since as it is), a refusal made moot later leaves the person's record, and a hand link's unlink
clears the notes of the ERP it was linked on."""

from __future__ import annotations

import pytest

from ledger import handled, order_link_by_hand, order_notes, trace
from ledger.db import get_sessionmaker
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, MessageStatus, OrderLink
from ledger.trace_bulk import UnitStart, begin_many

GID = "gid://shopify/Order/1001"


def _failed(session, shop, unit_key: str = "price:7", flow: str = "prices") -> Message:
    message = trace.begin(session, shop.id, flow, unit_key, ERP_TO_SHOPIFY)
    trace.fail(session, message, Rejected("refused", system="shopify", code="X"))
    session.commit()
    return message


def test_a_mark_after_a_job_began_the_message_is_refused_and_changes_nothing(session, shop, any_database_url):
    message = _failed(session, shop)
    assert message.status == MessageStatus.FAILED.value  # what the person saw
    other = get_sessionmaker(any_database_url)()
    try:  # a replay begins it meanwhile, in a session of its own
        trace.begin(other, shop.id, "prices", "price:7", ERP_TO_SHOPIFY)
        other.commit()
    finally:
        other.close()

    with pytest.raises(handled.Changed):
        handled.mark(session, message, by="31", note="priced by hand")

    session.rollback()
    row = session.get(Message, message.id)
    assert (row.status, row.attempts, handled.info(row)) == ("pending", 2, None)


def test_a_replays_begin_leaves_its_unit_closed_as_handled_and_begins_the_others(session, shop):
    message = _failed(session, shop)
    handled.mark(session, message, by="31", note="priced by hand")
    session.commit()
    token = trace.replaying.set((shop.id, "prices", "price:7"))
    try:
        with pytest.raises(trace.ClosedMeanwhile):
            trace.begin(session, shop.id, "prices", "price:7", ERP_TO_SHOPIFY)
        session.rollback()
        with pytest.raises(trace.ClosedMeanwhile):
            begin_many(session, shop.id, "prices", [UnitStart("price:8"), UnitStart("price:7")])
        session.rollback()
        assert trace.begin(session, shop.id, "prices", "price:8", ERP_TO_SHOPIFY).status == "pending"
    finally:
        trace.replaying.reset(token)
    row = session.get(Message, message.id)
    assert (row.status, handled.info(row)["note"]) == ("skipped", "priced by hand")
    # Outside its replay, new data begins it again as ever.
    assert trace.begin(session, shop.id, "prices", "price:7", ERP_TO_SHOPIFY).status == "pending"


def test_a_refusal_made_moot_later_leaves_a_message_closed_as_handled(session, shop):
    closed = _failed(session, shop, "pricelist:1:sku:P1E1")
    other = _failed(session, shop, "pricelist:1:sku:P2E1")
    handled.mark(session, closed, by="31", note="left at the base price")

    trace.succeed_open(session, shop.id, "prices", [closed.unit_key, other.unit_key], {"sent_in": "x"})

    assert (closed.status, handled.info(closed)["note"]) == ("skipped", "left at the base price")
    assert other.status == MessageStatus.DONE.value


def _hand_link(session, shop) -> OrderLink:
    link = OrderLink(shop_id=shop.id, shopify_order_id=GID, shopify_order_name="#1001",
                     nro_pedvenda=9001, hand_linked_erp=1)  # fmt: skip
    session.add(link)
    session.flush()
    message = trace.begin(session, shop.id, "invoices", "event:12:erp1", ERP_TO_SHOPIFY, shopify_id=GID,
                          erp_id="9001")  # fmt: skip
    trace.fail(session, message, Rejected("NF-e key missing", system="erp", code="X"))
    return link


def test_unlink_clears_the_released_events_notes_of_the_erp_it_was_linked_on(session, shop):
    link = _hand_link(session, shop)
    order_notes.put(link, "invoices", "NF-e key missing", event=12, generation=1)
    session.flush()
    assert order_link_by_hand.unlink_refusal(session, link) is None

    order_link_by_hand.unlink(session, link)

    assert order_notes.note_of(link, "invoices", event=12, generation=1) is None, link.needs_attention


def test_unlink_leaves_another_erps_note_of_the_same_event_number(session, shop):
    link = _hand_link(session, shop)
    order_notes.put(link, "invoices", "old ERP's refusal", event=12, generation=0)
    session.flush()

    order_link_by_hand.unlink(session, link)

    assert order_notes.note_of(link, "invoices", event=12, generation=0) is not None, link.needs_attention
