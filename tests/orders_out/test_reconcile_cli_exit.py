"""`flask --app app reconcile`: the exit code a monitoring script reads, and the shops it runs on."""

from __future__ import annotations

import json

from flask import Flask

from jobs import reconcile, reconcile_cli
from ledger import kv

from .conftest import World


def _reconcile(*args: str):
    app = Flask(__name__)
    reconcile_cli.register(app)
    return app.test_cli_runner().invoke(args=["reconcile", *args])


def test_the_latest_report_with_a_section_not_checked_ends_non_zero(world: World) -> None:
    """README: 'a section that could not be checked is printed as such and the command ends
    non-zero' -- `--latest` too, or a script reading the exit code sees all well."""
    report = {
        "shop": world.domain, "generated_at": "2026-11-30T06:00:00+00:00",
        "since": "2026-11-29T06:00:00+00:00",
        "summary": {"missing_in_erp": 0, "errors": ["orders"]},
        "orders": {"error": "Transient: Shopify unreachable", "retryable": True},
        "stock": {"locations": []}, "catalog": {},
    }  # fmt: skip
    kv.get_redis().set(reconcile.redis_key(world.shop_id), json.dumps(report))
    result = _reconcile("--latest")
    assert "orders: could not be checked: Transient: Shopify unreachable" in result.output
    assert result.exit_code == 1
    assert f"{world.domain}: reconciliation incomplete (not checked: orders)" in result.stderr

    report["summary"]["errors"] = []
    report["orders"] = {}
    kv.get_redis().set(reconcile.redis_key(world.shop_id), json.dumps(report))
    assert _reconcile("--latest").exit_code == 0  # a complete report: all well
