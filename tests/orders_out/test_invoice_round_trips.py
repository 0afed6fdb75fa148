"""The ledger reads one invoice event costs to know the order's NF-e (jobs.invoice_documents.known),
pinned so a regression shows: every invoice event of an order asks them, and the order's other
messages that are not done are read once for all the rules that need them (`_not_done`), not once
per rule in a transaction each (3 statements and 4 transactions fewer per invoice event: an invoice
poll of a second NF-e went from 62 statements and 31 commits to 59 and 27)."""

from __future__ import annotations

from orders_in.test_import_round_trips import counted

from jobs import invoice_documents, order_clients, order_events
from jobs.order_event_codec import event_from_payload
from ledger.models import MessageStatus
from shopify_app.admin_api.client import AdminClient

from .conftest import World
from .test_invoice_documents import _first_part_in_the_erp, _nfe_of_item
from .test_invoice_own_capture import _cut_short

# The order's other done messages, its other messages not done, this message's own response.
KNOWN_STATEMENTS = 3  # 6 before: the messages not done read once per rule (four rules)
KNOWN_COMMITS = 2  # 6 before: the messages not done read outside a transaction (ledger.db.read_scope)


def test_the_order_nfe_are_known_in_three_reads_whatever_its_messages_not_done(
    world: World, monkeypatch
) -> None:
    """NF-e A's run is cut short after its capture landed (its message left failed: counted among
    the order's NF-e from its capture begun), then NF-e B is applied. What B's event knows of the
    order's NF-e costs three SELECTs and two transactions, and still counts A."""
    order, items, _part_a = _first_part_in_the_erp(world)
    real = AdminClient.order_capture
    monkeypatch.setattr(AdminClient, "order_capture", _cut_short(real))
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, first.error_text
    monkeypatch.setattr(AdminClient, "order_capture", real)
    second, _part_b = _nfe_of_item(world, order, items, world.plain(1))

    event = event_from_payload(second.request_payload)
    unit = order_events.EventUnit(world.shop_id, world.domain, second.id, "invoices", event,
                                  world.link(order.gid).id, order.gid)  # fmt: skip
    documents = list(order_clients.erp_client(world.shop_id).get_order(order.nro).invoices)
    with counted() as statements:
        known = invoice_documents.known(unit, event, documents)
    assert known.keys == [first.response_payload["capture_begun"], second.response_payload["key"]], known
    assert known.begun > 0, known
    assert len(statements) - statements.count("COMMIT") <= KNOWN_STATEMENTS, "\n".join(statements)
    assert statements.count("COMMIT") <= KNOWN_COMMITS, "\n".join(statements)
