"""What an /api request body may be: its size (checked unread, before authentication), its nesting
and its text (checked once the request is authenticated, in api_common.json_body)."""

from __future__ import annotations

import io

import pytest

from ledger.models import Role
from shopify_app.api_common import MAX_BODY_BYTES, MAX_NESTING
from shopify_app.api_mappings import MAX_CSV, MAX_IMPORT_BYTES
from tests.api.conftest import headers

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def no_propagation(app):
    """Answer as production does: an exception escaping a view is a 500, not a test error."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_json_deeper_than_the_parser_goes_is_a_400_and_never_read_unauthenticated(client, no_propagation):
    body = "[" * 100_000 + "]" * 100_000
    anonymous = client.put("/api/setup/settings", data=body, headers=JSON)
    assert anonymous.status_code == 401  # refused before the body is parsed
    signed = client.put("/api/setup/settings", data=body, headers={**headers(Role.ADMIN), **JSON})
    assert signed.status_code == 400, signed.data[:300]
    assert "nested too deeply" in signed.get_json()["error"]["message"]


@pytest.mark.parametrize("depth", [900, MAX_NESTING + 1])
def test_json_nested_deeper_than_the_limit_is_a_400(client, no_propagation, depth):
    """Deep enough for the parser, too deep for any endpoint (and for a recursive walk at 900)."""
    body = '{"a":' * depth + "1" + "}" * depth
    reply = client.put("/api/setup/settings", data=body, headers={**headers(Role.ADMIN), **JSON})
    assert reply.status_code == 400, reply.data[:300]
    assert reply.get_json()["error"]["fields"] == {"body": f"nested more than {MAX_NESTING} levels deep"}


def test_json_nested_to_the_limit_is_read(client):
    body = '{"a":' + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "}"
    reply = client.put("/api/setup/settings", data=body, headers={**headers(Role.ADMIN), **JSON})
    assert reply.status_code == 400 and reply.get_json()["error"]["fields"] == {"a": "unknown field"}


def test_a_body_too_large_is_a_413_unread_before_authentication(client):
    body = '{"note": "' + "x" * (30 * 1024 * 1024) + '"}'
    for extra in ({}, headers(Role.OPERATOR)):
        reply = client.post("/api/messages/1/handled", data=body, headers={**extra, **JSON})
        assert reply.status_code == 413
        error = reply.get_json()["error"]
        assert error["code"] == "payload_too_large" and error["limit_bytes"] == MAX_BODY_BYTES
        assert "larger than" in error["message"]


def test_a_body_without_content_length_stops_at_the_limit(client):
    """A chunked body (the server says the stream ends): read no further than the limit."""
    body = b'{"note": "' + b"x" * (2 * MAX_BODY_BYTES) + b'"}'
    reply = client.post(
        "/api/messages/1/handled",
        input_stream=io.BytesIO(body),
        headers={**headers(Role.OPERATOR), **JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "payload_too_large"


def test_the_csv_import_takes_a_body_as_large_as_its_csv_may_be(client):
    """The import's CSV may have 2,000,000 characters, well over the 1 MiB of other bodies: its
    body is checked against its own limit, then the text against MAX_CSV."""
    assert MAX_IMPORT_BYTES > 4 * MAX_CSV
    too_long = client.post(
        "/api/mappings/import", json={"kind": "carrier", "csv": "x" * (MAX_CSV + 1)}, headers=headers()
    )
    assert too_long.status_code == 400
    assert too_long.get_json()["error"]["fields"] == {"csv": f"must be at most {MAX_CSV} characters"}
    body = '{"kind": "carrier", "csv": "' + "x" * MAX_IMPORT_BYTES + '"}'
    assert client.post("/api/mappings/import", data=body, headers={**headers(), **JSON}).status_code == 413


def test_nul_and_lone_surrogates_in_a_body_are_still_refused_after_authentication(client):
    for text in ('"a\\u0000b"', '"\\udc00"'):
        body = '{"note": [{"x": ' + text + "}]}"
        anonymous = client.post("/api/messages/1/handled", data=body, headers=JSON)
        assert anonymous.status_code == 401
        signed = client.post("/api/messages/1/handled", data=body, headers={**headers(Role.OPERATOR), **JSON})
        assert signed.status_code == 400 and signed.get_json()["error"]["fields"] == {
            "body": "unstorable text"
        }
