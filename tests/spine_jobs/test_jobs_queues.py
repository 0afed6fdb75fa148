"""jobs.queues: deterministic ids, refused duplicates, retry policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry

from ledger import queues


def test_job_key_keeps_safe_ids_and_hashes_the_rest():
    assert queues.job_key("flow", 1, "stock", "202611281200") == "flow-1-stock-202611281200"
    unsafe = queues.job_key("order", "gid://shopify/Order/1")
    assert unsafe == queues.job_key("order", "gid://shopify/Order/1")
    assert unsafe != queues.job_key("order", "gid://shopify/Order/2")
    long = queues.job_key("x" * 300)
    for key in (unsafe, long):
        assert len(key) <= queues.MAX_JOB_ID
        assert all(c.isalnum() or c in "-_" for c in key)


def test_enqueue_refuses_a_duplicate_and_attaches_retry(jobs_env, rconn):
    job = queues.enqueue("jobs.products.run", 1, queue=queues.CATALOG, job_id="flow-1-products-1")
    assert job is not None
    assert job.retries_left == 5 and job.retry_intervals == queues.RETRY_INTERVALS
    assert queues.enqueue("jobs.products.run", 1, queue=queues.CATALOG, job_id="flow-1-products-1") is None
    assert Queue("catalog", connection=rconn).job_ids == ["flow-1-products-1"]
    plain = queues.enqueue("jobs.products.run", 2, queue=queues.CATALOG, job_id="p2", retry=False)
    assert plain.retries_left is None


def test_unknown_queue_is_an_error(jobs_env):
    with pytest.raises(ValueError, match="unknown queue"):
        queues.get_queue("nope")


def test_a_requeued_failed_job_starts_again_with_its_retries(jobs_env, rconn):
    """A person's requeue from the failed list is a new start. RQ's own keeps the retries spent, so
    a catalog pass requeued while the other flow holds the catalog looked like its last try and
    gave up at once, shown "ok" (jobs.catalog_flow._last_try)."""
    job = queues.enqueue("jobs.products.run", 1, queue=queues.CATALOG, job_id="spent")
    Queue("catalog", connection=rconn).remove(job.id)  # it ran, and failed on its last try
    job.retries_left = 0
    job.save()
    job.set_status("failed")
    FailedJobRegistry(queue=Queue("catalog", connection=rconn)).add(job, ttl=60)
    again = queues.requeue_failed("spent", conn=rconn)
    assert Job.fetch(again.id, connection=rconn).retries_left == len(queues.RETRY_INTERVALS)
    assert Queue("catalog", connection=rconn).job_ids == ["spent"]


def test_a_job_that_fails_for_good_is_kept_thirty_days_not_rqs_year(jobs_env, rconn):
    """RQ keeps a failed job a year by default: every enqueue says FAILURE_TTL (30 days), so the
    failed-job registry of a shop's long outage empties itself."""
    assert queues.FAILURE_TTL == 30 * 24 * 3600
    job = queues.enqueue("jobs.no_such_module.run", 1, queue=queues.CATALOG, job_id="boom", retry=False)
    inbox = queues.enqueue_inbox(7, "products/update", conn=rconn)
    assert job.failure_ttl == Job.fetch(inbox, connection=rconn).failure_ttl == queues.FAILURE_TTL
    catalog = Queue("catalog", connection=rconn)
    SimpleWorker([catalog], connection=rconn).work(burst=True, with_scheduler=False)
    registry = FailedJobRegistry(queue=catalog)
    assert registry.get_job_ids() == ["boom"]
    expires = registry.get_expiration_time(job)
    assert abs((expires - datetime.now(UTC)).total_seconds() - queues.FAILURE_TTL) < 120
