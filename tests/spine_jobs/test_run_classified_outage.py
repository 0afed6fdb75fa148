"""jobs.orders.run_classified (the cancellations' and edits' units): Redis or the database failing
under the work is recorded as retrying and re-raised as Transient for RQ's Retry, not a bug."""

from __future__ import annotations

import pytest
from psycopg import errors as pg
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from jobs.orders import run_classified
from ledger import trace
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import ErrorClass, Message, MessageStatus


class _Driver(Exception):
    pass


def _run(shop_id: int, exc: Exception) -> tuple[BaseException, Message]:
    with session_scope() as session:
        message = trace.begin(session, shop_id, "cancellations", "cancel:1001", SHOPIFY_TO_ERP)
        session.commit()

        def work() -> str:
            raise exc

        with pytest.raises(Exception) as raised:
            run_classified(session, message, work)
        message_id = message.id
    with session_scope() as session:
        return raised.value, session.get(Message, message_id)


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (
            OperationalError("UPDATE ...", {}, pg.DeadlockDetected("deadlock detected")),
            "database unavailable",
        ),
        (RedisConnectionError("Connection refused"), "Redis unreachable"),
    ],
)
def test_an_outage_under_the_work_leaves_the_unit_retrying(shop_id, exc, said):
    raised, message = _run(shop_id, exc)
    assert isinstance(raised, Transient) and raised.__cause__ is exc
    assert message.status == MessageStatus.RETRYING.value
    assert message.error_class == ErrorClass.TRANSIENT.value
    assert message.error_text.startswith(said)


def test_a_statement_the_database_refuses_is_a_bug(shop_id):
    exc = IntegrityError("INSERT ...", {}, _Driver("duplicate key value"))
    raised, message = _run(shop_id, exc)
    assert raised is exc
    assert message.status == MessageStatus.FAILED.value
    assert message.error_class == ErrorClass.BUG.value
