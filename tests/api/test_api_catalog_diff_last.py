"""The catalog dry run's last result stays (per shop, stored by the job that produced it, with
when it ran and who asked for it) until a new run: a reload or another page and back shows it
again instead of asking for another run. A run still going is named so the page resumes it."""

from __future__ import annotations

import pytest
from rq import Queue
from spine_auth.factories import SHOP_B
from sqlalchemy import update

import jobs.catalog_diff
from ledger.db import session_scope
from ledger.models import Role, StaffRole

from .conftest import USERS, headers

RESULT = {"counts": {"create": 3, "unchanged": 40}, "create": [], "generated_at": "2026-11-30T08:00:00+00:00"}


def _run_queued(rq, monkeypatch) -> str:
    """Run the dry run waiting on the catalog queue as the worker would (its ERP read stubbed)."""
    monkeypatch.setattr(jobs.catalog_diff, "compute", lambda shop_id, drift=False: dict(RESULT))
    (job,) = Queue("catalog", connection=rq).get_jobs()
    jobs.catalog_diff.run(*job.args, job_id=job.id, **job.kwargs)
    job.delete()
    return job.id


@pytest.fixture
def named_admin(settings, shops) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(
            update(StaffRole)
            .where(StaffRole.shop_id == shops.a, StaffRole.user_id == USERS[Role.ADMIN])
            .values(name="Maria Souza")
        )


def test_the_last_dry_run_is_kept_with_when_and_by_whom(client, shops, rq, monkeypatch, named_admin):
    nothing = client.get("/api/setup/catalog-diff/last", headers=headers(Role.VIEWER))
    assert nothing.status_code == 200
    assert nothing.get_json() == {"last": None, "running": None}

    client.post("/api/setup/catalog-diff", headers=headers())
    job_id = _run_queued(rq, monkeypatch)
    # The RQ job's own record and its result key can expire: the last result is kept apart.
    rq.delete(f"catalog_diff:{shops.a}:{job_id}")
    last = client.get("/api/setup/catalog-diff/last", headers=headers(Role.VIEWER)).get_json()
    assert last["running"] is None
    assert last["last"]["job_id"] == job_id
    assert last["last"]["ran_at"] == RESULT["generated_at"]
    assert last["last"]["ran_by"] == {"user_id": USERS[Role.ADMIN], "name": "Maria Souza"}
    assert last["last"]["result"]["counts"] == RESULT["counts"]

    # Another shop has its own (none).
    other = client.get("/api/setup/catalog-diff/last", headers=headers(Role.VIEWER, shop=SHOP_B))
    assert other.get_json()["last"] is None

    # A new run under way: the last result stays, and the run going on is named to poll.
    started = client.post("/api/setup/catalog-diff", headers=headers()).get_json()["job_id"]
    during = client.get("/api/setup/catalog-diff/last", headers=headers(Role.VIEWER)).get_json()
    assert during["last"]["job_id"] == job_id
    assert during["running"] == started
    assert _run_queued(rq, monkeypatch) == started
    after = client.get("/api/setup/catalog-diff/last", headers=headers(Role.VIEWER)).get_json()
    assert after["last"]["job_id"] == started and after["running"] is None


def test_a_second_click_while_a_dry_run_waits_answers_that_run(client, shops, rq, monkeypatch):
    """A whole-catalog dry run reads both ERP streams: a double click must not queue two."""
    first = client.post("/api/setup/catalog-diff", headers=headers())
    second = client.post("/api/setup/catalog-diff", headers=headers())
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.get_json()["job_id"] == first.get_json()["job_id"]
    assert _run_queued(rq, monkeypatch) == first.get_json()["job_id"]
    third = client.post("/api/setup/catalog-diff", headers=headers())  # that one done: a new run
    assert third.status_code == 202 and third.get_json()["job_id"] != first.get_json()["job_id"]


def test_a_dry_run_id_rq_could_not_hold_is_a_404_not_a_500(client, shops, rq) -> None:
    """A dry run's id past the caller's own prefix may hold only what RQ's ids hold (openapi.yaml's
    pattern): a dot or an accented letter was passed to RQ, which refused it (ValueError, 500)."""
    for job_id in (
        f"catalog-diff-{shops.a}-a.b",
        f"catalog-diff-{shops.a}-%C3%A9",
        f"catalog-diff-{shops.a}-" + "x" * 90,
    ):
        answer = client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers(Role.VIEWER))
        assert answer.status_code == 404, (job_id, answer.get_json())
        assert answer.get_json()["error"]["code"] == "not_found"
