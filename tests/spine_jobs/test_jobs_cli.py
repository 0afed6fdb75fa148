"""The app wiring: create_app() serves the receiver; `flask worker --burst` drains the queues."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import app as app_module
from ledger import kv
from ledger.db import session_scope
from ledger.models import InboxStatus, WebhookInbox

from .conftest import SHOP, signed_headers


def test_create_app_receiver_and_burst_worker_command(jobs_env, shop_id, rconn):
    flask_app = app_module.create_app()
    body = json.dumps({"id": 1, "myshopify_domain": SHOP}).encode()
    response = flask_app.test_client().post(
        "/webhooks", data=body, headers=signed_headers(body, "app/uninstalled")
    )
    assert response.status_code == 200

    result = flask_app.test_cli_runner().invoke(args=["worker", "--burst", "--simple", "--queue", "webhooks"])
    assert result.exit_code == 0, result.output
    with session_scope() as session:
        assert session.scalar(select(WebhookInbox.status)) == InboxStatus.PROCESSED.value


def test_sweep_command(jobs_env):
    result = app_module.create_app().test_cli_runner().invoke(args=["sweep-inbox"])
    assert result.exit_code == 0 and "enqueued 0 inbox rows" in result.output


def test_sweep_command_with_redis_unreachable_fails_saying_so(jobs_env):
    """The row the operator ran it for is still not in Redis: not "enqueued 0 inbox rows", exit 0."""
    with session_scope() as session:
        session.add(WebhookInbox(shop_domain="x.myshopify.com", topic="orders/create", webhook_id="w-1",
                                 raw_body=b'{"id": 1}', status=InboxStatus.RECEIVED.value,
                                 received_at=datetime.now(UTC) - timedelta(hours=1)))  # fmt: skip
    jobs_env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    kv.reset_clients()
    result = app_module.create_app().test_cli_runner().invoke(args=["sweep-inbox"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Redis unreachable" in result.output and "enqueued 0" not in result.output


def test_readme_workers_serve_queues_in_the_default_order_webhooks_first():
    """An uninstall, a GDPR request and the tick must not wait behind an order backlog: the
    README's production workers list their queues in the worker's own default order."""
    import re

    from ledger.queues import QUEUE_NAMES
    from settings import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^flask --app app worker ((?:-q \w+ )+)", readme, flags=re.M)
    assert commands, "README names no production worker"
    for flags in commands:
        named = flags.split()[1::2]
        assert named == sorted(named, key=QUEUE_NAMES.index), flags
