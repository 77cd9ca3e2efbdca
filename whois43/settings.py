"""The port-43 front-end's settings (the `[whois]` configuration section). Pure values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WhoisSettings:
    """The port-43 front-end and its limits (real servers' figures: docs/whois.md)."""

    port: int = 4343
    enabled: bool = True
    max_query_bytes: int = 1024
    read_timeout: float = 10.0
    max_connections: int = 10_000
    max_per_address: int = 64
    #: Token bucket per client address: sustained queries per second and burst size.
    rate_per_second: float = 2.0
    rate_burst: int = 60
