"""Calls from the setup page to the ERP and to Shopify, each failure a clear 502/503, never a 500.

Interactive calls try once (no backoff sleeping while a merchant waits) with short timeouts;
an unreachable system is a 503 naming it, a refusal or an unreadable answer a 502 with the
system's own message. The long retries belong to the jobs, not to a page load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests

import erp
from erp.address import policy_for
from erp.retry import NO_RETRY
from ledger.crypto import SecretUnreadable
from ledger.errors import IntegrationError, MappingMissing, Transient
from ledger.mappings import ErpLists
from settings import Settings
from shopify_app.admin_api import build_client
from shopify_app.admin_api.catalog_ops import online_store
from shopify_app.admin_api.executor import RetryPolicy as ShopifyRetryPolicy
from shopify_app.api_common import ApiError
from shopify_app.roles import SESSION_ENDPOINT
from shopify_app.scopes import is_missing_reason
from shopify_app.tokens import ShopNeedsReauth

log = logging.getLogger(__name__)

T = TypeVar("T")

ERP = "consinco"
SHOPIFY = "shopify"
ERP_TIMEOUT = (3.05, 15.0)
# (connect, read) seconds of an interactive Shopify read: a person waits on it, and the Admin
# transport's default (30 s, the jobs') would hold a save for half a minute on a hung edge.
SHOPIFY_TIMEOUT = (3.05, 10.0)
SHOPIFY_ONE_TRY = ShopifyRetryPolicy(max_attempts=1)
SYSTEM_NAMES = {ERP: "the ERP (Consinco)", SHOPIFY: "Shopify"}


def call(system: str, action: Callable[[], T]) -> T:
    """Run one outside call, turning every failure into an ApiError naming the system."""
    name = SYSTEM_NAMES[system]
    try:
        return action()
    except ApiError:
        raise
    except MappingMissing as exc:  # erp.for_shop: no connection saved and no demo fallback
        code = "erp_not_configured" if system == ERP else f"{system}_not_configured"
        raise ApiError(409, code, exc.message, system=system) from exc
    except Transient as exc:
        log.warning("api: %s unavailable: %s", system, exc.message)
        raise ApiError(
            503,
            f"{system}_unavailable",
            f"{name} could not be reached: {exc.message}",
            system=system,
            upstream_message=exc.message,
        ) from exc
    except ShopNeedsReauth as exc:  # the grant found gone in this very request: the shop is parked now
        # answered as every endpoint answers a parked shop (shopify_app.roles), so the page renews its
        # session by itself; a grant short of scopes gets no action (a new session gets the same grant)
        action = {} if is_missing_reason(exc.reason) else {"action": SESSION_ENDPOINT}
        raise ApiError(409, "needs_reauth", "the shop must authorize the app again", reason=exc.reason,
                       **action) from exc  # fmt: skip
    except IntegrationError as exc:  # Rejected, unexpected shapes, auth refusals
        log.warning("api: %s refused: %s", system, exc.message)
        raise ApiError(
            502,
            f"{system}_error",
            f"{name} answered with an error: {exc.message}",
            system=system,
            upstream_message=exc.message,
        ) from exc
    except SecretUnreadable as exc:
        raise ApiError(
            502,
            f"{system}_secret_unreadable",
            "the stored password cannot be decrypted with the current ENCRYPTION_KEY: enter it again",
            system=system,
        ) from exc
    except (requests.RequestException, OSError, ValueError) as exc:  # bad URL typed, socket errors
        log.warning("api: %s call failed: %s", system, type(exc).__name__)
        raise ApiError(
            503,
            f"{system}_unavailable",
            f"{name} could not be reached ({type(exc).__name__})",
            system=system,
            upstream_message=str(exc)[:500],
        ) from exc


def erp_client(shop_id: int, settings: Settings) -> erp.ErpClient:
    """The shop's stored ERP connection as a one-try client (409 when none is set up)."""
    return call(
        ERP,
        lambda: erp.for_shop(
            shop_id, database_url=settings.database_url, timeout=ERP_TIMEOUT, retry=NO_RETRY
        ),
    )


def erp_client_for(base_url: str, username: str, password: str, settings: Settings) -> erp.ErpClient:
    """A one-try client for values typed on the setup page and not saved yet (in production every
    connection it opens is checked against erp/address.py, as for_shop's are)."""
    policy = policy_for(settings)
    session = None if policy is None else policy.protect()
    return call(
        ERP,
        lambda: erp.ErpClient(
            base_url, username, password, session=session, timeout=ERP_TIMEOUT, retry=NO_RETRY
        ),
    )


# Why a connection test failed (erp.records.ConnectionCheck.code) as the API's error codes, which
# the page says in its language (`error.code.<code>`); the ERP's own words go in `upstream_message`.
CHECK_CODES = {
    "login_refused": f"{ERP}_login_refused",
    "address_refused": f"{ERP}_address_refused",
    "unreachable": f"{ERP}_unavailable",
    "refused": f"{ERP}_error",
    "unexpected_shape": f"{ERP}_error",
    "bad_address": f"{ERP}_bad_address",
}


def test_connection(client: erp.ErpClient) -> dict[str, Any]:
    """Log in and read one page of companies; a failure is an answer (ok false), not an error: its
    `code` (the page says it in its language), its English `message` and the ERP's own words
    (`upstream_message`, a technical detail)."""
    try:
        check = call(ERP, client.test_connection)
    except ApiError as exc:
        return failed_test(
            exc.code, f"The ERP could not be tested: {exc.message}", exc.extra.get("upstream_message")
        )
    finally:
        client.close()
    if not check.ok:
        return failed_test(CHECK_CODES.get(check.code or "", f"{ERP}_error"), check.message, check.detail)
    return {"ok": True, "message": check.message, "companies": list(check.companies)}


def failed_test(code: str, message: str, upstream: str | None = None) -> dict[str, Any]:
    """A connection test's failed answer (see `test_connection`)."""
    answer: dict[str, Any] = {"ok": False, "code": code, "message": message, "companies": []}
    if upstream:
        answer["upstream_message"] = upstream
    return answer


def erp_lists(shop_id: int, settings: Settings) -> ErpLists | None:
    """The companies, segments and payment methods the shop's ERP lists; None when it cannot be
    asked (no connection saved, the ERP down): the caller saves on the numbers alone."""
    try:
        choices = erp_choices(erp_client(shop_id, settings))
    except ApiError as exc:
        log.info("shop %s: ERP numbers saved unchecked: %s", shop_id, exc.message)
        return None
    return ErpLists(
        {c["nro_empresa"] for c in choices["companies"]},
        {s["nro_segmento"] for s in choices["segments"]},
        {m["nro_forma_pagto"] for m in choices["payment_methods"]},
    )


def erp_unlisted(
    shop_id: int, settings: Settings, companies: Mapping[str, int], segments: Mapping[str, int] | None = None
) -> tuple[bool, dict[str, str]]:
    """Whether the shop's ERP could be asked (its saved connection: none saved, the ERP down, and
    the caller saves on the numbers alone, saying so), and {field: why} of the `companies` and
    `segments` (field -> number) it does not list: a mistyped company mapped to a location was
    never written by the stock flow, nor said."""
    found = erp_lists(shop_id, settings)
    if found is None:
        return False, {}
    listed, sold_in = found.companies, found.segments
    errors = {key: f"the ERP lists no company {nro}" for key, nro in companies.items() if nro not in listed}
    errors.update(
        {
            key: f"the ERP lists no segment {nro}"
            for key, nro in (segments or {}).items()
            if nro not in sold_in
        }
    )
    return True, errors


def erp_choices(client: erp.ErpClient) -> dict[str, list[dict[str, Any]]]:
    """Companies, segments and payment methods as the setup page offers them."""
    try:
        companies = call(ERP, client.companies)
        segments = call(ERP, client.segments)
        methods = call(ERP, client.payment_methods)
    finally:
        client.close()
    return {
        "companies": [
            {
                "nro_empresa": c.nro_empresa,
                "name": c.short_name,
                "legal_name": c.legal_name,
                "cnpj": c.cnpj,
                "city": c.city,
                "uf": c.uf,
                "active": c.active,
            }
            for c in companies
        ],
        "segments": [
            {"nro_segmento": s.nro_segmento, "description": s.description, "active": s.active}
            for s in segments
        ],
        "payment_methods": [
            {"nro_forma_pagto": m.nro_forma_pagto, "name": m.name, "kind": m.kind, "active": m.active}
            for m in methods
        ],
    }


def shopify_read(shop_domain: str, settings: Settings, read: Callable[[Any], T]) -> T:
    """One read through the shop's Admin API client, one try with short timeouts
    (`SHOPIFY_TIMEOUT`), every failure an ApiError."""

    def run() -> T:
        from shopify_app.admin_api.client import default_token_provider

        base_url, headers = settings.admin_origin(shop_domain)
        client = build_client(
            shop_domain,
            base_url=base_url,
            api_version=settings.api_version,
            extra_headers=headers,
            token_provider=default_token_provider(shop_domain),
            retry=SHOPIFY_ONE_TRY,
            timeout=SHOPIFY_TIMEOUT,
        )
        try:
            return read(client)
        finally:
            client.close()

    return call(SHOPIFY, run)


def shopify_locations(shop_domain: str, settings: Settings) -> list[dict[str, Any]]:
    """The shop's locations (active and inactive)."""
    return shopify_read(
        shop_domain,
        settings,
        lambda client: [
            {
                "id": loc.id,
                "name": loc.name,
                "is_active": loc.is_active,
                "fulfills_online_orders": loc.fulfills_online_orders,
                "city": loc.city,
                "province_code": loc.province_code,
            }
            for loc in client.locations(include_inactive=True)
        ],
    )


def shop_location_names(shop_domain: str, settings: Settings) -> dict[str, str | None] | None:
    """The shop's locations (active and inactive), gid -> name, read live as the Setup page lists
    them; None when Shopify cannot be read now (unreachable, refused): a location line is then
    checked by its shape only (and saved with the name it was given), and a location deleted in
    Shopify is refused by Shopify's own answer to the flow that writes there."""
    try:
        return {location["id"]: location["name"] for location in shopify_locations(shop_domain, settings)}
    except ApiError as exc:
        log.info("the locations of %s could not be read to check a location line: %s", shop_domain, exc)
        return None


def shopify_markets(shop_domain: str, settings: Settings) -> list[dict[str, Any]]:
    """The shop's markets: the Shopify side of a segment <-> market De:Para line."""
    return shopify_read(
        shop_domain,
        settings,
        lambda client: [
            {"id": m.id, "name": m.name, "handle": m.handle, "status": m.status, "currency": m.currency}
            for m in client.markets()
        ],
    )


def shopify_publications(shop_domain: str, settings: Settings) -> list[dict[str, Any]]:
    """The shop's sales-channel publications; `online_store` marks the one new products go to
    when the shop's publish_to setting is unset (shopify_app.admin_api.catalog_ops.online_store)."""

    def read(client: Any) -> list[dict[str, Any]]:
        found = client.publications()
        default = online_store(found)
        return [{"id": pid, "title": title, "online_store": pid == default} for pid, title in found]

    return shopify_read(shop_domain, settings, read)
