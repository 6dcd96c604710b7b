"""The client's IP address: one answer for the rate limits, the sign-in lockout and the logs.

``client_ip`` trusts ``X-Forwarded-For`` only when the connection comes from a proxy listed in
``SIGAP_TRUSTED_PROXIES`` (CIDR blocks; empty by default, so ``REMOTE_ADDR`` is the answer and a
client cannot choose its own address). Behind trusted proxies it walks the header from the right,
skipping every trusted hop, and answers the first address a trusted proxy saw connecting: the
entries further left were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(blocks: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """CIDR blocks (``10.0.0.0/8``, ``::1``) as networks; a malformed block stops the start."""
    networks = []
    for block in blocks:
        try:
            networks.append(ipaddress.ip_network(block.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"SIGAP_TRUSTED_PROXIES: {block!r} is not an IP address or CIDR block."
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    return parse_networks(tuple(getattr(settings, "SIGAP_TRUSTED_PROXIES", ())))


def parse_address(value: str) -> IPAddress | None:
    """An address as proxies write it (``203.0.113.7``, ``[2001:db8::1]:443``, ``1.2.3.4:80``),
    IPv4-mapped IPv6 folded to IPv4; ``None`` when it is not an address."""
    text = value.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port; bare IPv6 has at least two colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request: Any) -> str | None:
    """The address of the client, as text (None without a readable ``REMOTE_ADDR``, as in a
    test client's fake request). Takes a Django or DRF request.

    ``REMOTE_ADDR`` unless it is a trusted proxy; then, walking ``X-Forwarded-For`` from the
    right, the first address that is not a trusted proxy. An unreadable entry ends the walk at the
    last trusted hop, so garbage never becomes an identity.
    """
    meta = request.META
    peer = parse_address(meta.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    networks = trusted_proxies()
    if not networks or not is_trusted(peer, networks):
        return str(peer)
    current = peer
    forwarded = meta.get("HTTP_X_FORWARDED_FOR") or ""
    for entry in reversed(forwarded.split(",")):
        address = parse_address(entry)
        if address is None:
            break
        current = address
        if not is_trusted(address, networks):
            break
    return str(current)
