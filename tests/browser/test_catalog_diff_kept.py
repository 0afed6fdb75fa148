"""The catalog dry run's result survives a reload and a trip to another page: the section opens
with the last run, when it ran and who asked, and says it may be out of date (a viewer is told to
ask an admin, not to press a button they do not have)."""

from __future__ import annotations

import pytest
import redis
from playwright.sync_api import expect
from rq import Queue

import jobs.catalog_diff

from .conftest import settled

pytestmark = pytest.mark.browser

COUNTS = {"create": 4, "change": 0, "archive": 0, "unchanged": 38, "waiting": 0}
RESULT = {"counts": COUNTS, "create": [], "change": [], "archive": [], "waiting": [],
          "generated_at": "2026-11-30T11:00:00+00:00"}  # fmt: skip


def _work_the_dry_run(fresh, monkeypatch) -> None:
    """What the worker does with the queued dry run (its ERP and Shopify reads stubbed)."""
    monkeypatch.setattr(jobs.catalog_diff, "compute", lambda shop_id, drift=False: dict(RESULT))
    conn = redis.Redis.from_url(fresh.settings.redis_url)
    (job,) = Queue("catalog", connection=conn).get_jobs()
    jobs.catalog_diff.run(*job.args, job_id=job.id, **job.kwargs)


@pytest.mark.parametrize(
    ("locale", "button", "last", "stale"),
    [
        ("pt-BR", "Simular", "Última simulação", "podem ter mudado desde então"),
        ("en", "Run the dry run", "Last dry run", "may have changed since"),
    ],
)
def test_the_last_dry_run_shows_after_a_reload_with_its_time(
    open_page, fresh, monkeypatch, locale: str, button: str, last: str, stale: str
) -> None:
    page = open_page("/app/setup", locale=locale)
    # every section above it loaded: one growing as the click lands moves the button from under it
    expect(page.locator("s-section s-spinner")).to_have_count(0)
    with page.expect_response("**/api/setup/catalog-diff"):  # the job is on the queue
        page.get_by_role("button", name=button).click()
    _work_the_dry_run(fresh, monkeypatch)
    expect(page.get_by_test_id("catalog-diff-result")).to_be_visible()

    page.reload()
    kept = page.get_by_test_id("catalog-diff-last")
    expect(kept).to_contain_text(last)
    expect(kept).to_contain_text(stale)
    expect(kept).to_contain_text("8:00")  # its time (11:00 UTC, the shop's zone is Brazil's)
    expect(kept.get_by_test_id("catalog-diff-result")).to_contain_text("38")

    page.goto(fresh.page_url("/app/flows", locale=locale))
    page.goto(fresh.page_url("/app/setup", locale=locale))
    expect(page.get_by_test_id("catalog-diff-last")).to_contain_text(last)
    assert page.errors == []


def test_a_viewer_reads_the_last_dry_run_and_whom_to_ask(open_page, fresh, monkeypatch) -> None:
    owner = open_page("/app/setup")
    settled(owner)
    expect(owner.locator("s-section s-spinner")).to_have_count(0)  # (as above)
    with owner.expect_response("**/api/setup/catalog-diff"):
        owner.get_by_role("button", name="Simular").click()
    _work_the_dry_run(fresh, monkeypatch)
    expect(owner.get_by_test_id("catalog-diff-result")).to_be_visible()

    viewer = open_page("/app/setup", user="estoquista")
    kept = viewer.get_by_test_id("catalog-diff-last")
    expect(kept).to_contain_text("peça a um administrador ou proprietário")
    expect(kept).not_to_contain_text("Clique em Simular")
    expect(viewer.get_by_role("button", name="Simular")).to_have_count(0)
    assert viewer.errors == []
