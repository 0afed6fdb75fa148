"""Where production may send a shop's ERP login: public https addresses, or the operator's networks.

A shop's ADMIN types the ERP base URL on the setup page; the app then POSTs the ERP user and
password there and shows what it answers. Unchecked, anyone who installs the app could make the
server call its own network (loopback, the cloud's metadata service at 169.254.169.254, private
services) and read the answer back (SSRF), and an http:// address would carry the ERP password
and every order's CPF, name and address in clear text across the internet.

In production (`policy_for` is None otherwise: the demo's ERP is the sandbox on loopback):
- the scheme is https, unless the operator sets ERP_ALLOW_HTTP (an ERP reached over a VPN);
- every address the host resolves to is public: not loopback, link-local (the metadata
  services), private, shared (100.64/10), multicast, reserved or unspecified, unless it lies
  in ERP_ALLOWED_NETWORKS (CIDRs of the operator's VPN or private network).
The setup page checks a typed address before saving or testing it (`check_url`, resolving the
host); every connection the client opens is checked again (`protect` mounts an adapter on its
requests session): the scheme before sending, and the address the socket actually reached,
so a DNS answer that changes after the check (rebinding) does not get through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from erp.errors import ErpAddressRefused
from settings import Settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _public(ip: IpAddress) -> bool:
    """True for an address on the public internet (an IPv4 one inside IPv6 is judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _public(embedded):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_private)


@dataclass(frozen=True)
class AddressPolicy:
    """Production's rule for ERP addresses (see the module docstring)."""

    allowed_networks: tuple[IpNetwork, ...] = ()
    allow_http: bool = False

    def check_scheme(self, url: str) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "https" or (scheme == "http" and self.allow_http):
            return
        raise ErpAddressRefused(
            f"the ERP address must start with https:// (not {scheme}://): the ERP password and the "
            "customers' data would travel unencrypted; an operator can allow http for an ERP reached "
            "over a VPN with ERP_ALLOW_HTTP=1"
        )

    def check_ip(self, ip: IpAddress, host: str) -> None:
        if _public(ip) or any(ip in network for network in self.allowed_networks):
            return
        raise ErpAddressRefused(
            f"the ERP address {host} points to {ip}, an internal address (loopback, private, "
            "link-local or reserved) this server does not call: use the ERP's public address, or ask "
            "the operator to list its network in ERP_ALLOWED_NETWORKS"
        )

    def check_url(self, url: str) -> None:
        """Scheme, then every address the host resolves to (an unknown host is refused too)."""
        self.check_scheme(url)
        host = urlsplit(url).hostname or ""
        try:
            found = _resolve(url)
        except (OSError, ValueError, UnicodeError):
            raise _not_found(host) from None
        for ip in _addresses(found):
            self.check_ip(ip, host)

    def protect(self, session: requests.Session | None = None) -> requests.Session:
        """`session` (a new one when None) checking every connection it opens against this policy."""
        session = session or requests.Session()
        adapter = _GuardedAdapter(self)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


def policy_for(settings: Settings) -> AddressPolicy | None:
    """The policy from ERP_ALLOWED_NETWORKS and ERP_ALLOW_HTTP whenever the app serves real stores:
    in production, and in development against the real Shopify (SHOPIFY_BASE_URL empty: a server
    started without APP_ENV=production left every store's admin free to aim the server at loopback,
    private addresses and cloud metadata). None for the tests and for development on the sandboxes
    (the demo's ERP is the sandbox on loopback over http)."""
    if not settings.is_production and (settings.app_env == "test" or settings.shopify_base_url):
        return None
    return AddressPolicy(settings.erp_allowed_networks, settings.erp_allow_http)


def _not_found(host: str) -> ErpAddressRefused:
    return ErpAddressRefused(f"the ERP host {host!r} was not found (DNS): check the address")


def _resolve(url: str) -> list[tuple[Any, ...]]:
    """getaddrinfo of `url`'s host and port: OSError when the name does not resolve (now), ValueError
    or UnicodeError when the address cannot be one (a port out of range, a host IDNA refuses)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return socket.getaddrinfo(parts.hostname or "", port, type=socket.SOCK_STREAM)


def _addresses(found: Iterable[tuple[Any, ...]]) -> list[IpAddress]:
    # sockaddr[0] of an IPv6 link-local address may carry a zone ("fe80::1%eth0").
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def _guarded_pools(policy: AddressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose every new socket must have reached an address `policy` allows."""

    def checked(sock: socket.socket, host: str) -> socket.socket:
        try:
            policy.check_ip(_addresses([(None, None, None, None, sock.getpeername())])[0], host)
        except ErpAddressRefused:
            sock.close()
            raise
        return sock

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return checked(super()._new_conn(), self.host)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return checked(super()._new_conn(), self.host)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


class _GuardedAdapter(HTTPAdapter):
    """Checks the scheme before each request and the reached address of each new connection.

    Behind a proxy (HTTPS_PROXY) the socket reaches the proxy, not the ERP: the host is then
    resolved and checked here before the request instead. A name that does not resolve then is a
    connection that failed (requests.ConnectionError, as urllib3 raises it without a proxy: the
    client's transient failure, the request never sent), not a refused address: a resolver's blip
    (EAI_AGAIN) must not fail an order import for good. The setup page's check_url refuses it.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pools(self.policy)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.policy.check_scheme(request.url or "")
        if kwargs.get("proxies") and requests.utils.select_proxy(request.url, kwargs["proxies"]):
            url = request.url or ""
            host = urlsplit(url).hostname or ""
            try:
                found = _resolve(url)
            except OSError as exc:
                raise requests.ConnectionError(NameResolutionError(host, None, exc), request=request) from exc
            except (ValueError, UnicodeError):
                raise _not_found(host) from None
            for ip in _addresses(found):
                self.policy.check_ip(ip, host)
        return super().send(request, *args, **kwargs)
