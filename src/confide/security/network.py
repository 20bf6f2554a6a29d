"""Where a request comes from: the one place that decides whether to believe X-Forwarded-For.

Behind a reverse proxy every connection comes from the proxy; the visitor's address is in the
X-Forwarded-For header the proxy appends to. Anyone can send that header, so it is believed
only when the connection comes from a configured trusted proxy, and read from the right:
the first address that is not itself a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(
    peer: tuple[str, int] | None, forwarded_for: Iterable[str], trusted_proxies: Iterable[str]
) -> tuple[str, int | None]:
    """The client's (address, source port); the port is unknown (None) behind a proxy.

    `peer` is the TCP peer of the connection, `forwarded_for` the X-Forwarded-For header
    values in order. Never logs anything.
    """
    host, port = peer if peer else ("", 0)
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(host, networks):
        return host, (port or None)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return host, (port or None)
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Garbage in the chain: nothing left of it can be believed; the last trusted
            # proxy is the best we know.
            return host, None
        if not _trusted(hop, networks):
            return hop, None
    return hops[0], None
