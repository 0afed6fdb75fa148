"""Login, token refresh and error classification, against requests-mock."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from erp_samples import COMPANY, LOGIN, ORDER, envelope
from erp_test_urls import API, BASE

from erp.client import ErpClient
from erp.errors import AUTH, ErpAuthError, ErpRejected, ErpTransient, ErpUnexpectedShape
from erp.retry import RetryPolicy
from erp.transport import MAX_MESSAGE, RAW_EXCERPT
from ledger.errors import ErrorClass, Rejected, Transient, classify

ORDER_URL = API + "PedidoVenda/1001"


def _error(codigo: str, mensagem: str, campo: str | None = None) -> dict:
    return {"codigo": codigo, "mensagem": mensagem, "campo": campo}


def test_logs_in_once_and_sends_bearer(requests_mock, client) -> None:
    login = requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(ORDER_URL, json=ORDER)
    client.get_order(1001)
    client.get_order(1001)
    assert login.call_count == 1
    assert login.last_request.json() == {"user": "ecommerce", "password": "consinco"}
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer tok-1"


def test_relogs_in_once_on_401_then_retries(requests_mock, client) -> None:
    login = requests_mock.post(
        API + "Auth/Login", [{"json": LOGIN}, {"json": {**LOGIN, "accessToken": "tok-2"}}]
    )
    order = requests_mock.get(
        ORDER_URL,
        [{"status_code": 401, "json": _error("TOKEN_EXPIRADO", "Token expirado.")}, {"json": ORDER}],
    )
    assert client.get_order(1001).nro_pedvenda == 1001
    assert login.call_count == 2 and order.call_count == 2
    assert order.last_request.headers["Authorization"] == "Bearer tok-2"


def test_second_401_after_relogin_is_transient_not_a_refused_login(requests_mock, client) -> None:
    """The login was accepted twice: no password to fix (ErpAuthError would say so, and never be
    retried); the call is tried again later, not in a loop."""
    login = requests_mock.post(API + "Auth/Login", json=LOGIN)
    order = requests_mock.get(ORDER_URL, status_code=401, json=_error("TOKEN_INVALIDO", "Token inválido."))
    with pytest.raises(ErpTransient) as caught:
        client.get_order(1001)
    assert login.call_count == 2 and order.call_count == 2
    assert caught.value.codigo == "TOKEN_INVALIDO" and caught.value.retryable
    assert AUTH not in caught.value.detail and caught.value.maybe_taken is False
    assert caught.value.words == ("erp_token_refused", {"user": "ecommerce", "message": "Token inválido."})


def test_workers_replacing_each_others_token_are_retried_later(requests_mock, sleeps) -> None:
    """Two workers logging in as one user on an ERP that keeps one live token per user: A's call is
    refused (B logged in), A logs in again, B logs in again before A's retry lands. The password is
    right: the failure is transient (RQ retries it), not a login for a person to fix."""
    live: list[str] = []
    others: list[int] = []  # logins another worker makes right after one of A's is answered

    def login(request, context) -> dict:
        live.append(f"tok-{len(live) + 1}")
        answer = {**LOGIN, "accessToken": live[-1]}
        while others:
            others.pop()
            live.append(f"tok-{len(live) + 1}")
        return answer

    def order(request, context) -> dict:
        if request.headers["Authorization"] != f"Bearer {live[-1]}":
            context.status_code = 401
            return _error("TOKEN_INVALIDO", "Token inválido.")
        return ORDER

    requests_mock.post(API + "Auth/Login", json=login)
    requests_mock.get(ORDER_URL, json=order)
    policy = RetryPolicy(sleep=sleeps)
    a, b = (
        ErpClient(BASE, "ecommerce", "consinco", retry=policy),
        ErpClient(BASE, "ecommerce", "consinco", retry=policy),
    )
    a.get_order(1001)
    b.get_order(1001)  # B's login replaces A's token
    others.append(1)  # B logs in again as soon as A's next login is answered
    with pytest.raises(ErpTransient) as caught:
        a.get_order(1001)
    assert classify(caught.value) is ErrorClass.TRANSIENT and AUTH not in caught.value.detail
    assert a.transport.logins == 2 and b.transport.logins == 1
    assert a.get_order(1001).nro_pedvenda == 1001  # tried again: A logs in, nobody replaces it


def test_wrong_credentials_is_auth_error_not_retried(requests_mock, client, sleeps) -> None:
    login = requests_mock.post(
        API + "Auth/Login",
        status_code=401,
        json=_error("CREDENCIAIS_INVALIDAS", "Usuário ou senha inválidos."),
    )
    with pytest.raises(ErpAuthError) as caught:
        client.get_order(1001)
    assert login.call_count == 1 and sleeps == []
    assert isinstance(caught.value, Rejected) and "ecommerce" in str(caught.value)
    assert "consinco" not in str(caught.value)  # the password never reaches a message


@pytest.mark.parametrize("status", [400, 403])
def test_a_login_refused_with_400_or_403_is_a_refused_login_too(
    requests_mock, client, sleeps, status
) -> None:
    """An ERP answering a wrong password the OAuth2 way (400 invalid_grant) or a barred user with
    403 refused the login all the same: an auth error (saving the connection re-runs what it
    failed), never retried, not a plain refusal."""
    login = requests_mock.post(
        API + "Auth/Login",
        status_code=status,
        json=_error("CREDENCIAIS_INVALIDAS", "Usuário ou senha inválidos."),
    )
    with pytest.raises(ErpAuthError) as caught:
        client.get_order(1001)
    assert login.call_count == 1 and sleeps == []
    assert AUTH in caught.value.detail and caught.value.status == status
    assert caught.value.words == (
        "erp_login_refused",
        {"user": "ecommerce", "message": "Usuário ou senha inválidos."},
    )


def test_token_refreshed_before_expiry(requests_mock) -> None:
    now = [1000.0]
    client = ErpClient(BASE, "u", "p")
    client.transport._clock = lambda: now[0]
    login = requests_mock.post(
        API + "Auth/Login",
        [{"json": {**LOGIN, "expiresIn": 600}}, {"json": {**LOGIN, "accessToken": "tok-2"}}],
    )
    requests_mock.get(ORDER_URL, json=ORDER)
    client.get_order(1001)
    now[0] += 530  # within the refresh margin (60 s before expiresIn)
    client.get_order(1001)
    assert login.call_count == 1
    now[0] += 15
    client.get_order(1001)
    assert login.call_count == 2
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer tok-2"


def test_a_token_lifetime_written_as_a_string_is_read(requests_mock) -> None:
    """Consinco's auth server answers expires_in as a string ("3600"): a number of seconds all the same."""
    client = ErpClient(BASE, "u", "p")
    requests_mock.post(API + "Auth/Login", json={**LOGIN, "expiresIn": "600"})
    requests_mock.get(ORDER_URL, json=ORDER)
    client.get_order(1001)
    assert 0 < client.transport._expires_at - client.transport._clock() <= 600


def test_threads_share_one_login(requests_mock, client) -> None:
    login = requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(ORDER_URL, json=ORDER)
    threads = [threading.Thread(target=client.get_order, args=(1001,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert login.call_count == 1 and client.transport.logins == 1


@pytest.mark.parametrize(
    ("status", "codigo", "campo"),
    [
        (400, "REQUISICAO_INVALIDA", "PageSize"),
        (404, "PEDIDO_NAO_ENCONTRADO", None),
        (409, "PEDIDO_FATURADO", None),
        (422, "CPFCNPJ_INVALIDO", "clienteDto.cpfCnpj"),
    ],
)
def test_4xx_is_rejected_with_the_erp_words(requests_mock, client, sleeps, status, codigo, campo) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    order = requests_mock.get(
        ORDER_URL, status_code=status, json=_error(codigo, f"Mensagem {status}.", campo)
    )
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    err = caught.value
    assert (err.codigo, err.mensagem, err.campo, err.status) == (codigo, f"Mensagem {status}.", campo, status)
    assert err.detail["code"] == codigo and err.system == "consinco" and not err.retryable
    assert order.call_count == 1 and sleeps == []


def test_an_error_body_gives_only_the_erp_words_cut_to_a_readable_length(requests_mock, client) -> None:
    """The merchant sees the ERP's mensagem (useful), but whatever answers at an address is not
    trusted to be short, and no other part of an error body is passed on."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    body = {**_error("X" * 1000, "Pedido inválido: " + "y" * 5000, "z" * 1000), "stack": "SECRET"}
    requests_mock.get(ORDER_URL, status_code=400, json=body)
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    err = caught.value
    assert err.mensagem.startswith("Pedido inválido: yyy") and len(err.mensagem) == MAX_MESSAGE
    assert len(err.codigo) == len(err.campo) == MAX_MESSAGE and "SECRET" not in str(err.detail)


def test_a_validation_refusal_as_aspnet_problem_details_names_its_reason_and_field(
    requests_mock, client
) -> None:
    """SmPedidoVendaAPI's body names (clienteDto, itemDto) are .NET DTOs: ASP.NET Core answers a
    model-validation failure with RFC 7807 ProblemDetails before any handler writes
    {codigo, mensagem, campo}. The merchant must see which field to fix, not "HTTP 400"."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    problem = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {
            "clienteDto.cep": ["The field cep must be a string with a maximum length of 8."],
            "itemDto[0].qtdPedida": ["The field qtdPedida must be greater than 0."],
        },
    }
    requests_mock.get(
        ORDER_URL, status_code=400, json=problem, headers={"Content-Type": "application/problem+json"}
    )
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    err = caught.value
    assert err.mensagem == (
        "One or more validation errors occurred. clienteDto.cep: The field cep must be a string with a "
        "maximum length of 8. (and 1 more)"
    )
    assert err.campo == "clienteDto.cep" and err.codigo is None and err.status == 400
    requests_mock.get(ORDER_URL, status_code=400, json={"errors": {"$.nroEmpresa": ["Not a number."]}})
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    assert (caught.value.mensagem, caught.value.campo) == ("nroEmpresa: Not a number.", "nroEmpresa")
    requests_mock.get(
        ORDER_URL, status_code=404, json={"title": "Not Found", "detail": "Pedido 1001 inexistente."}
    )
    with pytest.raises(ErpRejected, match=r"^Pedido 1001 inexistente\.$"):
        client.get_order(1001)
    requests_mock.get(ORDER_URL, status_code=409, json={"message": "Pedido em separação."})
    with pytest.raises(ErpRejected, match=r"^Pedido em separação\.$"):
        client.get_order(1001)


def test_a_refusal_in_no_known_shape_shows_the_start_of_its_body(requests_mock, client) -> None:
    """Without mensagem nor ProblemDetails, the first RAW_EXCERPT characters of a JSON or plain-text
    body are the reason (still cut to MAX_MESSAGE); an HTML page's markup is not."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(ORDER_URL, status_code=422, json={"erro": "Produto sem preço na tabela 3"})
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    assert caught.value.mensagem == 'HTTP 422: {"erro": "Produto sem preço na tabela 3"}'
    requests_mock.get(ORDER_URL, status_code=400, text="Quantidade   inválida\n" + "x" * 5000,
                      headers={"Content-Type": "text/plain; charset=utf-8"})  # fmt: skip
    with pytest.raises(ErpRejected) as caught:
        client.get_order(1001)
    shown = caught.value.mensagem
    assert (
        shown.startswith("HTTP 400: Quantidade inválida xxx")
        and len(shown) == len("HTTP 400: ") + RAW_EXCERPT
    )
    requests_mock.get(ORDER_URL, status_code=400, text="<html><body>Bad Request</body></html>",
                      headers={"Content-Type": "text/html"})  # fmt: skip
    with pytest.raises(ErpRejected, match=r"^HTTP 400$"):
        client.get_order(1001)


def test_5xx_retried_with_backoff_then_transient(requests_mock, client, sleeps) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    order = requests_mock.get(ORDER_URL, status_code=500, json=_error("ERRO_INTERNO", "Erro interno."))
    with pytest.raises(ErpTransient) as caught:
        client.get_order(1001)
    assert order.call_count == 3 and sleeps == [0.5, 1.0]
    assert isinstance(caught.value, Transient) and caught.value.retryable and caught.value.status == 500


def test_5xx_then_success(requests_mock, client, sleeps) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(ORDER_URL, [{"status_code": 502, "text": "bad gateway"}, {"json": ORDER}])
    assert client.get_order(1001).nro_pedvenda == 1001 and sleeps == [0.5]


def test_503_retry_after_honoured_or_handed_to_the_job_layer(requests_mock, client, sleeps) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    down = _error("INDISPONIVEL", "Em manutenção.")
    requests_mock.get(
        ORDER_URL, [{"status_code": 503, "json": down, "headers": {"Retry-After": "2"}}, {"json": ORDER}]
    )
    client.get_order(1001)
    assert sleeps == [2.0]
    long = requests_mock.get(ORDER_URL, status_code=503, json=down, headers={"Retry-After": "120"})
    with pytest.raises(ErpTransient) as caught:
        client.get_order(1001)
    assert long.call_count == 1 and caught.value.retry_after == 120.0 and sleeps == [2.0]


def test_a_retry_after_given_as_an_http_date_is_read_as_the_seconds_until_then(requests_mock, client) -> None:
    """RFC 9110 allows Retry-After as an HTTP-date (IIS and proxies in front of the ERP send it so):
    read as the seconds until then, not ignored (which retried a maintenance window at once)."""
    from email.utils import format_datetime

    requests_mock.post(API + "Auth/Login", json=LOGIN)
    until = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    down = _error("INDISPONIVEL", "Em manutenção.")
    requests_mock.get(ORDER_URL, status_code=503, json=down, headers={"Retry-After": until})
    with pytest.raises(ErpTransient) as caught:
        client.get_order(1001)
    assert caught.value.retry_after is not None and 590 <= caught.value.retry_after <= 600, (
        caught.value.retry_after
    )


def test_a_retry_after_in_the_past_or_unreadable() -> None:
    from ledger.errors import retry_after_seconds

    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds(" 2.5 ") == 2.5 and retry_after_seconds("-3") == 0.0


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectionError,
        requests.ConnectTimeout,
        requests.ReadTimeout,
        requests.exceptions.ChunkedEncodingError,  # the connection dropped in the middle of the body
        requests.exceptions.ContentDecodingError,
    ],
)
def test_network_errors_retried_then_transient(requests_mock, client, sleeps, exc) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    order = requests_mock.get(ORDER_URL, exc=exc)
    with pytest.raises(ErpTransient):
        client.get_order(1001)
    assert order.call_count == 3 and len(sleeps) == 2


def test_login_itself_is_retried_on_connection_refused(requests_mock, client, sleeps) -> None:
    requests_mock.post(API + "Auth/Login", [{"exc": requests.ConnectionError}, {"json": LOGIN}])
    requests_mock.get(ORDER_URL, json=ORDER)
    assert client.get_order(1001).nro_pedvenda == 1001 and len(sleeps) == 1


def test_non_json_body_and_bad_login_answer_are_shape_errors(requests_mock, client) -> None:
    requests_mock.post(API + "Auth/Login", json={"token": "x"})
    with pytest.raises(ErpUnexpectedShape) as caught:
        client.get_order(1001)
    assert caught.value.field == "accessToken" and caught.value.endpoint == "api/v1/Auth/Login"
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(ORDER_URL, text="<html>proxy page</html>")
    with pytest.raises(ErpUnexpectedShape, match="is not JSON"):
        client.get_order(1001)


def test_jitter_spreads_the_backoff() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0, jitter=lambda: 0.0)
    assert [policy.delay(n) for n in (1, 2, 3, 5)] == [0.5, 1.0, 2.0, 4.0]
    assert RetryPolicy(base=1.0, cap=8.0, jitter=lambda: 1.0).delay(5) == 8.0


def test_test_connection_messages(requests_mock, client) -> None:
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/Empresa", json=envelope([COMPANY, {**COMPANY, "nroEmpresa": 2}]))
    check = client.test_connection()
    assert check.ok and check.companies == (1, 2) and "2 companies" in check.message
    requests_mock.post(
        API + "Auth/Login", status_code=401, json=_error("CREDENCIAIS_INVALIDAS", "Senha inválida.")
    )
    fresh = ErpClient(BASE, "ecommerce", "wrong", retry=RetryPolicy(attempts=1))
    check = fresh.test_connection()
    assert not check.ok and "Login refused" in check.message and "Senha inválida." in check.message
    assert check.code == "login_refused" and "Senha inválida." in check.detail  # the page's word, the ERP's
    down = ErpClient("http://127.0.0.1:9/x", "u", "p", retry=RetryPolicy(attempts=1))
    requests_mock.real_http = False
    requests_mock.post("http://127.0.0.1:9/x/api/v1/Auth/Login", exc=requests.ConnectionError)
    check = down.test_connection()
    assert not check.ok and "Could not reach" in check.message and check.code == "unreachable"


@pytest.fixture
def trickling_erp() -> Iterator[str]:
    """An ERP (or a proxy before it) on loopback that logs in at once, then answers every GET a byte
    at a time for 2 s, each byte well inside the read timeout: the base URL."""
    answer = json.dumps(ORDER).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _head(self, length: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps(LOGIN).encode()
            self._head(len(body))
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._head(len(answer))
            try:
                for i in range(len(answer)):
                    self.wfile.write(answer[i : i + 1])
                    self.wfile.flush()
                    if i < 40:  # 2 s in all, then the rest at once
                        time.sleep(0.05)
            except OSError:  # the client gave up
                pass

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/smpedidovenda/smpedidovendaapi"
    server.shutdown()
    server.server_close()


def test_a_trickling_answer_is_a_read_timeout_past_its_deadline(trickling_erp) -> None:
    """The read timeout bounds each socket read, not the answer: a byte now and then would hold the
    call (and the flow's lock) for as long as the server likes. Past BODY_DEADLINE read timeouts
    from sending, the attempt is a read timeout (transient, retried); the login, answered at once,
    is read whole."""
    client = ErpClient(trickling_erp, "u", "p", timeout=(1.0, 0.2), retry=RetryPolicy(attempts=1))
    started = time.monotonic()
    with pytest.raises(ErpTransient, match="ReadTimeout") as caught:
        client.get_order(1001)
    assert time.monotonic() - started < 1.5  # the whole answer would take 2 s
    assert client.transport.logins == 1 and isinstance(caught.value.__cause__, requests.ReadTimeout)
