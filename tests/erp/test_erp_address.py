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
import requests
from test_erp_orders import ORDER_IN

from erp.address import AddressPolicy, policy_for
from erp.client import ErpClient
from erp.errors import ErpAddressRefused, ErpTransient
from erp.retry import RetryPolicy
from ledger.errors import ErrorClass, classify
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


def test_the_rule_applies_wherever_the_app_serves_real_stores(monkeypatch):
    """The demo's ERP is the sandbox on loopback over http; a server left in development against the
    real Shopify serves real stores' admins, who must not aim it at internal addresses."""
    monkeypatch.delenv("ERP_ALLOWED_NETWORKS", raising=False)
    monkeypatch.delenv("ERP_ALLOW_HTTP", raising=False)
    settings = replace(Settings.from_env(), shopify_base_url="http://127.0.0.1:8701")
    assert policy_for(replace(settings, app_env="development")) is None  # on the sandboxes
    assert policy_for(replace(settings, app_env="test", shopify_base_url="")) is None
    assert policy_for(replace(settings, app_env="development", shopify_base_url="")) == AddressPolicy()
    assert policy_for(replace(settings, app_env="production")) == AddressPolicy()
    monkeypatch.setenv("ERP_ALLOWED_NETWORKS", "10.8.0.0/16, fd00::/8")
    monkeypatch.setenv("ERP_ALLOW_HTTP", "1")
    production = replace(Settings.from_env(), app_env="production")
    assert policy_for(production) == AddressPolicy((ip_network("10.8.0.0/16"), ip_network("fd00::/8")), True)


def _proxied_client(sleeps) -> ErpClient:
    """A production client behind an egress proxy (HTTPS_PROXY): the guard resolves the host itself."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": "http://proxy.internal:3128"}
    return ErpClient("https://erp.example.com.br/smpedidovenda/smpedidovendaapi", "u", "p",
                     session=AddressPolicy().protect(session), retry=RetryPolicy(sleep=sleeps))  # fmt: skip


def test_a_dns_blip_behind_a_proxy_is_transient_not_a_refused_address(monkeypatch, sleeps):
    """A resolver's temporary failure (EAI_AGAIN) is retried, as it is without a proxy; nothing was
    sent, so a write is not maybe taken. The setup page's check still refuses the name."""

    def blip(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", blip)
    client = _proxied_client(sleeps)
    with pytest.raises(ErpTransient) as caught:
        client.get_order(1001)
    assert classify(caught.value) is ErrorClass.TRANSIENT and len(sleeps) == 2  # the transport's retries
    with pytest.raises(ErpTransient) as caught:
        client.insert_order(ORDER_IN)
    assert caught.value.maybe_taken is False
    with pytest.raises(ErpAddressRefused, match="not found"):
        AddressPolicy().check_url(client.base_url)


def test_behind_a_proxy_a_host_resolving_to_an_internal_address_is_still_refused(monkeypatch, sleeps):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **kw: real("127.0.0.1", *a, **kw))
    with pytest.raises(ErpAddressRefused, match=r"points to 127\.0\.0\.1"):
        _proxied_client(sleeps).get_order(1001)
    assert sleeps == []
