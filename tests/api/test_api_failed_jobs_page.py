"""The Failed jobs page of one shop, after other shops' (or its own) later failures."""

from __future__ import annotations

import sys
import types

import pytest
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from ledger import queues
from shopify_app import api_jobs

from .conftest import headers

PROBE = "jobs.failing_probe_spine"


def boom(*_args: object) -> None:
    raise RuntimeError("the stock pass broke")


@pytest.fixture(autouse=True)
def probe_module(monkeypatch):
    module = types.ModuleType(PROBE)
    module.run = module.replay = boom
    monkeypatch.setitem(sys.modules, PROBE, module)


def test_a_shops_failed_run_stays_listed_after_another_shops_200_later_failures(client, shops, rq):
    queue = Queue("catalog", connection=rq)
    queue.enqueue(f"{PROBE}.run", shops.a, job_id="run-a-friday")
    SimpleWorker([queue], connection=rq).work(burst=True)
    # shop B's ERP was down over the weekend: its runs failed one after another
    for n in range(200):
        queue.enqueue(f"{PROBE}.run", shops.b, job_id=f"run-b-{n}")
    SimpleWorker([queue], connection=rq).work(burst=True)
    assert "run-a-friday" in FailedJobRegistry(queue=queue).get_job_ids()  # RQ still holds it
    listed = client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]
    assert [j["id"] for j in listed] == ["run-a-friday"], "shop A's failed run vanished from its page"
    assert client.post("/api/jobs/failed/run-a-friday/requeue", headers=headers()).status_code == 202


def test_a_listing_reads_a_bounded_part_of_the_registry_and_says_more_may_exist(
    client, shops, rq, monkeypatch
):
    """Past SCAN entries of a queue's registry the page stops reading and says so (`more`); a run
    further down is still requeued by its id."""
    monkeypatch.setattr(api_jobs, "SCAN", 30)
    monkeypatch.setattr(queues, "FAILED_CHUNK", 10)
    queue = Queue("catalog", connection=rq)
    queue.enqueue(f"{PROBE}.run", shops.a, job_id="run-a-old", failure_ttl=3600)
    for n in range(40):
        queue.enqueue(f"{PROBE}.run", shops.b, job_id=f"run-b-{n}", failure_ttl=7200)
    queue.enqueue(f"{PROBE}.run", shops.a, job_id="run-a-new", failure_ttl=9000)
    SimpleWorker([queue], connection=rq).work(burst=True)
    answer = client.get("/api/jobs/failed", headers=headers()).get_json()
    assert [j["id"] for j in answer["jobs"]] == ["run-a-new"] and answer["more"] is True
    assert client.post("/api/jobs/failed/run-a-old/requeue", headers=headers()).status_code == 202
    assert client.post("/api/jobs/failed/run-b-3/requeue", headers=headers()).status_code == 404  # not A's
    monkeypatch.setattr(api_jobs, "SCAN", 100)
    answer = client.get("/api/jobs/failed", headers=headers()).get_json()
    assert [j["id"] for j in answer["jobs"]] == ["run-a-new"] and answer["more"] is False


def _failed(conn, shop_id: int, name: str, score: float) -> str:
    """A failed job of the catalog queue at `score` (its place in the registry: newer higher)."""
    from rq.job import Job

    job = Job.create(f"{PROBE}.run", args=(shop_id,), connection=conn, origin="catalog", id=name)
    job.save()
    conn.zadd(FailedJobRegistry(queue=Queue("catalog", connection=conn)).key, {job.id: score})
    return job.id


@pytest.mark.parametrize("meanwhile", ["another fails", "another leaves"])
def test_a_failed_job_at_a_chunks_edge_is_listed_once_whatever_another_shop_does_meanwhile(
    client, shops, rq, monkeypatch, meanwhile
):
    """The registry was read by rank, chunk after chunk: another shop's job failing (or requeued by
    its operator) between two reads shifted every rank, and the job at the edge was listed twice
    (its second Requeue answered 409) or not at all (the page said "no failed jobs")."""
    import time

    from rq.job import Job

    base = time.time() + 100_000
    for n in range(50):  # older, another shop's: a second chunk exists
        _failed(rq, shops.b, f"b-old-{n}", base + n)
    mine = _failed(rq, shops.a, "a-mine", base + 100)
    newer = [_failed(rq, shops.b, f"b-new-{n}", base + 200 + n) for n in range(queues.FAILED_CHUNK - 1)]
    if meanwhile == "another leaves":
        newer.append(_failed(rq, shops.b, "b-new-last", base + 500))  # mine is the second chunk's first
    real, calls = Job.fetch_many, []

    def fetch_many(ids, connection, *a, **k):
        calls.extend([ids] if ids else [])  # the other queues' registries are empty
        if ids and len(calls) == 1 and meanwhile == "another fails":
            _failed(rq, shops.b, "b-meanwhile", base + 10_000)
        elif ids and len(calls) == 1:
            rq.zrem(FailedJobRegistry(queue=Queue("catalog", connection=rq)).key, newer[0])
        return real(ids, connection, *a, **k)

    monkeypatch.setattr(queues.Job, "fetch_many", staticmethod(fetch_many))
    listed = [j["id"] for j in client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]]
    assert listed == [mine]
