"""The ERP client's failures, each one of the ledger's classes (ledger/errors.py).

The job layer decides what to do by class alone: `ErpRejected`/`ErpAuthError` are shown to the
merchant with the ERP's own words and never retried blindly; `ErpTransient` goes back to RQ's
Retry; `ErpUnexpectedShape` is a bug (the contract changed, or a field name needs mapping in
CONSINCO_FIELD_MAP) and surfaces loudly with the endpoint and the field named.
"""

from __future__ import annotations

from typing import Any

from ledger.errors import IntegrationError, Rejected, Transient

SYSTEM = "consinco"
AUTH = "auth"  # the error detail's flag of a refused login (ErpAuthError)


class ErpRejected(Rejected):
    """The ERP refused the request (400/404/409/422): the same request gets the same answer.

    `maybe_taken`: an earlier attempt of the same write, sent again by the transport's retries,
    may have been taken (its answer lost: a read timeout, the connection dropped after sending, a
    5xx); the refusal speaks for the last attempt only, so the ERP may hold the write all the same
    (jobs.orders keeps the order maybe taken)."""

    def __init__(
        self,
        mensagem: str,
        *,
        codigo: str | None = None,
        campo: str | None = None,
        status: int | None = None,
        endpoint: str | None = None,
        maybe_taken: bool = False,
    ) -> None:
        super().__init__(
            mensagem,
            system=SYSTEM,
            code=codigo,
            field=campo,
            detail={"status": status, "endpoint": endpoint},
        )
        self.codigo = codigo
        self.mensagem = mensagem
        self.campo = campo
        self.status = status
        self.endpoint = endpoint
        self.maybe_taken = maybe_taken


class ErpAuthError(ErpRejected):
    """The ERP refused the login: wrong user or password. Fixing it needs a person, not a retry.

    Its detail says so (AUTH: true) whatever the login endpoint's own codigo (each installation
    words it its own way): the Messages page explains it as a login to fix under Setup, and saving
    the ERP connection retries the messages that failed so (shopify_app.enqueue.retry_auth_failed).
    """

    def __init__(self, mensagem: str, **kwargs: Any) -> None:
        super().__init__(mensagem, **kwargs)
        self.detail[AUTH] = True


class ErpAddressRefused(ErpRejected):
    """Production does not call this ERP address (erp/address.py): a person must change it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, codigo="address_refused")


class ErpTransient(Transient):
    """Worth trying again: 5xx, timeouts, connection refused, 503 downtime (with Retry-After), a
    token refused right after the login issued it (erp/transport.py).

    `maybe_taken`: a write the failure cut off may be in the ERP all the same (its answer lost: a
    read timeout, the connection dropped once the request may have gone out, a 5xx); False only when
    the transport knows no attempt of it reached the ERP (the connection never made, the login
    before it failing, a 429), so jobs.orders may map the order afresh next time. Unknown: True."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codigo: str | None = None,
        endpoint: str | None = None,
        retry_after: float | None = None,
        maybe_taken: bool = True,
    ) -> None:
        super().__init__(message, retry_after=retry_after, system=SYSTEM, status=status, code=codigo,
                         endpoint=endpoint)  # fmt: skip
        self.status = status
        self.codigo = codigo
        self.endpoint = endpoint
        self.maybe_taken = maybe_taken


class ErpUnexpectedShape(IntegrationError):
    """The ERP answered with a body this client cannot read: a bug-class failure naming the field."""

    def __init__(self, endpoint: str, field: str, problem: str, value: Any = None) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(
            f"unexpected Consinco response from {endpoint}: field {field!r} {problem} (got {shown})",
            detail={"system": SYSTEM, "endpoint": endpoint, "field": field, "problem": problem},
        )
        self.endpoint = endpoint
        self.field = field
        self.problem = problem


class ErpFilterIgnored(ErpUnexpectedShape):
    """A record of another company or segment than the read asked for: the server did not apply the
    filter (its parameter is named otherwise, CONSINCO_FIELD_MAP). The whole read fails, naming it:
    taken as a record, another segment's price would price the store (the last row per SKU winning)."""
