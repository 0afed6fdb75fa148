"""Demo step 2: install the app in the sandbox shop and set it up, as the embedded page does.

Why through HTTP and not ledger calls: the demo is the integration test a person can watch, so
it walks the same path a merchant's browser does — an ID token from App Bridge (here the Shopify
sandbox's stand-in), `POST /auth/session` (token exchange installs the shop), then the Setup
page's JSON API with that token on every call. Whatever the page could not do, the demo could
not either.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger(__name__)

ERP_USER = "ecommerce"
ERP_PASSWORD = "consinco"  # noqa: S105 (the Consinco sandbox's documented default)
SEQ_CANAL_VENDA = 7  # the chain's e-commerce sales channel
COD_GERAL_OPER = 207  # the fiscal operation of an e-commerce sale
NRO_REPRESENTANTE = 1  # the chain's representative registered for the e-commerce channel
PREFERRED_SEGMENT = "ECOMMERCE"
# Shopify payment gateway names (what orders carry) -> the ERP payment method they are.
GATEWAY_TO_ERP = {"Pix": "PIX", "Cartão de crédito": "CARTAO DE CREDITO", "Boleto bancário": "BOLETO"}
# The chain's own codes for card brands (codBandeira) and its card gateway's acquirer network
# (codRede): what the ERP's card receivables are reconciled by (jobs.card_payments).
CARD_BRANDS = {"Visa": "1", "Mastercard": "2", "Elo": "3", "Hipercard": "4", "American Express": "5"}
CARD_NETWORKS = {"Cartão de crédito": "1", "Mercado Pago": "2"}
TIMEOUT = 60
ALERT_EMAIL = "ecommerce@supermercado-demo.com.br"  # the team told what needs a person (jobs.alerts)


class DemoApiError(RuntimeError):
    """The app answered an API call with an error: the demo stops and shows the app's words."""


def plain(text: str) -> str:
    """Upper case without accents: how the ERP names payment methods."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper().strip()


class EmbeddedPage:
    """The embedded page's side of the API: a fresh ID token from the sandbox on every call."""

    def __init__(self, app_url: str, shopify_sandbox: Any, shop: str, user: str = "owner") -> None:
        self.app_url = app_url
        self.sandbox = shopify_sandbox
        self.shop = shop
        self.user = user
        self.http = requests.Session()

    def id_token(self) -> str:
        """What `shopify.idToken()` gives the page (a one-minute HS256 JWT for the staff member)."""
        return self.sandbox.tokens.id_token(self.shop, user=self.user)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(
            method,
            f"{self.app_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.id_token()}"},
            timeout=TIMEOUT,
        )
        if answer.status_code >= 400:
            raise DemoApiError(f"{method} {path} -> {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def close(self) -> None:
        self.http.close()


@dataclass
class SetupResult:
    """What the install and setup produced (the tests assert on it)."""

    shop_domain: str
    role: str
    newly_installed: bool
    nro_empresa: int
    nro_segmento: int
    segment_name: str
    companies: dict[int, str] = field(default_factory=dict)  # nro_empresa -> short name
    locations: dict[int, tuple[str, str]] = field(default_factory=dict)  # nro_empresa -> (gid, name)
    payments: dict[str, str] = field(default_factory=dict)  # gateway -> NROFORMAPAGTO
    status: list[dict[str, Any]] = field(default_factory=list)
    alert_test: dict[str, Any] = field(default_factory=dict)  # the Setup page's test e-mail's answer


def install_and_configure(page: EmbeddedPage, erp_url: str, echo: Any) -> SetupResult:
    """Install, connect the ERP, link the store, map locations, set the channel and De:Para."""
    session = page.call("POST", "/auth/session")
    how = "installed now (token exchange)" if session["newly_installed"] else "already installed"
    echo(f"  app {how} on {session['shop']}; staff user {session['user_id']} is {session['role']}")

    page.call(
        "PUT",
        "/api/setup/erp-connection",
        {"base_url": erp_url, "username": ERP_USER, "password": ERP_PASSWORD},
    )
    test = page.call("POST", "/api/setup/erp-connection/test")
    if not test["ok"]:
        raise DemoApiError(f"ERP connection test failed: {test['message']}")
    echo(f"  ERP connection saved and tested: {test['message']}")

    choices = page.call("GET", "/api/setup/erp-choices")
    companies = {c["nro_empresa"]: c["name"] for c in choices["companies"] if c["active"]}
    segments = [s for s in choices["segments"] if s["active"]]
    segment = next((s for s in segments if plain(s["description"]) == PREFERRED_SEGMENT), segments[0])
    nro_empresa = min(companies)
    page.call(
        "PUT", "/api/setup/store-link", {"nro_empresa": nro_empresa, "nro_segmento": segment["nro_segmento"]}
    )
    echo(
        f"  store linked to company {nro_empresa} ({companies[nro_empresa]}), "
        f"segment {segment['nro_segmento']} ({segment['description']})"
    )

    locations = sorted(
        page.call("GET", "/api/setup/locations")["locations"], key=lambda loc: _gid_num(loc["id"])
    )
    if len(locations) < len(companies):
        raise DemoApiError(f"{len(companies)} ERP companies but only {len(locations)} Shopify locations")
    pairs = dict(zip(sorted(companies), locations, strict=False))
    version = page.call("GET", "/api/setup/location-mappings")["version"]  # the set it replaces
    page.call(
        "PUT",
        "/api/setup/location-mappings",
        {
            "version": version,
            "mappings": [
                {"nro_empresa": nro, "location_id": loc["id"], "location_name": loc["name"]}
                for nro, loc in pairs.items()
            ],
        },
    )
    for nro, loc in pairs.items():
        echo(f"  company {nro} ({companies[nro]}) -> location {loc['name']}")

    page.call(
        "PUT",
        "/api/setup/settings",
        {
            "seq_canal_venda": SEQ_CANAL_VENDA,
            "cod_geral_oper": COD_GERAL_OPER,
            "nro_representante": NRO_REPRESENTANTE,
            "payment_confirmation": "authorized",
        },
    )
    echo(
        f"  sales channel seqCanalVenda={SEQ_CANAL_VENDA}, codGeralOper={COD_GERAL_OPER}, "
        f"representative nroRepresentante={NRO_REPRESENTANTE}; "
        "orders go to the ERP once paid or authorised"
    )

    methods = {plain(m["name"]): str(m["nro_forma_pagto"]) for m in choices["payment_methods"] if m["active"]}
    payments: dict[str, str] = {}
    for gateway, erp_name in GATEWAY_TO_ERP.items():
        code = methods.get(erp_name)
        if code is None:
            echo(f"  (no ERP payment method {erp_name!r}: gateway {gateway!r} stays unmapped)")
            continue
        page.call(
            "PUT",
            "/api/mappings",
            {"kind": "payment_method", "shopify_code": gateway, "erp_code": code, "label": erp_name},
        )
        payments[gateway] = code
    echo("  De:Para payment: " + ", ".join(f"{g} -> {c} ({GATEWAY_TO_ERP[g]})" for g, c in payments.items()))
    for kind, lines in (("card_brand", CARD_BRANDS), ("card_network", CARD_NETWORKS)):
        for shopify_code, erp_code in lines.items():
            page.call(
                "PUT", "/api/mappings", {"kind": kind, "shopify_code": shopify_code, "erp_code": erp_code}
            )
    echo(
        "  De:Para card brands (codBandeira): " + ", ".join(f"{b} -> {c}" for b, c in CARD_BRANDS.items())
        + "; card networks (codRede): " + ", ".join(f"{g} -> {c}" for g, c in CARD_NETWORKS.items())
    )  # fmt: skip

    page.call("PUT", "/api/setup/settings", {"alert_emails": [ALERT_EMAIL]})
    alert_test = page.call("POST", "/api/setup/alerts/test")
    sent = "test e-mail sent" if alert_test["ok"] else f"test e-mail NOT sent: {alert_test['message']}"
    echo(f"  alert e-mails go to {ALERT_EMAIL} (the sandbox's mail server): {sent}")

    status = page.call("GET", "/api/setup/status?locale=en")["steps"]
    return SetupResult(
        shop_domain=session["shop"],
        role=session["role"],
        newly_installed=session["newly_installed"],
        nro_empresa=nro_empresa,
        nro_segmento=segment["nro_segmento"],
        segment_name=segment["description"],
        companies=companies,
        locations={nro: (loc["id"], loc["name"]) for nro, loc in pairs.items()},
        payments=payments,
        status=status,
        alert_test=alert_test,
    )


def _gid_num(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
