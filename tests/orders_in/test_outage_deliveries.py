"""Orders paid while the ERP is down for hours, then it is back.

Their deliveries' RQ retries run out while the
order's own message is left retrying, which the orders catch-up sends once the ERP is back. The
deliveries ended `failed`: the alert e-mail told each (two per order) as a webhook for a person to
requeue, and counted them open for ever after every order was in the ERP. They are handed to the
order's message now (`processed`, saying so): the message is what the pages show and the catch-up
runs; the catch-up sends them at its first run after the ERP is back, oldest order first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from jobs import alerts, orders
from jobs.order_catch_up import run_catch_up
from ledger import kv, queues
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus, WebhookInbox, utcnow


def last_try(world) -> None:
    """The deliveries' RQ jobs on their last try: the ERP down longer than RQ's backoff."""
    world.delivered()
    redis = kv.get_redis()
    with session_scope() as session:
        ids = session.scalars(select(WebhookInbox.id)).all()
    for inbox_id in ids:
        try:
            job = Job.fetch(queues.inbox_job_id(inbox_id), connection=redis)
        except NoSuchJobError:
            continue
        job.retries_left = 0
        job.save()
    world.drain()


def test_orders_paid_during_an_outage_are_not_told_as_failed_webhooks(world):
    world.chain.handle.erp.faults.set(down_for=4 * 3600)  # a Saturday maintenance window
    gids = [world.place(gateway="pix", seed=seed) for seed in (1, 2, 3)]
    last_try(world)
    assert {world.message(gid).status for gid in gids} == {MessageStatus.RETRYING.value}
    with session_scope() as session:
        now = utcnow()
        during = alerts.collect(session, world.shop_id, now - timedelta(hours=1), now, {}, "en")
        statuses = set(session.scalars(select(WebhookInbox.status)))
    assert statuses == {"processed"}
    assert not [item for item in during.items if item.group == "webhooks"], during.items

    world.chain.handle.erp.faults.clear()  # the ERP is back: the catch-up sends every order
    run_catch_up(world.shop_id, stale_after_seconds=0)
    world.drain()
    assert all(len(world.erp_orders_for(gid)) == 1 for gid in gids)
    assert {world.message(gid).status for gid in gids} == {MessageStatus.DONE.value}
    with session_scope() as session:
        assert alerts.open_counts(session, world.shop_id)["webhooks"] == 0


def test_orders_waiting_for_the_erp_go_at_the_first_catch_up_after_it_is_back(world):
    """Their RQ retries spent, they waited for their message to go 15 minutes stale (then up to 5
    minutes for the next catch-up) although the job that ran them had ended."""
    world.chain.handle.erp.faults.set(down_for=4 * 3600)
    gid = world.place(gateway="pix", seed=1)
    last_try(world)
    assert world.message(gid).status == MessageStatus.RETRYING.value
    world.chain.handle.erp.faults.clear()  # the ERP is back
    counts = orders.run(world.shop_id)  # the next orders catch-up, as scheduled (15 minutes' cutoff)
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1, counts


def test_orders_paid_during_an_outage_reach_the_erp_oldest_first(world):
    """Sent as last retried, an order placed at 08:00 got a later ERP number (picked later) than one
    placed at 08:10."""
    world.chain.handle.erp.faults.set(down_for=4 * 3600)
    first = world.place(gateway="pix", seed=1)
    last_try(world)
    second = world.place(gateway="pix", seed=2)
    last_try(world)
    with pytest.raises(Transient):  # the first tried again during the outage: touched last
        orders.replay(world.message(first).id)
    world.chain.handle.erp.faults.clear()
    orders.run(world.shop_id, stale_after_seconds=0)
    world.drain()
    [a], [b] = world.erp_orders_for(first), world.erp_orders_for(second)
    assert a["nropedvenda"] < b["nropedvenda"]
