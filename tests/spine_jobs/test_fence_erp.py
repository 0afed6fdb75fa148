"""The fence's ERP check: a run whose shop's ERP connection moved to another ERP since it built its
ERP client moves no ERP cursor (the move forgot them so the new ERP is read whole)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from erp import factory
from jobs.locks import flow_lock
from ledger import setup_moves, watermarks
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import ErpConnection

STARTED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def connected(shop_id) -> int:
    with session_scope() as session:
        session.add(ErpConnection(shop_id=shop_id, base_url="http://erp-homolog.example.com.br/api",
                                  username="u", password_enc=encrypt("p")))  # fmt: skip
    return shop_id


def _move(shop_id: int) -> None:
    with session_scope() as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shop_id)).one()
        before, row.base_url = row.base_url, "http://erp-prod.example.com.br/api"
        setup_moves.erp_moved(session, row, before)


def test_a_run_that_read_the_erp_left_writes_no_cursor(connected, rconn) -> None:
    with flow_lock(connected, "stock", conn=rconn):
        factory.for_shop(connected).close()  # the run reads the homologation ERP
        _move(connected)  # the merchant saves production's address meanwhile
        with session_scope() as session, pytest.raises(Transient) as stopped:
            watermarks.advance(session, connected, "stock", "1", STARTED, 0, STARTED)
        assert stopped.value.words[0] == "erp_moved_during_run"
        assert "reads the new ERP from the start" in str(stopped.value)
        with session_scope() as session:  # its cursor over the ledger's own rows is not the ERP's
            watermarks.advance(session, connected, "stock", "orders_closed", STARTED, 0, STARTED)
    with session_scope() as session:
        assert watermarks.read(session, connected, "stock", "1").last_changed_at is None
        assert watermarks.read(session, connected, "stock", "orders_closed").last_changed_at == STARTED


def test_a_run_that_began_after_the_move_moves_its_cursor(connected, rconn) -> None:
    _move(connected)
    with flow_lock(connected, "prices", conn=rconn):
        factory.for_shop(connected).close()
        with session_scope() as session:
            watermarks.advance(session, connected, "prices", "1:1", STARTED, 0, STARTED)
    with session_scope() as session:
        assert watermarks.read(session, connected, "prices", "1:1").last_changed_at == STARTED


def test_a_second_flow_lock_is_part_of_the_same_run(connected, rconn) -> None:
    """The catalog flows hold their flow lock and the catalog lock: the client built under the
    first is the run's, whichever lock the advance runs under."""
    with flow_lock(connected, "products", conn=rconn):
        factory.for_shop(connected).close()
        _move(connected)
        with (
            flow_lock(connected, "catalog", conn=rconn),
            session_scope() as session,
            pytest.raises(Transient),
        ):
            watermarks.advance(session, connected, "products", "", STARTED, 0, STARTED)


def test_an_event_of_the_erp_left_is_not_taken_as_the_new_ones(connected, rconn) -> None:
    """The poller read homologation's events; the connection moved to production meanwhile: an
    event it takes now would be keyed and looked up as production's (its number another order
    there), so the poll stops (transient) and writes no message."""
    from decimal import Decimal

    from erp.records import OrderEvent
    from jobs import order_events
    from ledger.models import Message

    event = OrderEvent(seq_evento=7, kind="C", nro_pedvenda=77, seq_canal_venda=None, channel_order_id=None,
                       nro_empresa=1, situacao=None, occurred_at=STARTED, altered=False, total=Decimal(0),
                       total_served=None, lines=(), invoice=None, tracking=None, cancel_reason=None,
                       nfe_cancelled=False)  # fmt: skip
    with flow_lock(connected, order_events.FLOW, conn=rconn):
        factory.for_shop(connected).close()
        _move(connected)
        with pytest.raises(Transient) as stopped:
            order_events._take(connected, event)
    assert stopped.value.words[0] == "erp_moved_during_run"
    with session_scope() as session:
        assert session.scalars(select(Message).where(Message.shop_id == connected)).all() == []
