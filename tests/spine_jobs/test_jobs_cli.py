"""The app wiring: create_app() serves the receiver; `flask worker --burst` drains the queues."""

from __future__ import annotations

import json

from sqlalchemy import select

import app as app_module
from ledger.db import session_scope
from ledger.models import InboxStatus, WebhookInbox

from .conftest import signed_headers


def test_create_app_receiver_and_burst_worker_command(jobs_env, shop_id, rconn):
    flask_app = app_module.create_app()
    body = json.dumps({"id": 1}).encode()
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
