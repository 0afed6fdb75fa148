"""A schema error on the demo's SQLite ('no such table': code newer than its migration) is not an
outage: it never heals by waiting, so the unit fails as a bug with its traceback, as an
IntegrityError does -- not left 'retrying' for the orders catch-up to replay on every pass."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from jobs.orders import run_classified
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import ErrorClass, Message, MessageStatus


@pytest.fixture
def database_url(sqlite_database_url) -> str:
    """The demo's database (SQLite): its schema errors are OperationalError."""
    return sqlite_database_url


def test_no_such_table_under_a_unit_is_a_bug_not_an_outage(shop_id):
    with session_scope() as session:
        message = trace.begin(session, shop_id, "cancellations", "cancel:1001", SHOPIFY_TO_ERP)
        session.commit()

        def work() -> str:
            session.execute(text("SELECT * FROM table_a_migration_adds"))
            return "done"

        with pytest.raises(Exception, match="no such table"):
            run_classified(session, message, work)
        message_id = message.id
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message.error_class == ErrorClass.BUG.value, (message.status, message.error_text)
        assert message.status == MessageStatus.FAILED.value
