"""Client addresses for logs and limits: truncation and network keys. Pure, no I/O."""

from __future__ import annotations

import ipaddress


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
