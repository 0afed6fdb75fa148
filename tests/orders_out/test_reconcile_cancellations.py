"""Reconciliation and cancellations: a cancellation whose webhooks were missed is enqueued (a parked
order stops holding stock, an ERP order stops being live), a cancellation or edit still being
processed is in flight (not drift), and an order of the ERP the shop was connected to before is
not compared with the ERP used now (its number there is another customer's order)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import select

from erp.client import ErpClient
from jobs import order_generation, reconcile, reconcile_cli
from jobs import orders as orders_flow
from jobs.stock_pending import pending_payloads
from jobs.worker import run_worker
from ledger import audit, drift, kv, setup_moves, trace
from ledger.db import session_scope
from ledger.models import ErpConnection, Message, MessageStatus, OrderLink
from sandbox.shopify.checkout import place_order
from shopify_app.admin_api import for_shop

from .conftest import World


def _cancel_in_shopify(world: World, gid: str) -> None:
    """orderCancel (Shopify's job is asynchronous: wait for it). Nothing receives the webhooks."""
    client = for_shop(world.domain)
    job = client.order_cancel(gid, reason="CUSTOMER", restock=True)
    for _ in range(100):
        if job.done:
            return
        time.sleep(0.05)
        job = client.job(job.id)
    raise AssertionError(f"Shopify's cancel job {job.id} never finished")


def _message(flow: str, unit_key: str) -> Message | None:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(Message.flow == flow, Message.unit_key == unit_key)
        ).first()
        if found is not None:
            session.expunge(found)
        return found


def _num(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def _queued() -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in Queue("orders", connection=kv.get_redis()).jobs]


def _parked(world: World, seed: int) -> str:
    """An order the orders flow parks (the shop has no payment form mapped for its gateway)."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 2}],
                      gateway="pix", discount_rate=0.0, seed=seed)  # fmt: skip
    orders_flow.import_order(world.shop_id, gid, trigger="webhook")
    assert _message("orders", f"order:{_num(gid)}").status == MessageStatus.PARKED.value
    return gid


def _move_erp(world: World) -> None:
    """What saving the ERP connection with another ERP's address does, its audit row included
    (the sandbox stands in for the new ERP: in production its order of an old number is another
    customer's)."""
    with session_scope() as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == world.shop_id)).one()
        after = setup_moves.erp_moved(session, row)
        before, moved = {"base_url": row.base_url}, {"base_url": row.base_url, **after}
        audit.record(session, world.shop_id, world.domain, "1", order_generation.MOVED_ACTION,
                     "erp_connection", before, moved)  # fmt: skip


def _order_findings(report: dict) -> dict[str, int]:
    return {key: n for key, n in drift.findings(report).items() if key.startswith("order")}


@pytest.fixture
def asked(monkeypatch) -> list[int]:
    """The ERP order numbers the report looks up."""
    numbers: list[int] = []
    real = ErpClient.get_order
    monkeypatch.setattr(ErpClient, "get_order", lambda self, nro: numbers.append(nro) or real(self, nro))
    return numbers


def test_an_order_of_the_erp_connected_before_is_listed_not_compared(
    world: World, monkeypatch, asked
) -> None:
    """After the move, the old number in the ERP used now is another customer's order (invoiced
    here): comparing them would report an invoice "not applied in Shopify" that does not exist."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    old = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _move_erp(world)
    world.erp.invoice(old.nro)  # the other customer's order, in the ERP used now
    new = world.linked_order([(world.plain(1), 1)], gateway="pix", seed=6)  # imported after the move

    asked.clear()
    report = reconcile.run(world.shop_id, stock_sample=1)

    orders = report["orders"]
    assert old.nro not in asked and new.nro in asked
    assert old.gid not in str(orders["status_differs"] + orders["totals_differ"] + orders["missing_in_erp"])
    assert [row["order"] for row in orders["of_erp_before"]] == [old.gid]
    assert orders["of_erp_before_count"] == 1 and report["summary"]["orders_of_erp_before"] == 1
    assert _order_findings(report) == {}  # counted, not drift
    hand = world.linked_order([(world.plain(2), 1)], gateway="pix", seed=7)
    with session_scope() as session:  # linked by hand, to an order of the ERP of before
        session.scalars(
            select(OrderLink).where(OrderLink.shopify_order_id == hand.gid)
        ).one().hand_linked_erp = 0
    with session_scope() as session:  # the many links' rule is jobs.order_generation's for one
        links = list(session.scalars(select(OrderLink).where(OrderLink.shop_id == world.shop_id)))
        before = order_generation.before_current(session, world.shop_id, links)
        assert before == {link.id for link in links if order_generation.of_link(session, link) != 1}
        assert len(before) == 2


def test_orders_of_the_erp_connected_before_do_not_fail_the_section_as_a_wrong_address(
    world: World, monkeypatch, asked
) -> None:
    """The ERP used now may not have the old numbers at all (404): they are not looked up, so they
    cannot make the section fail with ALL_ORDERS_NOT_FOUND (the address is right)."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    for n in range(reconcile.ALL_MISSING):
        world.linked_order([(world.plain(0), 1)], gateway="pix", seed=20 + n)
    with session_scope() as session:
        for link in session.scalars(select(OrderLink).where(OrderLink.shop_id == world.shop_id)):
            link.nro_pedvenda += 10_000  # numbers the ERP used now does not have
    _move_erp(world)
    asked.clear()

    report = reconcile.run(world.shop_id, stock_sample=1)

    assert "error" not in report["orders"], report["orders"]
    assert asked == [] and report["orders"]["of_erp_before_count"] == reconcile.ALL_MISSING
    assert report["orders"]["missing_in_erp"] == []


@pytest.mark.parametrize("linked", [True, False])
def test_a_parked_order_cancelled_while_its_webhooks_were_missed_is_cancelled(
    world: World, monkeypatch, linked: bool
) -> None:
    """Its parked message would ask for a mapping for good and its units keep counting as pending
    stock: the report enqueues the cancellation (which closes it), counts it, and does not enqueue
    it again once it ran."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    gid = _parked(world, seed=5)
    if not linked:  # parked before jobs.orders linked the orders it parks
        with session_scope() as session:
            for link in session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == gid)):
                session.delete(link)
    assert len(pending_payloads(world.shop_id)) == 1  # its units count as sold, not in the ERP yet
    _cancel_in_shopify(world, gid)

    report = reconcile.run(world.shop_id, stock_sample=1)

    orders = report["orders"]
    assert orders["cancellations_enqueued"] == [gid], orders
    assert report["summary"]["order_cancellations_enqueued"] == 1
    assert _order_findings(report) == {"order_cancellations_enqueued": 1}
    assert _queued() == [("jobs.cancellations.to_erp.cancel_in_erp", (world.shop_id, gid, None))]
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert _message("orders", f"order:{_num(gid)}").status == MessageStatus.SKIPPED.value
    assert _message("cancellations", f"cancel:{_num(gid)}").status == MessageStatus.SKIPPED.value
    assert pending_payloads(world.shop_id) == []

    again = reconcile.run(world.shop_id, stock_sample=1)
    assert again["orders"]["cancellations_enqueued"] == [] and _queued() == []
    assert again["summary"]["order_cancellations_enqueued"] == 0 and _order_findings(again) == {}


def test_a_missed_cancellation_of_an_order_in_the_erp_is_sent_to_the_erp(world: World, monkeypatch) -> None:
    """orders/cancelled missed for an order the ERP holds: the ERP order stayed live (to be picked
    and invoiced) and the report only said the statuses differ. The report enqueues the
    cancellation, once."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _cancel_in_shopify(world, order.gid)

    report = reconcile.run(world.shop_id, stock_sample=1)

    assert report["orders"]["cancellations_enqueued"] == [order.gid]
    assert report["orders"]["status_differs"] == []
    job = ("jobs.cancellations.to_erp.cancel_in_erp", (world.shop_id, order.gid, None))
    assert _queued() == [job]
    waiting = reconcile.run(world.shop_id, stock_sample=1)  # its job has not run yet
    assert waiting["orders"]["cancellations_enqueued"] == [] and _queued() == [job]
    assert waiting["orders"]["in_flight_count"] == 1 and waiting["orders"]["status_differs"] == []
    run_worker(burst=True, simple=True, with_scheduler=False)
    erp_client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    assert erp_client.get_order(order.nro).situacao == "C"
    erp_client.close()
    assert _message("cancellations", f"cancel:{_num(order.gid)}").status == MessageStatus.DONE.value

    again = reconcile.run(world.shop_id, stock_sample=1)
    assert again["orders"]["cancellations_enqueued"] == [] and _queued() == []
    assert again["summary"]["order_status_differs"] == 0 and _order_findings(again) == {}


def test_a_cancellation_changed_a_moment_ago_is_in_flight_not_status_drift(world: World) -> None:
    """Its orders/cancelled may still be in the inbox: in flight, as an order placed a moment ago
    is, nothing enqueued; the next report judges it."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _cancel_in_shopify(world, order.gid)

    report = reconcile.run(world.shop_id, stock_sample=1)

    orders = report["orders"]
    assert orders["status_differs"] == [] and orders["cancellations_enqueued"] == [] and _queued() == []
    assert orders["in_flight_count"] == 1 and report["summary"]["order_status_differs"] == 0


@pytest.mark.parametrize("flow", ["cancellations", "order_edits"])
def test_an_order_whose_cancellation_or_edit_is_being_processed_is_in_flight(
    world: World, monkeypatch, flow: str
) -> None:
    """Its message is pending or retrying (the ERP down a moment): its statuses or totals differ
    until it lands, which is no drift; the cancellation is not enqueued a second time."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 3)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[world.plain(0)]): 1})  # totals differ meanwhile
    if flow == "cancellations":
        _cancel_in_shopify(world, order.gid)
    unit = f"cancel:{_num(order.gid)}" if flow == "cancellations" else "edit:77"
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, flow, unit, "shopify_to_erp", shopify_id=order.gid)
        message.status = MessageStatus.RETRYING.value

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    assert orders["status_differs"] == [] and orders["totals_differ"] == [], orders
    assert orders["cancellations_enqueued"] == [] and _queued() == []
    assert orders["in_flight_count"] == 1


def test_the_cli_prints_the_orders_in_flight_and_placed_before_the_install() -> None:
    report = {
        "shop": "s.myshopify.com", "generated_at": "now", "since": "then",
        "orders": {"in_flight_count": 2, "placed_before_install_count": 3, "cancellations_enqueued": ["gid://x/1"],
                   "of_erp_before": [{"order": "gid://x/2", "nro_pedvenda": 9}]},
        "summary": {"errors": []},
    }  # fmt: skip
    printed = reconcile_cli.render(report)
    assert "orders in flight: 2" in printed and "orders placed while the app was not installed: 3" in printed
    assert "gid://x/1" in printed and "gid://x/2" in printed
    assert "in flight" not in reconcile_cli.render({**report, "orders": {}})  # an older report: not printed
