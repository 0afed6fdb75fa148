"""The PostgreSQL statements one order's import costs the worker, pinned so a regression shows.

One worker's pace is bound by its round trips to PostgreSQL and the ORM's work around them
(docs/benchmarks.md, "Order latency (issue 7)", sessions 13-14; `python -m bench
order_roundtrips` measures them with the stack of the latency benchmark). A two-line Pix order
brings orders/create (the import: inbox row, the fast-path look, the trace's begin, the token,
the mapping's look-ups and link, the "maybe in the ERP" mark, the link's number and the trace's
success, the inbox outcome) and orders/paid (settled by the fast path); each transaction costs two
round trips more than its statements (BEGIN, COMMIT). A new step on this path may well be worth
its statement: raise the bound here with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from jobs import inbox
from ledger import db
from ledger.db import session_scope
from ledger.models import MessageStatus, WebhookInbox

IMPORT_STATEMENTS = 20  # orders/create of a two-line Pix order (28 before session 14)
PAID_STATEMENTS = 3  # orders/paid of the same order, already sent (4 before)
# Transactions (each a BEGIN and a COMMIT round trip): the reads alone run without one (db.read_scope).
IMPORT_COMMITS = (
    5  # begin, prepare, the mark before the POST, the number after it, the inbox outcome (8 before)
)
PAID_COMMITS = 1  # the inbox outcome (3 before)


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements this process sends to the ledger meanwhile, each COMMIT as "COMMIT"."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def committed(_conn) -> None:
        statements.append("COMMIT")

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    event.listen(engine, "commit", committed)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        event.remove(engine, "commit", committed)


def inbox_rows(world, gid: str) -> dict[str, int]:
    """Topic -> inbox row id of the order's delivered orders/create and orders/paid."""
    world.delivered()
    num = int(gid.rsplit("/", 1)[-1])
    with session_scope() as session:
        rows = session.execute(
            select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.raw_body).where(
                WebhookInbox.shop_domain == world.domain,
                WebhookInbox.topic.in_(("orders/create", "orders/paid")),
            )
        ).all()
    return {row.topic: row.id for row in rows if json.loads(bytes(row.raw_body))["id"] == num}


def test_one_import_and_its_paid_delivery_stay_within_their_statements(world):
    # A first order warms the process up as a running worker is (the ERP and Admin clients kept).
    first = inbox_rows(world, world.place(gateway="pix"))
    for topic in ("orders/create", "orders/paid"):
        inbox.process(first[topic])

    gid = world.place(gateway="pix")
    rows = inbox_rows(world, gid)
    with counted() as created:
        assert inbox.process(rows["orders/create"]) == "processed"
    with counted() as paid:
        assert inbox.process(rows["orders/paid"]) == "processed"

    message = world.message(gid)
    assert message is not None and message.status == MessageStatus.DONE.value
    assert world.link(gid).nro_pedvenda is not None and len(world.erp_orders_for(gid)) == 1
    for what, bound, commits in (
        (created, IMPORT_STATEMENTS, IMPORT_COMMITS),
        (paid, PAID_STATEMENTS, PAID_COMMITS),
    ):
        assert len(what) - what.count("COMMIT") <= bound, "\n".join(what)
        assert what.count("COMMIT") <= commits, "\n".join(what)
