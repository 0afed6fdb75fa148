"""A write the transport sends again after an answer that may hide its success: a refusal of the
retry speaks for that attempt only. POST PedidoVenda timed out (or the gateway answered 504) and
the ERP may have committed it; the retry is refused (its duplicate key, a client blocked
meanwhile). Raised as a plain ErpRejected, jobs.orders read it as "the ERP holds nothing from this
POST" and dropped the maybe-taken mark and the kept input; it is flagged `maybe_taken` now."""

from __future__ import annotations

import pytest
import requests
from erp_samples import LOGIN
from erp_test_urls import API, BASE
from test_erp_orders import ORDER_IN
from urllib3.exceptions import NewConnectionError

from erp.client import ErpClient
from erp.errors import ErpRejected, ErpTransient
from erp.retry import RetryPolicy

REFUSED = {
    "status_code": 400,
    "json": {"codigo": "ERRO", "mensagem": "ORA-00001: restrição exclusiva violada"},
}
TAKEN = [
    pytest.param({"exc": requests.exceptions.ReadTimeout}, id="read-timeout"),
    pytest.param({"exc": requests.exceptions.ChunkedEncodingError}, id="cut-off"),
    pytest.param({"exc": requests.ConnectionError}, id="connection-dropped"),
    pytest.param(
        {
            "status_code": 504,
            "text": "<html><body>504 Gateway Time-out</body></html>",
            "headers": {"Content-Type": "text/html"},
        },
        id="504",
    ),
]
NOT_SENT = [
    pytest.param({"exc": requests.exceptions.ConnectTimeout}, id="connect-timeout"),
    pytest.param({"status_code": 429, "json": {"codigo": "LIMITE", "mensagem": "Aguarde."}}, id="429"),
]


def _client() -> ErpClient:
    return ErpClient(BASE, "ecommerce", "consinco", retry=RetryPolicy(sleep=lambda s: None))


@pytest.mark.parametrize("first", TAKEN)
def test_a_refusal_after_an_attempt_that_may_have_been_taken_says_so(requests_mock, first) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    posts = requests_mock.post(API + "PedidoVenda", [first, REFUSED])
    with pytest.raises(ErpRejected) as caught:
        _client().insert_order(ORDER_IN)
    assert posts.call_count == 2 and caught.value.maybe_taken is True


@pytest.mark.parametrize("first", NOT_SENT)
def test_a_refusal_after_an_attempt_never_taken_is_a_clean_refusal(requests_mock, first) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    posts = requests_mock.post(API + "PedidoVenda", [first, REFUSED])
    with pytest.raises(ErpRejected) as caught:
        _client().insert_order(ORDER_IN)
    assert posts.call_count == 2 and caught.value.maybe_taken is False


def test_a_first_refusal_and_a_read_refused_after_a_timeout_are_clean(requests_mock) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.post(API + "PedidoVenda", [REFUSED])
    with pytest.raises(ErpRejected) as caught:
        _client().insert_order(ORDER_IN)
    assert caught.value.maybe_taken is False
    requests_mock.get(API + "PedidoVenda/1001", [{"exc": requests.exceptions.ReadTimeout}, REFUSED])
    with pytest.raises(ErpRejected) as caught:
        _client().get_order(1001)
    assert caught.value.maybe_taken is False  # a read takes nothing


def test_the_mark_survives_a_re_login_between_the_attempts(requests_mock) -> None:
    """Attempt 1 times out, attempt 2 finds the token expired (401), the client logs in again and
    attempt 3 is refused: still maybe taken. So is a second 401 (on the fresh token: transient)."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    expired = {"status_code": 401, "json": {"codigo": "TOKEN_EXPIRADO", "mensagem": "Token expirado."}}
    requests_mock.post(API + "PedidoVenda", [{"exc": requests.exceptions.ReadTimeout}, expired, REFUSED])
    with pytest.raises(ErpRejected) as caught:
        _client().insert_order(ORDER_IN)
    assert caught.value.maybe_taken is True
    requests_mock.post(API + "PedidoVenda", [{"exc": requests.exceptions.ReadTimeout}, expired, expired])
    with pytest.raises(ErpTransient) as refused:
        _client().insert_order(ORDER_IN)
    assert refused.value.maybe_taken is True


@pytest.mark.parametrize("first", TAKEN)
def test_a_write_that_failed_after_it_may_have_arrived_is_maybe_taken(requests_mock, first) -> None:
    """Every attempt failed, one of them after the request may have reached the ERP: the ERP may
    hold the order whatever it answered (jobs.orders keeps it maybe taken)."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    never = {"exc": requests.exceptions.ConnectTimeout}
    requests_mock.post(API + "PedidoVenda", [never, first, never])
    with pytest.raises(ErpTransient) as caught:
        _client().insert_order(ORDER_IN)
    assert caught.value.maybe_taken is True


@pytest.mark.parametrize(
    "attempt",
    [
        *NOT_SENT,
        pytest.param(
            {"exc": requests.ConnectionError(NewConnectionError(None, "Connection refused"))}, id="refused"
        ),
    ],
)
def test_a_write_that_never_reached_the_erp_is_not_taken(requests_mock, attempt) -> None:
    """No attempt reached the ERP (the connection never made, a 429 turning it away): jobs.orders may
    map the order afresh next time (a cancellation or an edit in Shopify meanwhile is not lost)."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    posts = requests_mock.post(API + "PedidoVenda", [attempt])
    with pytest.raises(ErpTransient) as caught:
        _client().insert_order(ORDER_IN)
    assert posts.call_count > 1 and caught.value.maybe_taken is False


def test_a_login_failing_before_the_write_is_not_taken_but_an_earlier_attempt_counts(requests_mock) -> None:
    """The login before the POST fails (the ERP unreachable): nothing was sent. After an attempt that
    timed out and a 401, the login failing leaves that first attempt maybe taken."""
    requests_mock.post(API + "Auth/Login", [{"exc": requests.exceptions.ConnectTimeout}])
    posts = requests_mock.post(API + "PedidoVenda", [REFUSED])
    with pytest.raises(ErpTransient) as caught:
        _client().insert_order(ORDER_IN)
    assert posts.call_count == 0 and caught.value.maybe_taken is False
    requests_mock.post(API + "Auth/Login", [{"json": LOGIN}, {"exc": requests.exceptions.ConnectTimeout}])
    expired = {"status_code": 401, "json": {"codigo": "TOKEN_EXPIRADO", "mensagem": "Token expirado."}}
    requests_mock.post(API + "PedidoVenda", [{"exc": requests.exceptions.ReadTimeout}, expired])
    with pytest.raises(ErpTransient) as caught:
        _client().insert_order(ORDER_IN)
    assert caught.value.maybe_taken is True
