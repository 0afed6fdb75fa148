"""The ERP connection moves to another Consinco (homologation -> production): the new ERP numbers
its events and its orders on its own, so its event 7 is not the old ERP's event 7 (already seen),
and its order 500 is not the Shopify order the old ERP's order 500 was."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from rq import Queue
from sqlalchemy import select

from erp.records import OrderEvent
from jobs import order_events, order_generation
from jobs.order_event_codec import event_payload
from ledger import audit, setup_moves, trace
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.flows import ERP_TO_SHOPIFY, SHOPIFY_TO_ERP
from ledger.kv import get_redis
from ledger.models import ErpConnection, Message, MessageStatus, OrderLink, Shop
from ledger.queues import ORDERS


def _event(seq: int, nro: int, order_gid: str | None) -> OrderEvent:
    return OrderEvent(seq, "F", nro, 7, order_gid, 1, "F", datetime(2026, 11, 28, tzinfo=UTC), False,
                      Decimal("50.00"), Decimal("50.00"), (), None, None, None, False)  # fmt: skip


def _shop() -> int:
    with session_scope() as session:
        shop = Shop(domain="mudou-erp.myshopify.com", settings={"seq_canal_venda": 7})
        session.add(shop)
        session.flush()
        session.add(ErpConnection(shop_id=shop.id, base_url="https://homolog.example", username="u",
                                  password_enc=b""))  # fmt: skip
        return shop.id


def _move_erp(shop_id: int) -> None:
    with session_scope() as session:  # what PUT /api/setup/erp-connection does with a new address
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shop_id)).one()
        before = {"base_url": row.base_url}
        row.base_url = "https://producao.example"
        after = {"base_url": row.base_url, **setup_moves.erp_moved(session, row)}
        audit.record(session, shop_id, "mudou-erp.myshopify.com", "1", order_generation.MOVED_ACTION,
                     "erp_connection", before, after)  # fmt: skip


def test_the_new_erps_event_is_not_taken_for_the_old_erps_event_of_the_same_number(env):
    shop_id = _shop()
    with session_scope() as session:
        # Homologation: Shopify order #1001 was its order 500, invoiced by its event 7 (done).
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
        old = trace.begin(
            session, shop_id, "invoices", order_events.unit_key(7), ERP_TO_SHOPIFY, erp_id="500"
        )
        trace.succeed(session, old, response={})
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=640))
    _move_erp(shop_id)
    # Production's own event 7: its order 640 (Shopify #2002) invoiced.
    assert order_events._take(shop_id, _event(7, 640, "gid://shopify/Order/2002")) == "enqueued"
    with session_scope() as session:
        new = order_events.message_for(session, shop_id, "invoices", 7)
        assert new is not None and new.id != old.id and new.unit_key == "event:7:erp1"
        assert new.shopify_id == "gid://shopify/Order/2002" and new.status == MessageStatus.PENDING.value
        assert order_events.message_for(session, shop_id, "invoices", 7, 0).id == old.id
    # The job finds its own message (not the old ERP's), under an id of its own.
    (job,) = Queue(ORDERS, connection=get_redis()).get_jobs()
    assert job.func_name == "jobs.invoices.apply_event" and tuple(job.args) == (shop_id, 7, 1)
    assert job.id == order_events.job_id(shop_id, 7, 1) != order_events.job_id(shop_id, 7)
    # Seen again by the next poll (the read overlaps its boundary): not enqueued twice.
    with session_scope() as session:
        trace.succeed(session, order_events.message_for(session, shop_id, "invoices", 7), response={})
    assert order_events._take(shop_id, _event(7, 640, "gid://shopify/Order/2002")) == "seen"


def test_an_event_finds_the_order_its_channel_id_names_not_another_with_its_number(env):
    shop_id = _shop()
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
        session.flush()
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=500))
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/3003", nro_pedvenda=510))
    with session_scope() as session:
        found = order_events.find_link(session, shop_id, _event(9, 500, "gid://shopify/Order/2002"))
        assert found is not None and found.shopify_order_id == "gid://shopify/Order/2002"
        # Its number's only link is another Shopify order than the event names: not that order's.
        assert order_events.find_link(session, shop_id, _event(10, 510, "gid://shopify/Order/4004")) is None
        # No channel id: by its number (the newest link of it).
        found = order_events.find_link(session, shop_id, _event(11, 510, None))
        assert found is not None and found.shopify_order_id == "gid://shopify/Order/3003"


def test_a_new_erps_hand_typed_order_is_not_taken_for_the_old_erps_order_of_its_number(env):
    """Homologation imported Shopify #1001 as its order 500; after the move, production's order 500
    was typed by hand in the ERP (no channel id): its invoice is another customer's, not #1001's.
    An order the app imported into production since is still found by its number alone."""
    shop_id = _shop()
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
    _move_erp(shop_id)
    with session_scope() as session:
        assert order_events.find_link(session, shop_id, _event(7, 500, None)) is None
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=640))
        imported = trace.begin(session, shop_id, "orders", "order:2002", SHOPIFY_TO_ERP, erp_id="640")
        trace.succeed(session, imported, response={order_generation.KEY: 1})
    assert order_events._take(shop_id, _event(7, 500, None)) == "unknown"
    with session_scope() as session:
        found = order_events.find_link(session, shop_id, _event(8, 640, None))
        assert found is not None and found.shopify_order_id == "gid://shopify/Order/2002"
        skipped = order_events.message_for(session, shop_id, "invoices", 7)
        assert skipped.status == MessageStatus.SKIPPED.value and skipped.shopify_id is None


def test_earlier_events_of_the_old_erp_do_not_hold_the_new_erps(env):
    shop_id = _shop()
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=500))
        old = trace.begin(
            session, shop_id, "order_edits", order_events.unit_key(3), ERP_TO_SHOPIFY, erp_id="500"
        )
        trace.fail(session, old, RuntimeError("the old ERP's picking edit failed"))
    _move_erp(shop_id)
    with session_scope() as session:
        order_events.wait_for_earlier(session, shop_id, _event(7, 500, None), must_apply=("order_edits",),
                                      generation=1)  # fmt: skip


def test_an_old_erps_event_replayed_after_the_move_is_skipped_and_nothing_applied(env):
    """The old ERP's event 7 (order 500, Shopify #1001) waits retrying when the ERP connection
    moves; in the new ERP, order 500 is another order. Its catch-up or a person's Retry skips it
    with the reason: nothing of it is applied against the ERP the shop uses now."""
    shop_id = _shop()
    event = _event(7, 500, None)  # no channel id: found by its ERP order number
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
        key = order_events.unit_key(7)
        old = trace.begin(session, shop_id, "invoices", key, ERP_TO_SHOPIFY, erp_id="500",
                          request=event_payload(event))  # fmt: skip
        trace.fail(session, old, Transient("Shopify throttled"))
    _move_erp(shop_id)
    applied: list[order_events.EventUnit] = []

    def work(unit: order_events.EventUnit) -> dict:
        applied.append(unit)
        return {}

    assert order_events.execute(old.id, work) == MessageStatus.SKIPPED.value
    assert applied == []
    with session_scope() as session:
        message = order_events.message_for(session, shop_id, "invoices", 7, 0)
        assert message is not None and message.status == MessageStatus.SKIPPED.value
        assert "belongs to the ERP the shop was connected to before" in (message.error_text or "")
        assert "nothing applied" in (message.error_text or "")
    # The new ERP's own event of the same number runs, on the new ERP's order 500 (Shopify #2002,
    # linked since the move), not on #1001.
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=500))
        new = trace.begin(session, shop_id, "invoices", order_events.unit_key(7, 1), ERP_TO_SHOPIFY,
                          erp_id="500", request=event_payload(event))  # fmt: skip
    assert order_events.execute(new.id, work) == MessageStatus.DONE.value
    assert [(unit.generation, unit.order_id) for unit in applied] == [(1, "gid://shopify/Order/2002")]


def test_the_old_erps_invoices_of_the_same_order_number_do_not_count_for_the_new_erps_order(env):
    """The old ERP's order 500 (Shopify #1001) was invoiced (NF-e of 50.00, done). In the new ERP,
    order 500 is Shopify #2002: its first NF-e adds up to its own total only, and the old ERP's
    picking edit of its order 500 does not stand for the new order's picking."""
    from jobs import invoice_documents, invoices

    shop_id = _shop()
    with session_scope() as session:
        session.add(OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/1001", nro_pedvenda=500))
        old = trace.begin(
            session, shop_id, "invoices", order_events.unit_key(7), ERP_TO_SHOPIFY, erp_id="500"
        )
        trace.succeed(session, old, response={"key": "3" * 44, "total": "50.00"})
        edit = trace.begin(
            session, shop_id, "order_edits", order_events.unit_key(6), ERP_TO_SHOPIFY, erp_id="500"
        )
        trace.succeed(session, edit, response={})
    _move_erp(shop_id)
    with session_scope() as session:
        link = OrderLink(shop_id=shop_id, shopify_order_id="gid://shopify/Order/2002", nro_pedvenda=500)
        session.add(link)
        new = trace.begin(
            session, shop_id, "invoices", order_events.unit_key(3, 1), ERP_TO_SHOPIFY, erp_id="500"
        )
        session.flush()
        unit = order_events.EventUnit(shop_id, "mudou-erp.myshopify.com", new.id, "invoices",
                                      _event(3, 500, "gid://shopify/Order/2002"), link.id,
                                      "gid://shopify/Order/2002", 1)  # fmt: skip
    assert invoice_documents._applied(unit) == []
    with session_scope() as session:
        assert invoices._picking_applied(session, unit, "3" * 44) is False
        old_unit = dataclasses.replace(unit, generation=0)
        assert invoices._picking_applied(session, old_unit, "3" * 44) is True


def test_an_old_erps_invoice_half_done_when_the_erp_moved_is_failed_for_a_person_not_skipped(world) -> None:
    """A capture pending at the gateway when the ERP connection moves: the old ERP's invoice message
    did Shopify-side work (the NF-e on the order, a capture asked). Skipping it as "nothing applied"
    hid a capture the gateway may refuse; it fails for a person, saying what to check."""
    from jobs import invoices
    from sandbox.shopify.resolvers.order_capture import answer_next_capture

    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    _total, message = world.invoice(order)
    assert message.status == MessageStatus.RETRYING.value
    with session_scope() as session:  # the merchant points the app at another ERP
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == world.shop_id)).one()
        setup_moves.erp_moved(session, row)
    assert invoices.replay(message.id) == MessageStatus.FAILED.value
    with session_scope() as session:
        failed = session.get(Message, message.id)
        assert failed.error_detail["code"] == "OTHER_ERP_HALF_DONE", failed.error_detail
        assert "check the order's payment in Shopify" in failed.error_text


def test_an_old_erps_invoice_that_made_its_fulfillment_is_half_done_though_no_capture_was_asked(
    world, monkeypatch
) -> None:
    """An order paid at checkout (nothing to capture): the old ERP's invoice wrote the NF-e and made
    its fulfillment, then Shopify was down at the tag; the ERP connection moves before the retry.
    No capture was asked and the run never ended (no "key"), but the goods' fulfillment and the NF-e
    are on the order: a person must look, it is not skipped as "nothing applied"."""
    from typing import Any

    from jobs import invoices
    from jobs.invoice_record import WRITTEN
    from shopify_app.admin_api.client import AdminClient

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise Transient("Shopify answered 503")

    monkeypatch.setattr(AdminClient, "tags_add", down)
    world.erp.invoice(order.nro)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.RETRYING.value
    [fulfillment] = message.response_payload["fulfillments"]
    assert "key" not in message.response_payload and "capture_asked" not in message.response_payload
    with session_scope() as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == world.shop_id)).one()
        setup_moves.erp_moved(session, row)
    assert invoices.replay(message.id) == MessageStatus.FAILED.value, "skipped as nothing applied"
    key = message.response_payload[WRITTEN]  # written with the metafields, before the fulfillment
    with session_scope() as session:
        failed = session.get(Message, message.id)
        assert failed.error_detail["code"] == "OTHER_ERP_HALF_DONE", failed.error_detail
        assert f"NF-e {key} is on the Shopify order" in failed.error_text
        assert f"its goods were fulfilled ({fulfillment})" in failed.error_text


def test_what_an_old_erps_invoice_message_did_is_named_from_the_moment_its_nfe_is_written() -> None:
    """The half-done check reads every mark a run leaves (jobs.invoice_record): the NF-e written on
    the order alone (the run stopped before capture and fulfillment) is Shopify-side work too."""
    assert order_events.half_done({}) is None
    assert order_events.half_done({"picking": "nothing changed"}) is None
    assert order_events.half_done({"nfe_written": "K"}) == "NF-e K is on the Shopify order"
    assert order_events.half_done({"fulfillments_for": "K", "fulfillments": ["F1"]}) == (
        "NF-e K is on the Shopify order, its goods were fulfilled (F1)"
    )
    assert order_events.half_done({"key": "K", "capture_asked": {"at": "x"}}) == (
        "NF-e K is on the Shopify order, its capture was asked (it may still be pending at the gateway)"
    )
