"""erp/address.py: in production every connection the client opens is checked, not only the
address typed on the setup page (a DNS answer can change between the check and the connection)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from ipaddress import ip_network

import pytest

from erp.address import AddressPolicy, policy_for
from erp.client import ErpClient
from erp.errors import ErpAddressRefused
from settings import Settings


@pytest.fixture
def loopback_service() -> Iterator[tuple[int, list[str]]]:
    """A service on the server's own loopback: (port, paths it was asked for)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, hits
    server.shutdown()
    server.server_close()


def test_a_host_rebound_to_loopback_after_the_check_is_refused_at_connect(monkeypatch, loopback_service):
    """The name resolved to a public address when checked, to 127.0.0.1 when connected: the
    socket's peer is refused and nothing is sent."""
    port, hits = loopback_service
    real = socket.getaddrinfo
    answers = iter(["200.147.3.157"])

    def rebinding(host, *args, **kwargs):
        return real(next(answers, "127.0.0.1") if host == "erp.rebind.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    policy = AddressPolicy(allow_http=True)
    url = f"http://erp.rebind.example:{port}/smpedidovenda/smpedidovendaapi"
    policy.check_url(url)  # the first answer: public
    client = ErpClient(url, "u", "p", session=policy.protect())
    check = client.test_connection()
    assert not check.ok and "not allowed" in check.message and "127.0.0.1" in check.message
    assert check.code == "address_refused" and "127.0.0.1" in check.detail
    assert hits == []
    with pytest.raises(ErpAddressRefused):
        client.companies()


def test_the_operators_networks_and_http_switch_let_a_vpn_erp_through(loopback_service):
    port, hits = loopback_service
    url = f"http://127.0.0.1:{port}/api"
    with pytest.raises(ErpAddressRefused, match="https"):
        AddressPolicy(allowed_networks=(ip_network("127.0.0.0/8"),)).check_url(url)
    policy = AddressPolicy(allowed_networks=(ip_network("127.0.0.0/8"),), allow_http=True)
    policy.check_url(url)
    ErpClient(url, "u", "p", session=policy.protect()).test_connection()
    assert hits  # reached


def test_the_rule_applies_in_production_only(monkeypatch):
    """The demo's ERP is the sandbox on loopback over http."""
    monkeypatch.delenv("ERP_ALLOWED_NETWORKS", raising=False)
    monkeypatch.delenv("ERP_ALLOW_HTTP", raising=False)
    settings = Settings.from_env()
    assert policy_for(replace(settings, app_env="development")) is None
    assert policy_for(replace(settings, app_env="production")) == AddressPolicy()
    monkeypatch.setenv("ERP_ALLOWED_NETWORKS", "10.8.0.0/16, fd00::/8")
    monkeypatch.setenv("ERP_ALLOW_HTTP", "1")
    production = replace(Settings.from_env(), app_env="production")
    assert policy_for(production) == AddressPolicy((ip_network("10.8.0.0/16"), ip_network("fd00::/8")), True)
