"""The address a request comes from: its peer, or, when the peer is a trusted proxy, the
hop that proxy recorded in `X-Forwarded-For`.

The header is read from the right: each trusted proxy appends the address it was reached
from, so the right-most entry that is not itself a trusted proxy is the client. Entries to
its left were written by the client and are never believed. From a peer that is not a
trusted proxy the header is ignored altogether.
"""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPV6_CLIENT_PREFIX = 64
"""One IPv6 client usually holds a whole /64: it is counted as one address."""


def client_address(connection: HTTPConnection, trusted: Sequence[Network]) -> str:
    peer = connection.client.host if connection.client is not None else ""
    address = _parse(peer)
    if address is None or not _within(address, trusted):
        return peer
    hops = [
        hop.strip()
        for header in connection.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
    ]
    for hop in reversed(hops):
        forwarded = _parse(hop)
        if forwarded is None:
            break  # a proxy wrote something that is no address: the last good hop stands
        address = forwarded
        if not _within(forwarded, trusted):
            break
    return str(address)


def limit_key(address: str) -> str:
    """What a per-address limit counts: the address, or its /64 for IPv6."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/{_IPV6_CLIENT_PREFIX}", strict=False))
    return address


def _parse(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _within(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)
