"""Who is asking: the client's address, told apart from the proxies in front of us.

`REMOTE_ADDR` is the peer that opened the connection. Behind a reverse proxy that is the
proxy, and the client is in `X-Forwarded-For`, a header anyone can write. So the header is
read only when the peer is one of `TRUSTED_PROXIES`, and only from the right: each proxy
appends the address it got the request from, so the entries right of the client are our
proxies' and everything left of the first address that is not one of them was written by
the client (and may be invented).

`client_key` is what rate limits and sign-in lockouts count by: the address, except that an
IPv6 client is counted by its /64 (one person or household controls a whole /64 and can
pick a new address from it for every request). Neither is ever stored in the database.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Addresses and CIDR ranges (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`). ValueError on a
    value that is neither."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    return _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def parse_address(value: str) -> IPAddress | None:
    """An address as a proxy writes it: `203.0.113.7`, `203.0.113.7:5100`, `2001:db8::1`,
    `[2001:db8::1]:443`. IPv4 mapped into IPv6 counts as IPv4. None when it is not one."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]  # a zone index (fe80::1%eth0) says nothing about who
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(request: HttpRequest) -> IPAddress | None:
    """The client's address, or None when even the peer's address is unknown."""
    peer = parse_address(request.META.get("REMOTE_ADDR", "") or "")
    networks = trusted_proxies()
    if peer is None or not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = peer
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        address = parse_address(hop)
        if address is None:
            # A trusted proxy wrote something that is not an address: the client is not
            # known beyond that proxy.
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return client


def client_ip(request: HttpRequest) -> str:
    """The client's address as text (`unknown` when there is none)."""
    address = client_address(request)
    return str(address) if address is not None else UNKNOWN


def client_key(request: HttpRequest) -> str:
    """What limits count by: the IPv4 address, or the /64 an IPv6 address belongs to."""
    address = client_address(request)
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def client_network(request: HttpRequest) -> str:
    """The client's network: its IPv6 /64 or IPv4 /24 ("" when unknown). What tells
    reporters apart (one household, one office, one phone's carrier NAT is one network);
    only ever kept as a daily keyed hash."""
    address = client_address(request)
    if address is None:
        return ""
    bits = 64 if isinstance(address, ipaddress.IPv6Address) else 24
    return str(ipaddress.ip_interface(f"{address}/{bits}").network)
