"""`flask --app app reconcile`: the exit code a monitoring script reads, and the shops it runs on."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from jobs import reconcile, reconcile_cli
from ledger import kv
from ledger.db import session_scope
from ledger.models import Message, Shop

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


@pytest.mark.parametrize(
    ("status", "why"), [("uninstalled", "is uninstalled"), ("needs_reauth", "needs re-authorization")]
)
def test_a_shop_not_active_is_refused_before_anything_runs(world: World, status, why) -> None:
    with session_scope() as session:
        session.execute(update(Shop).values(status=status))
    result = _reconcile("--shop", world.domain)
    assert result.exit_code == 1
    assert f"shop {world.domain} {why}" in result.output
    assert "Active ERP SKUs not in Shopify" not in result.output
    with session_scope() as session:  # the ERP not read, no report stored
        assert (
            session.scalar(select(func.count()).select_from(Message).where(Message.flow == "reconcile")) == 0
        )


def test_an_unknown_shop_is_named(world: World) -> None:
    result = _reconcile("--shop", "nowhere.myshopify.com")
    assert result.exit_code == 1 and "no shop 'nowhere.myshopify.com'" in result.output
