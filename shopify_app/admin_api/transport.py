"""HTTP to the Admin GraphQL endpoint: gql's requests transport, told to keep the HTTP status.

gql's RequestsHTTPTransport sends the POST, the headers (including the Host header the sandbox
needs), the timeout, and gives back `data`, `errors` and `extensions`. It does not keep the
status of an answer that still carries a JSON body (Shopify's 401 is `{"errors": "..."}`), and
the client must tell 401 from 5xx from THROTTLED, so this subclass records status and headers.
It never retries by itself: retrying is the client's decision (rejected errors never are).

gql wraps *any* exception raised while the request is made in TransportConnectionFailed. Only the
network's own (requests', the socket's: NETWORK_ERRORS) become ShopifyNetworkError, which the
executor retries; anything else goes up as itself. RQ's job timeout (rq.timeouts.JobTimeoutException,
an Exception raised by SIGALRM in the job) arriving while a call is on the wire must reach the job:
as a "network error" it would be swallowed and the call sent again past the job's timeout.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from gql import GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportServerError,
)
from gql.transport.requests import RequestsHTTPTransport

from ledger.errors import retry_after_seconds
from shopify_app.admin_api.errors import ShopifyNetworkError

if TYPE_CHECKING:
    from shopify_app.admin_api.documents import Operation

DEFAULT_TIMEOUT_SECONDS = 30
# What a failed HTTP exchange raises (requests wraps urllib3's; OSError: a socket error unwrapped).
NETWORK_ERRORS = (requests.RequestException, OSError)
# Seconds, or (connect, read) seconds as requests takes them.
Timeout = float | tuple[float, float]


@dataclass
class RawResponse:
    """One HTTP exchange: status, body parts and the request id Shopify assigned."""

    status: int
    data: dict[str, Any] | None
    errors: Any
    extensions: dict[str, Any] | None
    request_id: str | None
    retry_after: float | None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class _StatusKeepingTransport(RequestsHTTPTransport):
    """RequestsHTTPTransport that remembers, per thread, the last response (status, headers, text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    @property
    def last_response(self) -> requests.Response | None:
        return getattr(self._local, "response", None)

    @last_response.setter
    def last_response(self, response: requests.Response | None) -> None:
        self._local.response = response

    def _prepare_result(self, response: requests.Response):  # type: ignore[no-untyped-def]
        self.last_response = response
        return super()._prepare_result(response)


class _PrintedRequest(GraphQLRequest):
    """One send of an operation whose text was printed once (gql's payload prints the AST each time)."""

    def __init__(self, op: Operation, variables: dict[str, Any]) -> None:
        super().__init__(op.request, variable_values=variables)
        self.text = op.text

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self.text}
        if self.operation_name:
            payload["operationName"] = self.operation_name
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


def admin_graphql_url(base_url: str, api_version: str) -> str:
    return f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"


class AdminTransport:
    """Sends one GraphQL request for one shop; knows nothing about which server answers."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        *,
        extra_headers: dict[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.url = admin_graphql_url(base_url, api_version)
        self.extra_headers = dict(extra_headers or {})
        self._transport = _StatusKeepingTransport(url=self.url, timeout=timeout, retries=0)  # type: ignore[arg-type]
        self._transport.session = session or requests.Session()

    def send(self, op: Operation, variables: dict[str, Any] | None, token: str) -> RawResponse:
        """POST the operation. Network failures raise ShopifyNetworkError; any HTTP status returns."""
        transport = self._transport
        headers = {
            **self.extra_headers,
            "X-Shopify-Access-Token": token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        transport.last_response = None
        call = _PrintedRequest(op, variables or {})
        try:
            # Headers per call (not on the shared transport): one client may serve several threads.
            result = transport.execute(call, extra_args={"headers": headers})
        except TransportConnectionFailed as exc:
            cause = exc.__cause__
            if cause is not None and not isinstance(cause, NETWORK_ERRORS):
                raise cause from None  # not the network's (module docstring): never retried as one
            error = type(cause).__name__
            raise ShopifyNetworkError(f"no answer from Shopify: {error}", error=error) from exc
        except (TransportProtocolError, TransportServerError):
            # Not JSON, or JSON without data/errors: an HTTP error page, a proxy, an outage.
            return _raw_from(transport.last_response, None, None, None)
        return _raw_from(transport.last_response, result.data, result.errors, result.extensions)

    def close(self) -> None:
        if self._transport.session is not None:
            self._transport.session.close()


def _raw_from(response: requests.Response | None, data: Any, errors: Any, extensions: Any) -> RawResponse:
    if response is None:
        raise ShopifyNetworkError("Shopify's answer was lost before it was read")
    headers = dict(response.headers)
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if data is None and errors is None and extensions is None:
        try:
            body = json.loads(response.text)
            if isinstance(body, dict):
                errors, extensions = body.get("errors"), body.get("extensions")
        except ValueError:
            pass
    return RawResponse(
        status=response.status_code,
        data=data if isinstance(data, dict) else None,
        errors=errors,
        extensions=extensions if isinstance(extensions, dict) else None,
        request_id=response.headers.get("X-Request-Id"),
        retry_after=retry_after,
        text=response.text[:2000],
        headers=headers,
    )
