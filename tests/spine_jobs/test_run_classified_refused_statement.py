"""jobs.orders.run_classified on PostgreSQL: a statement the database refuses under the work (an
IntegrityError, a CardinalityViolation: not an outage) breaks the transaction, so the bug was
recorded on a transaction PostgreSQL no longer takes (InFailedSqlTransaction) and the unit stayed
pending, its crash told to nobody (an order edit adding the same unsold product twice). A crash
is always recorded: failed, as a bug, with its traceback."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from jobs.orders import run_classified
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import ErrorClass, Message, MessageStatus, Shop


def _run(shop_id: int, work_of) -> tuple[BaseException, Message, Shop]:
    with session_scope() as session:
        message = trace.begin(session, shop_id, "order_edits", "edit:1", SHOPIFY_TO_ERP)
        session.commit()
        with pytest.raises(Exception) as raised:
            run_classified(session, message, lambda: work_of(session))
        message_id = message.id
    with session_scope() as session:
        message, shop = session.get(Message, message_id), session.get(Shop, shop_id)
        session.expunge_all()
        return raised.value, message, shop


def _duplicate(session: Session) -> None:
    """The same row twice in one INSERT ... ON CONFLICT DO UPDATE: PostgreSQL refuses it."""
    session.execute(text("CREATE TEMP TABLE twice (k int PRIMARY KEY, v int)"))
    session.execute(
        text("INSERT INTO twice VALUES (1, 1), (1, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
    )


def _assert_bug_recorded(message: Message, said: str) -> None:
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_class == ErrorClass.BUG.value
    assert said in message.error_text
    assert message.error_detail["traceback"].startswith("Traceback")


def test_a_statement_the_database_refuses_fails_the_unit_as_a_bug(shop_id):
    def work(session: Session) -> str:
        session.get(Shop, shop_id).domain = "written-by-the-work.myshopify.com"
        session.flush()
        _duplicate(session)
        return "done"

    raised, message, shop = _run(shop_id, work)
    assert isinstance(raised, DBAPIError) and type(raised.orig).__name__ == "CardinalityViolation"
    _assert_bug_recorded(message, "cannot affect row a second time")
    assert shop.domain != "written-by-the-work.myshopify.com"  # rolled back with the refused statement


def test_a_row_that_cannot_be_flushed_fails_the_unit_as_a_bug(shop_id):
    def work(session: Session) -> str:
        session.add(Shop(domain=session.get(Shop, shop_id).domain))  # UNIQUE domain
        session.flush()
        return "done"

    raised, message, _ = _run(shop_id, work)
    assert isinstance(raised, IntegrityError)
    _assert_bug_recorded(message, "IntegrityError")


def test_another_error_raised_over_a_refused_statement_fails_the_unit_as_a_bug(shop_id):
    """The work caught the database's refusal and raised an error of its own: the transaction is
    broken all the same."""

    def work(session: Session) -> str:
        try:
            _duplicate(session)
        except Exception as exc:
            raise KeyError("twice") from exc
        return "done"

    raised, message, _ = _run(shop_id, work)
    assert isinstance(raised, KeyError)
    _assert_bug_recorded(message, "KeyError")
