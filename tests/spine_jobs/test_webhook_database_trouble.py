"""The receiver's answer when the database misbehaves, and the unsigned headers it keeps: never a
bare 500, never a request thread held past Shopify's 5 s, never a row it cannot read back."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import quote

import pytest
from sqlalchemy import select

from jobs import inbox
from ledger.db import session_scope
from ledger.models import WebhookInbox
from shopify_app.webhook_verify import _parse_time

from .conftest import SHOP, make_app, signed_headers


def test_a_read_only_database_answers_503_for_shopify_to_deliver_again(jobs_env, database_url, rconn):
    """A failover that left the app on a read-only standby: InternalError, not OperationalError."""
    sep = "&" if "?" in database_url else "?"
    jobs_env.setenv(
        "DATABASE_URL", database_url + sep + "options=" + quote("-c default_transaction_read_only=on")
    )
    body = json.dumps({"id": 6}).encode()
    answer = (
        make_app().test_client().post("/webhooks", data=body, headers=signed_headers(body, "orders/create"))
    )
    assert answer.status_code == 503 and answer.is_json


def test_a_database_that_never_answers_gets_a_503_within_seconds(jobs_env, rconn):
    """It accepts the connection and says nothing (a black-holed host): libpq's connect_timeout
    (ledger.db.PG_CONNECT_ARGS) ends the wait; without it the request thread waited for ever."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nothing ever answers
    try:
        port = silent.getsockname()[1]
        jobs_env.setenv("DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere")
        client = make_app().test_client()
        body = json.dumps({"id": 6}).encode()
        answered: dict[str, int] = {}

        def post() -> None:
            answer = client.post("/webhooks", data=body, headers=signed_headers(body, "orders/create"))
            answered["status"] = answer.status_code

        thread = threading.Thread(target=post, daemon=True)
        started = time.monotonic()
        thread.start()
        thread.join(30)  # generous for a loaded machine: the limit is 3 s a connection attempt
        assert answered == {"status": 503}, f"no answer after {time.monotonic() - started:.0f} s"
    finally:
        silent.close()


@pytest.mark.parametrize(
    "header", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2999-01-01T00:00:00Z", "soon"]
)
def test_a_triggered_at_out_of_range_is_not_kept_and_the_row_stays_readable(jobs_env, rconn, header) -> None:
    body = json.dumps({"id": 7, "admin_graphql_api_id": "gid://shopify/Order/7"}).encode()
    answer = (
        make_app()
        .test_client()
        .post("/webhooks", data=body, headers=signed_headers(body, "orders/create", triggered_at=header))
    )
    assert answer.status_code == 200
    with session_scope() as session:
        rows = session.scalars(select(WebhookInbox).where(WebhookInbox.shop_domain == SHOP)).all()
        assert [r.triggered_at for r in rows] == [None]
    assert inbox.process(answer.json["inbox_id"])  # read back and handled (no such shop: ignored)


def test_a_triggered_at_in_range_is_kept_in_utc() -> None:
    kept = _parse_time("2026-11-28T09:00:00-03:00")
    assert kept is not None and kept.isoformat() == "2026-11-28T12:00:00+00:00"
    assert _parse_time("2026-11-28T12:00:00") == kept  # no offset: UTC, as Shopify sends it
