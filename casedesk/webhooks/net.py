"""Sending one webhook request without letting it reach inside the network.

The host is resolved once; every address it resolves to must be public (not loopback,
private, link-local, shared, multicast, reserved or unspecified, also when written as an
IPv4-mapped, 6to4 or Teredo IPv6 address) unless an administrator allowed its range; then
the connection goes to that very address, so a DNS answer that changes between the check
and the connection cannot redirect it. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from casedesk.common.errors import Problem

TIMEOUT = 10.0
EXCERPT = 500

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):
    """The request was not sent, or failed on the way: a registered code and its params."""

    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.problem = Problem(code, **params)


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str
    address: str
    duration_ms: int


def _embedded(ip: IP) -> list[IP]:
    found: list[IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour:
            found.append(ip.sixtofour)
        if ip.teredo:
            found.extend(ip.teredo)
    return found


def is_public(ip: IP) -> bool:
    return all(
        x.is_global and not (x.is_multicast or x.is_reserved or x.is_unspecified)
        for x in _embedded(ip)
    )


def address_allowed(ip: IP, allowed: list[Network]) -> bool:
    return is_public(ip) or any(ip in net for net in allowed if net.version == ip.version)


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL a webhook may use; raises Refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("webhook.url.scheme")
    if parts.username or parts.password:
        raise Refused("webhook.url.credentials")
    if not parts.hostname:
        raise Refused("webhook.url.no_host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("webhook.url.port") from None
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return parts.scheme, parts.hostname, port, path


def literal(host: str) -> list[IP]:
    """The addresses a host written as an address stands for, in any form the resolver
    takes (127.1, 2130706433, 0x7f000001...); [] for a name, which is checked when sent."""
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def resolve(host: str, port: int, allowed: list[Network]) -> str:
    """The address to connect to; every address the host has must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused("webhook.url.unresolved", host=host) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_allowed(ip, allowed):
            raise Refused("webhook.url.private", host=f"{host} ({ip})")
    return addresses[0]


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str):
        super().__init__(host, port, timeout=TIMEOUT)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], allowed: list[Network]) -> Answer:
    scheme, host, port, path = check_url(url)
    address = resolve(host, port, allowed)
    connection = (_PinnedTLS if scheme == "https" else _Pinned)(host, port, address)
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        raise Refused(
            "webhook.url.unreachable", detail=f"{type(exc).__name__}: {exc}"[:300]
        ) from None
    finally:
        connection.close()
    duration = int((time.monotonic() - started) * 1000)
    return Answer(response.status, excerpt, address, duration)
