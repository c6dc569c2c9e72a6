"""The client's address behind trusted proxies (``SCIMLAB_TRUSTED_PROXIES``).

Only when the connecting peer is a trusted proxy are ``X-Forwarded-For`` and RFC 7239
``Forwarded`` (its ``for=`` parameters) read. The client is the rightmost hop that is not a
trusted proxy, walking from the right (each proxy appends the address it saw, so everything
left of the first untrusted hop may be made up by the client). A hop that is not an address
(``unknown``, an obfuscated ``_name``, garbage) ends the walk at the peer: nothing is believed.
A proxy should write one of the two headers; when a request carries both and they name
different clients, the one the proxy did not write was sent by the client, and neither is
believed.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["TrustedProxies", "forwarded_for", "x_forwarded_for"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string.
_PAIR = re.compile(
    r"""\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z:\[\]-]*)\s*"""
)
_ESCAPED = re.compile(r"\\(.)")
_MAX_HOPS = 64
_CACHED_BYTES = 256


def _node_address(node: str) -> Address | None:
    """The address of an RFC 7239 §6 node (``192.0.2.43``, ``192.0.2.43:47011``,
    ``[2001:db8::17]``, ``[2001:db8::17]:4711``) or of a bare IPv6 in X-Forwarded-For."""
    node = node.strip()
    port = ""
    if node.startswith("["):
        host, bracket, rest = node[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    elif node.count(":") == 1:
        host, _, port = node.partition(":")  # IPv4 with a port
    else:
        host = node
    if port and not port.isdigit():
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def x_forwarded_for(values: Iterable[str]) -> list[Address | None] | None:
    """The hops of every ``X-Forwarded-For`` header, left to right (None: not addresses)."""
    parts = [part for value in values for part in value.split(",")][-_MAX_HOPS:]
    return [_node_address(part) for part in parts] or None


def forwarded_for(values: Iterable[str]) -> list[Address | None] | None:
    """The ``for=`` of every element of every ``Forwarded`` header, left to right; an element
    without one, or a header that does not parse, is a hop that is not an address."""
    hops: list[Address | None] = []
    for value in values:
        for element in _elements(value):
            hops.append(_node_address(element["for"]) if "for" in element else None)
    return hops[-_MAX_HOPS:] or None


def _elements(value: str) -> list[dict[str, str]]:
    elements: list[dict[str, str]] = [{}]
    position = 0
    while position < len(value):
        if value[position] in " \t":
            position += 1
            continue
        if value[position] == ",":
            elements.append({})
            position += 1
            continue
        if value[position] == ";":
            position += 1
            continue
        pair = _PAIR.match(value, position)
        if pair is None:
            return [{}]  # does not parse: one hop, not an address
        name, raw = pair.group(1).lower(), pair.group(2)
        if raw.startswith('"'):
            raw = _ESCAPED.sub(r"\1", raw[1:-1])
        elements[-1].setdefault(name, raw)
        position = pair.end()
    return [element for element in elements if element] or [{}]


class TrustedProxies:
    """Which peers may say who the client is, and what they say."""

    def __init__(self, networks: Sequence[str]) -> None:
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in networks
        )
        # Callers come from few addresses: parsing and matching are done once per distinct
        # peer and (short) header values; bounded caches, so made-up values only churn them.
        self.trusts = functools.lru_cache(maxsize=1024)(self._trusts)
        self._resolve = functools.lru_cache(maxsize=4096)(self._said)

    def _trusts(self, address: str | Address) -> bool:
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)

    def client(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client's address for a request from ``peer`` with these (ASGI) headers."""
        if not self.trusts(peer):
            return peer
        forwarded: list[bytes] = []
        x_forwarded: list[bytes] = []
        for name, value in headers:
            if name == b"forwarded":
                forwarded.append(value)
            elif name == b"x-forwarded-for":
                x_forwarded.append(value)
        if not forwarded and not x_forwarded:
            return peer
        said = (peer, tuple(forwarded), tuple(x_forwarded))
        if sum(map(len, forwarded)) + sum(map(len, x_forwarded)) > _CACHED_BYTES:
            return self._said(*said)  # long chains are rare: not kept
        return str(self._resolve(*said))

    def _said(self, peer: str, forwarded: tuple[bytes, ...], x_forwarded: tuple[bytes, ...]) -> str:
        said = [
            self._walk(peer, hops)
            for hops in (
                forwarded_for(v.decode("latin-1") for v in forwarded),
                x_forwarded_for(v.decode("latin-1") for v in x_forwarded),
            )
            if hops is not None
        ]
        if len(said) == 2 and said[0] != said[1]:
            return peer
        return said[0] if said else peer

    def _walk(self, peer: str, hops: list[Address | None]) -> str:
        for hop in reversed(hops):
            if hop is None:
                return peer
            if not self.trusts(hop):
                return str(hop)
        first = hops[0]
        return peer if first is None else str(first)
