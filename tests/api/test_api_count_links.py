"""Each count on the Flows dashboard links to the Messages list of exactly the units it counts
(frontend/static/app/pages/flows.js `counts`): the list the link opens holds as many rows as the
count says, however many other messages of the flow and status lie around them, page by page.

The interrupted count (`counts_24h.stuck`: pending past the stale threshold, its job lost) must not
open every pending message: orders pending on purpose, waiting for their payment, are many and
outnumber it; nor one whose job RQ still holds (a bulk operation hours long). The done count is the
last 24 hours': its list must not be every done message ever."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from sqlalchemy import update

from ledger.db import session_scope
from ledger.models import Message, Role, utcnow

from .conftest import headers


def _rows(client) -> dict[str, dict]:
    body = client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()
    return {row["name"]: row for row in body["flows"]}


def _listed(client, query: dict[str, str], limit: int) -> list[int]:
    """Every id the Messages list answers for `query`, following its pages."""
    ids: list[int] = []
    before: int | None = None
    while True:
        args = {**query, "limit": str(limit), **({"before_id": str(before)} if before else {})}
        page = client.get("/api/messages", query_string=args, headers=headers(Role.VIEWER))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        ids += [m["id"] for m in body["messages"]]
        before = body["next_before_id"]
        if before is None:
            return ids


def _age(settings, ids: list[int], age: timedelta) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(update(Message).where(Message.id.in_(ids)).values(updated_at=utcnow() - age))


def test_the_interrupted_count_opens_a_list_of_exactly_the_interrupted_units(
    client, settings, shops, message, rq
):
    from jobs.orders import _mark_waiting

    lost: list[int] = []
    waiting: list[int] = []
    for n in range(60):  # unpaid boletos among the orders, a lost one every 20
        unit = message(shops.a, "orders", f"order:{1000 + n}")
        (lost if n % 20 == 7 else waiting).append(unit)
    running = message(shops.a, "orders", "order:2000")  # its job still queued in RQ: not lost
    message(shops.a, "orders", "order:2001")  # begun a minute ago: under way
    other_flow = message(shops.a, "invoices", "invoice:1")  # lost, but another flow's
    other_shop = message(shops.b, "orders", "order:1007")  # lost, but another shop's
    with session_scope(settings.database_url) as session:
        for unit in waiting:
            _mark_waiting(session.get(Message, unit), "PENDING", "paid")
        session.get(Message, running).job_id = "orders-still-queued"
    Queue("orders", connection=rq).enqueue("builtins.print", job_id="orders-still-queued")
    _age(settings, [*lost, *waiting, running, other_flow, other_shop], timedelta(hours=2))

    counted = _rows(client)["orders"]["counts_24h"]
    assert (counted["stuck"], counted["pending"]) == (len(lost), len(lost) + len(waiting) + 2)
    # the link's list (flows.js: the flow and the stuck filter), at the page's size and paged by 2
    for limit in (50, 2):
        assert _listed(client, {"flow": "orders", "stuck": "true"}, limit) == lost[::-1], limit
    assert sorted(_listed(client, {"stuck": "true"}, 50)) == [*lost, other_flow]
    rows = client.get("/api/messages?flow=orders&stuck=true", headers=headers(Role.VIEWER)).get_json()
    assert all(m["stuck"] for m in rows["messages"])  # each row also reads interrupted
    assert len(_listed(client, {"flow": "orders", "stuck": "false"}, 50)) == 62  # off: every message
    refused = client.get("/api/messages?stuck=yes", headers=headers(Role.VIEWER))
    assert refused.status_code == 400 and "stuck" in refused.get_json()["error"]["fields"]


def test_the_done_count_opens_a_list_of_the_units_done_since_the_time_it_counts_from(
    client, settings, shops, message
):
    recent = [message(shops.a, "stock", f"stock:1:{n}", done=True) for n in range(3)]
    older = [message(shops.a, "stock", f"stock:2:{n}", done=True) for n in range(5)]
    _age(settings, older, timedelta(days=3))
    answer = client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()
    counted = {row["name"]: row for row in answer["flows"]}["stock"]["counts_24h"]["done"]
    since = answer["finished_since"]  # the time the done counts count from, which the link passes on
    assert counted == len(recent)
    for limit in (50, 2):
        listed = _listed(client, {"flow": "stock", "status": "done", "updated_since": since}, limit)
        assert listed == recent[::-1], limit
    refused = client.get("/api/messages?updated_since=yesterday", headers=headers(Role.VIEWER))
    assert refused.status_code == 400 and "updated_since" in refused.get_json()["error"]["fields"]


def test_the_open_counts_open_lists_of_exactly_the_units_they_count(client, settings, shops, message):
    """Failed, parked and retrying are counted whatever their age, as their lists show them."""
    from ledger.errors import MappingMissing, Rejected, Transient

    errors = {
        "failed": lambda: Rejected("no", system="consinco"),
        "parked": lambda: MappingMissing("carrier", "x"),
        "retrying": lambda: Transient("later"),
    }
    made = {
        status: [message(shops.a, "orders", f"order:{status}-{n}", error=error()) for n in range(2 + i)]
        for i, (status, error) in enumerate(errors.items())
    }
    _age(settings, made["failed"][:2] + made["parked"][:1], timedelta(days=5))
    message(shops.a, "orders", "order:d1", done=True)
    counted = _rows(client)["orders"]["counts_24h"]
    for status, ids in made.items():
        assert counted[status] == len(ids), status
        assert _listed(client, {"flow": "orders", "status": status}, 2) == ids[::-1], status


def test_a_retry_whose_job_was_lost_is_one_open_failure_not_two(client, settings, shops, rq):
    """A Replay left retrying, its job gone from Redis: retrying (its status) and interrupted (its job
    lost), each count listing it. The page's open failures add failed, parked, retrying and stuck
    (flows.js `openFailures`): `stuck_retrying` says how many are in both, taken off once."""
    from ledger import trace
    from ledger.errors import Transient

    with session_scope(settings.database_url) as session:
        lost = trace.begin(session, shops.a, "products", "product:10", "erp_to_shopify", erp_id="10",
                           job_id=f"replay-{shops.a}-1-2")  # fmt: skip
        trace.fail(session, lost, Transient("Shopify answered HTTP 503"))
        lost.updated_at = utcnow() - timedelta(minutes=20)
        lost_id = lost.id
    c = _rows(client)["products"]["counts_24h"]
    assert _listed(client, {"flow": "products", "status": "retrying"}, 50) == [lost_id]
    assert _listed(client, {"flow": "products", "stuck": "true"}, 50) == [lost_id]
    assert (c["retrying"], c["stuck"], c["stuck_retrying"]) == (1, 1, 1)  # each count its list's
    assert c["failed"] + c["parked"] + c["retrying"] + c["stuck"] - c["stuck_retrying"] == 1
