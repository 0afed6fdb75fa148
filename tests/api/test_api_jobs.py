"""Failed jobs: RQ's failed registry as it concerns the caller's shop, and requeue."""

from __future__ import annotations

import sys
import types

import pytest
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from ledger.models import Role

from .conftest import headers

PROBE = "jobs.failing_probe"


def boom(*_args: object) -> None:
    raise RuntimeError("ERP said no for 52998224725")


@pytest.fixture(autouse=True)
def probe_module(monkeypatch):
    """A stand-in flow module whose run and replay fail loudly (a bug reaching RQ)."""
    module = types.ModuleType(PROBE)
    module.run = module.replay = boom
    monkeypatch.setitem(sys.modules, PROBE, module)


def _fail(rq, job_id: str, func: str, *args: object) -> None:
    queue = Queue("catalog", connection=rq)
    queue.enqueue(func, *args, job_id=job_id)
    SimpleWorker([queue], connection=rq).work(burst=True)
    assert job_id in FailedJobRegistry(queue=queue).get_job_ids()


def test_failed_jobs_are_listed_per_shop_masked_and_requeued(client, shops, rq, message):
    _fail(rq, "run-a", f"{PROBE}.run", shops.a)
    _fail(rq, "run-b", f"{PROBE}.run", shops.b)
    # A replay names its message: attributed through the message's shop.
    _fail(rq, "replay-a", f"{PROBE}.replay", message(shops.a, "stock", "sku-9", done=True))
    _fail(rq, "replay-b", f"{PROBE}.replay", message(shops.b, "stock", "sku-9", done=True))
    _fail(rq, "not-a-flow", f"{__name__}.boom", shops.a)
    listed = client.get("/api/jobs/failed", headers=headers(Role.VIEWER)).get_json()["jobs"]
    assert {j["id"] for j in listed} == {"run-a", "replay-a"}  # not shop B's, not a non-flow function
    assert all("52998224725" not in j["error"] and "RuntimeError" in j["error"] for j in listed)
    revealed = client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]
    assert all("52998224725" in j["error"] for j in revealed)

    assert client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.VIEWER)).status_code == 403
    assert client.post("/api/jobs/failed/run-b/requeue", headers=headers(Role.OPERATOR)).status_code == 404
    done = client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.OPERATOR))
    assert done.status_code == 202
    assert [job.id for job in Queue("catalog", connection=rq).get_jobs()] == ["run-a"]
    assert {j["id"] for j in client.get("/api/jobs/failed", headers=headers()).get_json()["jobs"]} == {
        "replay-a"
    }


def test_a_job_requeued_by_someone_else_a_moment_ago_is_a_409_not_a_500(client, shops, rq, monkeypatch):
    """Two operators press retry at once: the second finds the job no longer in the failed registry."""
    from rq.exceptions import InvalidJobOperation

    from ledger import queues

    _fail(rq, "run-a", f"{PROBE}.run", shops.a)

    def raced(*_args, **_kwargs):
        raise InvalidJobOperation("Job is not in the failed registry")

    monkeypatch.setattr(queues, "requeue_failed", raced)
    second = client.post("/api/jobs/failed/run-a/requeue", headers=headers(Role.OPERATOR))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "job_not_failed"
