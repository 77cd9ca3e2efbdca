"""Client addresses for logs and limits: truncation and network keys. Pure, no I/O."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

#: Addresses whose truncation and network key are remembered: every request computes both
#: (access log, limits, connection caps), and a busy server sees the same clients again.
MEMO = 4096


@functools.lru_cache(maxsize=MEMO)
def truncate_address(addr: str | None) -> str:
    """IPv4 to /24, IPv6 to /48: enough for abuse handling, not a person's address."""
    if not addr:
        return "-"
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@functools.lru_cache(maxsize=MEMO)
def network_key(addr: str, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> str:
    """The unit limits apply to: by default an IPv4 address, or an IPv6 /64 (one subscriber's
    LAN). An IPv4-mapped IPv6 address counts as its IPv4 address."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        if mapped is None:
            return str(ipaddress.ip_network(f"{ip}/{ipv6_prefix}", strict=False))
        ip = mapped
    if ipv4_prefix == 32:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/{ipv4_prefix}", strict=False))


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Networks in CIDR notation (a bare address is a /32 or /128); ValueError names the
    first bad one."""
    out: list[IPNetwork] = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a network in CIDR notation ({exc})") from None
    return tuple(out)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return ip


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address for logs and limits.

    The TCP peer, unless the peer is a configured trusted proxy: then `X-Forwarded-For`
    (all header values, in order, comma-separated) is read from the right, skipping trusted
    proxies, and the first address that is not one is the client. Security: entries left of
    it were written by the client and are never believed; an entry that is not an address
    stops the walk at the last proxy reached. Empty string when the peer is unknown.
    """
    if not trusted:
        return peer or ""  # the default: nobody's header is believed
    current = _ip(peer or "")
    if current is None:
        return ""

    def is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(ip.version == net.version and ip in net for net in trusted)

    if not is_trusted(current):
        return str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break
        current = ip
        if not is_trusted(ip):
            break
    return str(current)
