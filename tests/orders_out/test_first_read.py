"""A read of EventoPedido with no cursor (a shop's first poll, the first after an ERP move) starts
a day before the first order the shop linked (jobs.order_events.first_read_since), not at the ERP's
first event: an ERP with years of history would otherwise be read whole and every event of an
order the app never saw traced as an unknown order."""

from __future__ import annotations

from datetime import timedelta

import by_hand
import pytest
from sqlalchemy import delete, select

from jobs import order_events
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, OrderLink, Watermark, utcnow

from .conftest import NRO_EMPRESA, World


def _forget_cursor(shop_id: int) -> None:
    """What a shop's first poll finds (and an ERP move leaves: ledger.setup_moves.erp_moved)."""
    with session_scope() as session:
        rows = delete(Watermark).where(Watermark.shop_id == shop_id, Watermark.flow == order_events.FLOW)
        session.execute(rows)


def _statuses(shop_id: int, nro: int) -> list[str]:
    with session_scope() as session:
        stmt = select(Message.status).where(Message.shop_id == shop_id, Message.erp_id == str(nro))
        return list(session.scalars(stmt))


def _typed_and_invoiced(world: World) -> int:
    """An ERP order of the store's counter, typed and invoiced in the ERP (its S and F events)."""
    nro = by_hand.typed_in_the_erp(world.chain, [(world.plain(1), 1)], nro_empresa=NRO_EMPRESA, channel=1,
                                   cpf_cnpj="52998224725", channel_order_id=None)  # fmt: skip
    world.erp.invoice(nro)
    return nro


def test_the_first_read_starts_before_the_first_order_link_not_at_the_erps_first_event(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = _typed_and_invoiced(world)  # the ERP's past: no order of the shop's linked yet
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")  # the shop's first link
    world.erp.invoice(order.nro)
    after = _typed_and_invoiced(world)  # typed at the counter once the app runs: reported, as ever

    # The sandbox ERP's clock is this process's: neither the margin nor the read's overlap (which
    # every read starts that far before its cursor) is needed to tell the three orders apart.
    margin = order_events.FIRST_READ_MARGIN
    monkeypatch.setattr(order_events, "FIRST_READ_MARGIN", timedelta(0))
    monkeypatch.setenv("ERP_READ_OVERLAP", "0.000001")
    _forget_cursor(world.shop_id)
    counts = order_events.run(world.shop_id)

    assert _statuses(world.shop_id, history) == []  # not read: before anything of the shop's
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.PENDING.value and counts["enqueued"] == 2  # its S and F
    assert _statuses(world.shop_id, after) == [MessageStatus.SKIPPED.value] * 2  # "not linked", as ever
    assert counts["unknown"] == 2

    # The margin (the ERP's clock and zone against the app's) reaches back before the first link.
    monkeypatch.setattr(order_events, "FIRST_READ_MARGIN", margin)
    _forget_cursor(world.shop_id)
    order_events.run(world.shop_id)
    assert _statuses(world.shop_id, history) == [MessageStatus.SKIPPED.value] * 2


def test_a_shop_without_order_links_reads_from_a_day_ago_and_one_with_links_from_the_first(
    world: World,
) -> None:
    now = utcnow()
    with session_scope() as session:
        assert order_events.first_read_since(session, world.shop_id, now) == now - timedelta(days=1)
    world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.linked_order([(world.plain(0), 2)], gateway="pix")
    with session_scope() as session:
        [first, _] = session.scalars(select(OrderLink.created_at).where(OrderLink.shop_id == world.shop_id)
                                     .order_by(OrderLink.id))  # fmt: skip
        later = utcnow() + timedelta(days=5)
        assert order_events.first_read_since(session, world.shop_id, later) == first - timedelta(days=1)
