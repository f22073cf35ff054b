"""Who a request comes from, as far as limits per address are concerned.

Behind a reverse proxy every request arrives from the proxy's address, so limits per
address would count everyone together (and one client could lock all others out). When
the direct peer is one of CASEDESK_TRUSTED_PROXIES, the client is the nearest address in
`X-Forwarded-For` that is not itself a trusted proxy; the header is never believed from
anyone else, since a client can write whatever it likes there."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.CASEDESK_TRUSTED_PROXIES)))


def client_address(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    if not _trusted(peer):
        return peer[:45]
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer[:45]  # a garbled header: count it as the proxy's own
    return peer[:45]
