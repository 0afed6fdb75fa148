"""APP_ENV=production: the ERP address a shop's admin types on the setup page (erp/address.py).

Any shop's ADMIN may type an address; production calls only public https ones (or the operator's
ERP_ALLOWED_NETWORKS, and http only with ERP_ALLOW_HTTP), so nobody can make the server call its
own network and read the answer (SSRF), nor send the ERP password in clear text.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from ipaddress import ip_network

import pytest
from flask.testing import FlaskClient

from app import create_app
from ledger import crypto
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection

from .conftest import headers

ERP_PATH = "/smpedidovenda/smpedidovendaapi"
# Names a fake DNS answers for: a public ERP, one on a private network, the cloud's metadata.
PUBLIC_ERP = "erp.supermercado.com.br"
KEY = crypto.generate_key()
DNS = {PUBLIC_ERP: "200.147.3.157", "erp.intranet.example": "10.0.0.5", "metadata.example": "169.254.169.254"}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """getaddrinfo answers DNS for the names above; every other name resolves as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real(DNS.get(host, host), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def production_client(settings, **overrides) -> FlaskClient:
    prod = replace(settings, app_env="production", shopify_base_url="", encryption_keys=KEY, **overrides)
    prod.validate()  # a complete production configuration
    application = create_app(prod, blueprints=("shopify_app.api",), cli_modules=())
    application.testing = True
    return application.test_client()


@pytest.fixture
def prod_client(settings, shops) -> FlaskClient:
    return production_client(settings)


@dataclass
class Internal:
    url: str
    hits: list[str]


@pytest.fixture
def internal_service() -> Iterator[Internal]:
    """Some service on the app server's own network, answering a secret in the ERP's error shape."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"mensagem": "INTERNAL-ONLY: db_password=hunter2 " + "x" * 2000}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Internal(f"http://127.0.0.1:{server.server_port}", hits)
    server.shutdown()
    server.server_close()


def _body(base_url: str) -> dict[str, str]:
    return {"base_url": base_url, "username": "integra", "password": "s3nha"}


def test_production_refuses_a_plain_http_erp_address(prod_client, settings, shops):
    """The login POSTs the ERP password and every order the customer's CPF and address: over
    http:// they would cross the internet in clear. An operator may allow http for a VPN link."""
    url = f"http://{PUBLIC_ERP}:8080{ERP_PATH}"
    reply = prod_client.put("/api/setup/erp-connection", json=_body(url), headers=headers())
    assert reply.status_code == 400, reply.get_json()
    message = reply.get_json()["error"]["fields"]["base_url"]
    assert "https://" in message and "ERP_ALLOW_HTTP" in message
    tested = prod_client.post("/api/setup/erp-connection/test", json=_body(url), headers=headers())
    assert tested.status_code == 400

    https = prod_client.put("/api/setup/erp-connection", json=_body(f"https://{PUBLIC_ERP}{ERP_PATH}"),
                            headers=headers())  # fmt: skip
    assert https.status_code == 200, https.get_json()
    allowed = production_client(settings, erp_allow_http=True)
    assert allowed.put("/api/setup/erp-connection", json=_body(url), headers=headers()).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "169.254.169.254",
        "metadata.example",
        "10.0.0.5",
        "erp.intranet.example",
        "192.168.1.10",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
    ],
)
def test_production_refuses_an_erp_address_on_an_internal_network(prod_client, host):
    """Loopback, link-local (the cloud's metadata service), private, shared, multicast, reserved:
    every address the host resolves to is checked, before saving and before testing."""
    url = f"https://{host}{ERP_PATH}"
    for method, path in (("put", "/api/setup/erp-connection"), ("post", "/api/setup/erp-connection/test")):
        reply = getattr(prod_client, method)(path, json=_body(url), headers=headers())
        assert reply.status_code == 400, (method, host, reply.get_json())
        assert "ERP_ALLOWED_NETWORKS" in reply.get_json()["error"]["fields"]["base_url"]


def test_production_refuses_an_erp_host_that_does_not_resolve(prod_client):
    reply = prod_client.put("/api/setup/erp-connection", json=_body(f"https://erp.invalid{ERP_PATH}"),
                            headers=headers())  # fmt: skip
    assert reply.status_code == 400
    assert "not found" in reply.get_json()["error"]["fields"]["base_url"]


def test_production_setup_test_does_not_reach_the_app_servers_own_network(prod_client, internal_service):
    """Any shop's admin could make the server POST to a loopback service and read its answer."""
    reply = prod_client.post("/api/setup/erp-connection/test", json=_body(internal_service.url),
                             headers=headers())  # fmt: skip
    assert reply.status_code == 400
    assert "INTERNAL-ONLY" not in reply.get_data(as_text=True)
    assert internal_service.hits == []


def test_the_operators_allowed_networks_reach_an_erp_on_a_private_network(settings, shops, internal_service):
    """ERP_ALLOWED_NETWORKS (an ERP over a VPN) lets its addresses through; the ERP's own error
    words come back, cut to a readable length."""
    client = production_client(
        settings, erp_allow_http=True, erp_allowed_networks=(ip_network("127.0.0.0/8"),)
    )
    reply = client.post("/api/setup/erp-connection/test", json=_body(internal_service.url), headers=headers())
    assert reply.status_code == 200 and internal_service.hits
    message = reply.get_json()["message"]
    assert "INTERNAL-ONLY" in message and len(message) < 500


def test_a_saved_internal_address_is_refused_when_the_client_connects(
    prod_client, shops, settings, internal_service, monkeypatch
):
    """An address saved before the rule (or one whose DNS changed since) is checked again on
    every connection (erp.for_shop, as the jobs use it): the request never leaves, and nothing
    of the service comes back."""
    monkeypatch.setenv("APP_ENV", "production")  # erp.for_shop reads the environment's settings
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("ERP_ALLOW_HTTP", "1")  # the address is refused, not its scheme
    with session_scope(settings.database_url) as session:
        session.add(ErpConnection(shop_id=shops.a, base_url=internal_service.url, username="u",
                                  password_enc=encrypt("p", KEY)))  # fmt: skip
    reply = prod_client.post("/api/setup/erp-connection/test", headers=headers())
    assert reply.status_code == 200
    answer = reply.get_json()
    assert answer["ok"] is False and "not allowed" in answer["message"], answer
    assert answer["code"] == "consinco_address_refused"
    assert "INTERNAL-ONLY" not in json.dumps(answer) and internal_service.hits == []
