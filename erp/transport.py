"""HTTP to SmPedidoVendaAPI: the bearer token, error classification and bounded retries.

One requests.Session (keep-alive) per client. The token is kept until shortly before
`expiresIn` runs out and refreshed under a lock (re-checked once the lock is held, so threads
sharing a client log in once). A 401 on a call means the token died early: log in again once
and retry once. A second 401, on a token the server has just issued, is no refused login (that is
the login's own 401: ErpAuthError, a person fixes the password) but ErpTransient, retried later
with backoff, not in a loop: workers logging in as one user on an ERP that keeps one live token
per user replace each other's tokens, and a load-balanced node may not know a token issued a
moment ago.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from urllib3.exceptions import DecodeError, NewConnectionError, ProtocolError, ReadTimeoutError, SSLError

from erp.errors import ErpAuthError, ErpRejected, ErpTransient, ErpUnexpectedShape
from erp.names import NAMES, Names
from erp.retry import RetryPolicy
from ledger.errors import retry_after_seconds

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds: a 1000-row page can take a while
# Bodies are read in chunks of up to this much (what one socket read brings, _body), not requests'
# 10 KB: a 1,000-row page (~1.5 MB) is then a few reads instead of ~150 Python-level steps, each
# needing the GIL back from a busy thread (the page prefetch worker runs while the initial load
# maps and writes in other threads).
BODY_CHUNK = 1 << 20
# The read timeout bounds each socket read, not the answer: a server or proxy trickling a byte now
# and then would hold the call (the flow's lock, and during a login every thread sharing the
# client) up to the RQ job's timeout. So an attempt's answer must be whole within this many read
# timeouts from sending (_body), else it is a read timeout like any other.
BODY_DEADLINE = 2
REFRESH_MARGIN = 60.0  # seconds before expiresIn at which the token is renewed
# A login refused, however the server says it: 401, the OAuth2 way's 400 (invalid_grant: a wrong
# password) or 403 (a user barred). The login's own answer: ErpAuthError, which a person fixes and
# saving the connection re-runs; not a plain refusal that saving it would leave failed.
LOGIN_REFUSED = frozenset({400, 401, 403})
# The ERP's own error words (mensagem) are shown to the merchant, cut to this length (whatever
# answers at an address is not trusted to be short). Without a mensagem, the reason is read from
# the shapes .NET answers in (_problem), else from the body's first RAW_EXCERPT characters: a
# refusal shown as a bare "HTTP 400" tells the merchant nothing to fix.
MAX_MESSAGE = 300
RAW_EXCERPT = 200


# A request that never reached the ERP, or whose answer was cut off on the way (a connection
# dropped in the middle of a large page surfaces as ChunkedEncodingError while reading the body).
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Transport:
    """Sends one API call and returns its decoded JSON body, or raises a classified ErpError."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        names: Names = NAMES,
        clock: Callable[[], float] = time.monotonic,
        on_login: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._on_login = on_login  # told after each login the server accepted (erp.factory)
        self.username = username
        self._password = password
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.names = names
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.logins = 0  # how many times this client logged in (observability, tests)

    def url(self, path_key: str, **path_args: Any) -> str:
        return self.base_url + self.names.paths[path_key].format(**path_args)

    # ------------------------------------------------------------------ token

    def token(self) -> str:
        """A live bearer token, logging in when there is none or it is about to expire."""
        token = self._token
        if token is not None and self._clock() < self._expires_at:
            return token
        with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            return self._login()

    def invalidate(self, token: str) -> None:
        """Forget `token` (refused by the server), unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _login(self) -> str:
        a = self.names.auth
        _, body = self._send("POST", "login", None, {a["user"]: self.username, a["password"]: self._password},
                             token=None)  # fmt: skip
        endpoint = self.names.paths["login"]
        if not isinstance(body, dict) or not isinstance(body.get(a["access_token"]), str):
            raise ErpUnexpectedShape(endpoint, a["access_token"], "is missing or not a string")
        expires_in = body.get(a["expires_in"], 3600)
        if isinstance(expires_in, str) and expires_in.strip().isascii() and expires_in.strip().isdigit():
            expires_in = int(expires_in.strip())  # Consinco's auth server writes it as a string ("3600")
        if not isinstance(expires_in, int | Decimal) or isinstance(expires_in, bool):
            raise ErpUnexpectedShape(endpoint, a["expires_in"], "is not a number of seconds", expires_in)
        lifetime = float(expires_in)
        self._token = body[a["access_token"]]
        self._expires_at = self._clock() + max(0.0, lifetime - min(REFRESH_MARGIN, lifetime / 10))
        self.logins += 1
        logger.info("consinco: logged in as %s (token valid %ss)", self.username, int(lifetime))
        if self._on_login is not None:
            self._on_login()
        return self._token

    # ------------------------------------------------------------------ calls

    def call(
        self,
        method: str,
        path_key: str,
        *,
        path_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        """(HTTP status, decoded body) of an authenticated call, after at most one re-login."""
        relogged = False
        taken = False  # an attempt of this write may have been taken (`_send`)
        while True:
            try:
                token = self.token()
            except (ErpRejected, ErpTransient) as exc:  # the login: only an earlier attempt may be taken
                exc.maybe_taken = taken
                raise
            try:
                return self._send(
                    method, path_key, params, body, token=token, path_args=path_args, taken=taken
                )
            except _Unauthorized as exc:
                taken = exc.maybe_taken
                self.invalidate(token)
                if relogged:  # the login was accepted: no password to fix (see the module docstring)
                    raise ErpTransient(
                        f"Consinco refused a fresh token for {self.username}: {exc.error.mensagem}",
                        codigo=exc.error.codigo, status=401, endpoint=exc.error.endpoint, maybe_taken=taken,
                    ).worded("erp_token_refused", user=self.username,
                             message=exc.error.mensagem) from None  # fmt: skip
                logger.info("consinco: token refused (%s), logging in again", exc.error.codigo)
                relogged = True

    def _send(self, method: str, path_key: str, params: dict[str, Any] | None, body: Any, *,
              token: str | None, path_args: dict[str, Any] | None = None,
              taken: bool = False) -> tuple[int, Any]:  # fmt: skip
        """One request, with bounded retries of transient failures: (status, decoded body).

        Retrying after a timeout is meant to be safe for every call this client makes: reads are
        reads, an insert is idempotent by (seqCanalVenda, idPedidoCanalVenda), an edit replaces all
        lines, and cancelling twice answers 200. But a write whose answer was lost (a read timeout,
        the connection dropped once the request may have gone out, a 5xx: `taken`, also given by
        `call` across a re-login) may be in the ERP whatever a later attempt answers: a refusal of
        the retry (the ERP's duplicate-key error, a client blocked meanwhile) is raised as
        ErpRejected flagged `maybe_taken`, never as a clean "the ERP holds nothing from this call".
        """
        endpoint = self.names.paths[path_key]
        url = self.url(path_key, **(path_args or {}))
        headers = {"Authorization": f"Bearer {token}"} if token else None
        writes = method != "GET" and token is not None  # the login is no write of ours
        attempt = 0
        while True:
            attempt += 1
            try:
                started = time.monotonic()
                response = self.session.request(method, url, params=params, json=body, headers=headers,
                                                timeout=self.timeout, stream=True)  # fmt: skip
                content = self._body(response, started)
                return self._decode(response, content, endpoint, token)
            except ErpRejected as exc:
                exc.maybe_taken = exc.maybe_taken or taken
                raise
            except _Unauthorized as exc:
                exc.maybe_taken = taken
                raise
            except ErpTransient as exc:
                taken = taken or (writes and (exc.status or 0) >= 500)
                if not self.retry.should_retry(attempt, exc.retry_after):
                    exc.maybe_taken = taken
                    raise
                wait = self.retry.delay(attempt, exc.retry_after)
                logger.warning("consinco: %s %s failed (%s); retry %s in %.2fs", method, endpoint, exc,
                               attempt, wait)  # fmt: skip
                self.retry.sleep(wait)
            except _NETWORK_ERRORS as exc:
                taken = taken or (writes and _may_have_arrived(exc))
                if not self.retry.should_retry(attempt):
                    raise ErpTransient(f"Consinco unreachable at {endpoint}: {type(exc).__name__}",
                                       endpoint=endpoint, maybe_taken=taken).worded(
                        "erp_unreachable", endpoint=endpoint, error=type(exc).__name__) from exc  # fmt: skip
                wait = self.retry.delay(attempt)
                logger.warning("consinco: %s %s: %s; retry %s in %.2fs", method, endpoint, type(exc).__name__,
                               attempt, wait)  # fmt: skip
                self.retry.sleep(wait)

    def _body(self, response: requests.Response, started: float) -> bytes:
        """The answer's body, read by what each socket read brings (read1: one read, not a chunk
        gathered over many) and given up once the attempt has run BODY_DEADLINE read timeouts since
        `started`: the response closed, requests.ReadTimeout (transient, maybe taken, as any read
        timeout). A read already waiting may run one read timeout past that. The errors are those
        requests' iter_content raises."""
        if not hasattr(response.raw, "read1"):  # a body given whole (no socket behind it): nothing to wait on
            return response.content
        read = self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout
        deadline = started + BODY_DEADLINE * read if read else None
        chunks: list[bytes] = []
        try:
            while chunk := response.raw.read1(BODY_CHUNK, decode_content=True):
                chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    response.close()
                    raise requests.ReadTimeout(
                        f"the answer was not whole {BODY_DEADLINE * read:.0f}s after sending",
                        response=response,
                    )
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.ConnectionError(exc) from exc
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        return b"".join(chunks)

    def _decode(
        self, response: requests.Response, content: bytes, endpoint: str, token: str | None
    ) -> tuple[int, Any]:
        status = response.status_code
        if status < 400:
            if status == 204 or not content:
                return status, None
            try:
                return status, _whole_characters(json.loads(content, parse_float=Decimal), content)
            except ValueError:
                text = content.decode(response.encoding or "utf-8", "replace")
                raise ErpUnexpectedShape(
                    endpoint, "(body)", f"is not JSON (HTTP {status})", text[:80]
                ) from None
        error = self._error(response, content, endpoint)
        if token is None and status in LOGIN_REFUSED:  # the login itself: a person fixes the user
            raise ErpAuthError(
                f"Consinco refused the login for user {self.username!r}: {error.mensagem}",
                codigo=error.codigo, campo=error.campo, status=status, endpoint=endpoint,
            ).worded("erp_login_refused", user=self.username, message=error.mensagem)  # fmt: skip
        if status == 401:
            raise _Unauthorized(error)
        if status >= 500 or status in (408, 429):
            raise ErpTransient(f"Consinco {endpoint} answered HTTP {status}: {error.mensagem}", status=status,
                               codigo=error.codigo, endpoint=endpoint,
                               retry_after=_retry_after(response)).worded(
                "erp_answered", endpoint=endpoint, status=status, message=error.mensagem)  # fmt: skip
        raise error

    def _error(self, response: requests.Response, content: bytes, endpoint: str) -> ErpRejected:
        e = self.names.error
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        fields = body if isinstance(body, dict) else {}
        mensagem, codigo, campo = (_short(fields.get(e[key])) for key in ("mensagem", "codigo", "campo"))
        if mensagem is None:
            mensagem, named = _problem(fields)
            campo = campo or named
        if mensagem is None:
            excerpt = _excerpt(response, content, body)
            mensagem = excerpt and _short(f"HTTP {response.status_code}: {excerpt}")
        return ErpRejected(
            mensagem or f"HTTP {response.status_code}",
            codigo=codigo,
            campo=campo,
            status=response.status_code,
            endpoint=endpoint,
        )


class _Unauthorized(Exception):
    """Internal: a call's token was refused (the caller logs in again once)."""

    def __init__(self, error: ErpRejected) -> None:
        super().__init__(error.mensagem)
        self.error = error
        self.maybe_taken = False  # an earlier attempt of the write may have been taken (`_send`)


def _may_have_arrived(exc: Exception) -> bool:
    """Whether a request that failed so may have reached the ERP: all but a connection never made
    (connect timeout, refused, the name not resolved)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(getattr(reason, "reason", reason), NewConnectionError):
            return False
    return True


def _short(value: Any) -> str | None:
    """A structured error field as text, cut to MAX_MESSAGE characters; None when absent or not text."""
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= MAX_MESSAGE else value[: MAX_MESSAGE - 3] + "..."


def _problem(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(reason, field) of an error body shaped as RFC 7807 ProblemDetails, or a bare {"message"}.

    SmPedidoVendaAPI's body names (clienteDto, itemDto) are .NET DTOs, and ASP.NET Core answers
    a model-validation failure with ProblemDetails before any handler writes {codigo, mensagem}:
    {"title": "One or more validation errors occurred.", "status": 400,
     "errors": {"clienteDto.cep": ["The field cep must be ..."]}}. The reason is detail, else
    title, else message, followed by the first entry of `errors`, which also names the field
    (System.Text.Json's "$." path prefix dropped). None when the body has none of them.
    """
    reason = next((v.strip() for k in ("detail", "title", "message")
                   if isinstance(v := body.get(k), str) and v.strip()), None)  # fmt: skip
    field, first, more = None, None, 0
    errors = body.get("errors")
    entries = (
        errors.items() if isinstance(errors, dict) else [(None, errors)] if isinstance(errors, list) else []
    )
    for key, value in entries:
        text = next((m.strip() for m in (value if isinstance(value, list) else [value])
                     if isinstance(m, str) and m.strip()), None)  # fmt: skip
        if text is None:
            continue
        if first is not None:
            more += 1
            continue
        field = (key.removeprefix("$.") or None) if isinstance(key, str) else None
        first = f"{field}: {text}" if field else text
    if first is not None and more:
        first += f" (and {more} more)"
    if reason and first and reason[-1] not in ".!?:":
        reason += "."
    shown = " ".join(part for part in (reason, first) if part)
    return _short(shown), _short(field)


def _excerpt(response: requests.Response, content: bytes, body: Any) -> str | None:
    """The first RAW_EXCERPT characters of a JSON or plain-text error body, white space folded.

    An HTML or XML page (a proxy's, a web server's default) is left out: its markup is no reason.
    """
    kind = response.headers.get("Content-Type", "").lower()
    if body is not None:  # JSON: written back with its accents (a server may escape them as \u00e7)
        raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    else:
        try:
            raw = content.decode("utf-8")
        except UnicodeDecodeError:
            raw = content.decode(response.encoding or "latin-1", "replace")
    text = " ".join(raw.split())
    if not text:
        return None
    if body is None:
        if "html" in kind or "xml" in kind or text.startswith("<"):
            return None
        if kind and not kind.startswith("text/"):
            return None
    return text if len(text) <= RAW_EXCERPT else text[: RAW_EXCERPT - 3] + "..."


def _retry_after(response: requests.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))


# A UTF-16 surrogate escape in JSON text (\ud83d): JSON allows one alone (an emoji cut in half where
# the ERP's API cut a text), which json.loads reads into a str no UTF-8 encoder takes (the ledger's
# JSON columns, orjson, Shopify's request): it failed every catalog pass, not the one record.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole_characters(value: Any, content: bytes) -> Any:
    """`value` (decoded from `content`) with every lone surrogate replaced by U+FFFD (the Unicode
    replacement character), a pair having been joined by json.loads; unchanged, at no cost, when
    the body has no surrogate escape (the usual case)."""
    if b"\\u" not in content or _SURROGATE_ESCAPE.search(content) is None:
        return value
    return _repaired(value)


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    return value
