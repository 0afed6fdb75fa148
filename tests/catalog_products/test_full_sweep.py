"""A packaging deleted in the ERP leaves the sale without a person: the daily full sweep
(schedule `catalog_full`, jobs.catalog_full) retires what the incremental passes cannot see, and
the dry run tells what a plain sync does apart from what only that sweep does, and when it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rq import Queue
from sqlalchemy import select

import app as app_module
import jobs.catalog_full
from jobs import catalog_diff, catalog_flow, scheduler
from jobs.catalog_ledger import VARIANT_KIND
from ledger import bindings, flows
from ledger.db import session_scope
from ledger.models import Schedule
from ledger.schedules import DEFAULT_SCHEDULES, ensure_default_schedules
from sandbox.consinco import tables as t

from .conftest import InstalledShop
from .erp_writes import family_of

FULL = "catalog_full"


def _delete_box_of_6(shop: InstalledShop) -> None:
    """The CX-6 packaging of product 1's family deleted in the ERP (no row left to change)."""
    e = t.map_famembalagem
    with shop.erp.erp.store.write() as (conn, _now):
        conn.execute(e.delete().where(e.c.seqfamilia == family_of(shop.erp, 1), e.c.qtdembalagem == 6))


def _active(shop_id: int, id_sku: str) -> bool:
    with session_scope() as session:
        return bool(bindings.get_many(session, shop_id, VARIANT_KIND, [id_sku])[id_sku].data["active"])


def test_the_full_sweep_is_a_daily_schedule_of_every_shop_shown_with_the_flows() -> None:
    minute, hour, *every_day = DEFAULT_SCHEDULES[FULL].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"]  # once a day
    flow = flows.get(FULL)
    assert (flow.schedule, flow.queue, flow.run_job) == (FULL, "catalog", "jobs.catalog_full.run")
    assert callable(jobs.catalog_full.run)


def test_a_packaging_deleted_in_the_erp_is_retired_by_the_scheduled_full_sweep(
    installed: InstalledShop, redis_conn
) -> None:
    for flow in catalog_flow.FLOWS:
        catalog_flow.run_flow(installed.shop_id, flow, client=installed.client())
    with session_scope() as session:
        ensure_default_schedules(session, installed.shop_id)
    _delete_box_of_6(installed)

    diff = catalog_diff.compute(installed.shop_id)
    plain = [
        catalog_flow.run_flow(installed.shop_id, f, client=installed.client()) for f in ("products", "skus")
    ]

    # The dry run's verdicts are what a plain pass does (nothing: no ERP row changed) ...
    assert diff["counts"]["change"] + diff["counts"]["archive"] == sum(r.changed for r in plain) == 0
    assert _active(installed.shop_id, "P1E6")  # the incremental passes cannot see a deleted row
    # ... and the retirement is told apart, with when the full sweep will do it.
    sweep = diff["full_sweep"]
    assert sweep["counts"]["retire"] >= 1
    first = next(i for i in sweep["retire"] if i["seq_produto"] == 1)
    assert first["retired"] == ["P1E6"]
    assert sweep["schedule"] == DEFAULT_SCHEDULES[FULL] and sweep["next_run_at"] is not None

    # The tick enqueues the sweep at its hour, on the catalog queue; the run retires it.
    due = datetime.fromisoformat(sweep["next_run_at"]).astimezone(UTC)
    enqueued = scheduler.tick(due.replace(second=5))
    job_id = next(j for j in enqueued if f"-{FULL}-" in j)
    job = Queue("catalog", connection=redis_conn).fetch_job(job_id)
    assert (job.func_name, job.args) == ("jobs.catalog_full.run", (installed.shop_id,))
    jobs.catalog_full.run(installed.shop_id)

    assert not _active(installed.shop_id, "P1E6")
    again = catalog_diff.compute(installed.shop_id)
    assert again["full_sweep"]["counts"]["retire"] == 0
    with session_scope() as session:
        row = session.scalar(
            select(Schedule).where(Schedule.flow == FULL, Schedule.shop_id == installed.shop_id)
        )
        assert row is not None and row.progress is not None  # shown on the Flows page like the others


def test_the_cli_diff_prints_the_retirements_only_the_full_sweep_makes(installed: InstalledShop) -> None:
    for flow in catalog_flow.FLOWS:
        catalog_flow.run_flow(installed.shop_id, flow, client=installed.client())
    _delete_box_of_6(installed)
    flask_app = app_module.create_app(blueprints=(), cli_modules=("jobs.catalog_cli",))

    out = flask_app.test_cli_runner().invoke(args=["catalog", "diff"])

    assert out.exit_code == 0, out.output
    assert out.output.startswith("0 create, 0 change, 0 archive, ")
    line = next(x for x in out.output.splitlines() if x.startswith("retire") and " 1 " in f"{x} ")
    assert "P1E6" in line
    assert "full sweep" in out.output and "no schedule" in out.output  # this shop has none yet


def test_a_moved_products_lost_packaging_is_a_plain_syncs_change_in_the_dry_run(
    installed: InstalledShop,
) -> None:
    """A product moved to another family changed: the skus pass reads every packaging it still has
    and retires the one it lost (test_family_move.py), so the dry run counts it among a plain
    sync's changes, not the full sweep's."""
    from .test_family_move import _move_to_a_family_with_the_unit_only

    client = installed.client()
    for flow in catalog_flow.FLOWS:
        catalog_flow.run_flow(installed.shop_id, flow, client=client)
    _move_to_a_family_with_the_unit_only(installed, 1)

    diff = catalog_diff.compute(installed.shop_id)

    assert 1 in [i["seq_produto"] for i in diff["change"]]
    assert 1 not in [i["seq_produto"] for i in diff["full_sweep"]["retire"]]
    for flow in catalog_flow.FLOWS:
        catalog_flow.run_flow(installed.shop_id, flow, client=client)
    assert not _active(installed.shop_id, "P1E6")


def _sweep_progress(shop_id: int) -> Any:
    with session_scope() as session:
        return session.scalars(
            select(Schedule.progress).where(Schedule.shop_id == shop_id, Schedule.flow == FULL)
        ).one()


def test_a_full_sweep_starting_does_not_show_the_last_sweeps_count(
    installed: InstalledShop, monkeypatch
) -> None:
    """The sweep reports on its own Schedule row (not the products/skus rows initial_load clears):
    while a new sweep reads, the Flows page must not show the last one's bar (here a sweep that
    died at 37/38), nor through all of it when nothing is sent."""
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    with session_scope() as session:
        session.add(Schedule(shop_id=installed.shop_id, flow=FULL, cron="0 3 * * *",
                             progress={"done": 37, "total": 38, "at": "2026-11-29T03:10:00"}))  # fmt: skip
    seen: list[Any] = []
    real_read_both = catalog_flow.read_both

    def spying(client: Any) -> Any:
        seen.append(_sweep_progress(installed.shop_id))  # what the Flows page shows while the sweep reads
        return real_read_both(client)

    monkeypatch.setattr(catalog_flow, "read_both", spying)
    result = jobs.catalog_full.run(installed.shop_id)
    assert result["created"] + result["changed"] == 0  # nothing to send: no progress reported at all
    assert seen == [None]
    assert _sweep_progress(installed.shop_id) is None
