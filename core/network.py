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


def network_key(addr: str) -> str:
    """The unit limits apply to: an IPv4 address, or an IPv6 /64 (one subscriber's LAN)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
