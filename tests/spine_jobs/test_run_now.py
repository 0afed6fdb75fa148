"""'Run now' from the dashboard enqueues the flow's run under one id per shop and flow."""

from __future__ import annotations

from rq import Queue
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from jobs import invoices
from shopify_app.enqueue import enqueue_run


def test_run_now_of_invoices_polls_again_after_an_earlier_run_now_failed(shop_id, rconn):
    """Invoicing, order edits and cancellations run the EventoPedido poller under a fixed id; RQ
    keeps a failed job for a year under that id, which must not refuse every later click."""
    orders = Queue("orders", connection=rconn)
    old = orders.enqueue("jobs.order_events.run", shop_id, job_id=f"order-events-now-{shop_id}")
    orders.remove(old)
    old.set_status(JobStatus.FAILED)  # the ERP was down through RQ's retries
    FailedJobRegistry(queue=orders).add(old, ttl=365 * 24 * 3600)
    _, enqueued = enqueue_run(shop_id, "invoices", rconn)
    assert enqueued
    invoices.run(shop_id)  # what the worker runs for it
    poll = ("jobs.order_events.run", (shop_id,))
    assert poll in [(j.func_name, j.args) for j in orders.get_jobs()]
    invoices.run(shop_id)  # clicked again while the poll waits: enqueued once
    assert [(j.func_name, j.args) for j in orders.get_jobs()].count(poll) == 1
