"""The RDAP front-end's settings: the `[rdap]` configuration section, and what the
application needs of it once the composition root has resolved the public base URL.
Pure values.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import texts
from core.network import IPNetwork
from rdap.rates import RatePolicy

#: The longest `max_age` accepted: a registry's data changes at least daily (escrow deposits,
#: RFC 9022, are daily), so no answer may be reused past a day (docs/configuration.md).
MAX_AGE_LIMIT = 86_400
#: Not-found answers are cached by clients this long at most: a name registered now
#: should not stay "not found" for the full `max_age`.
NOT_FOUND_MAX_AGE = 60


@dataclass(frozen=True, slots=True)
class TierRate:
    """An authorized tier's own budgets (`[rdap.rate.TIER]`), per client network."""

    name: str = ""
    rate_per_second: float = 50.0
    rate_burst: int = 500
    search_rate_per_second: float = 5.0
    search_rate_burst: int = 50


@dataclass(frozen=True, slots=True)
class RdapSettings:
    """The `[rdap]` section as configured."""

    port: int = 8080
    #: Public base URL used in links (ends with "/"). Default: http://HOST:PORT/.
    base_url: str = ""
    tos_url: str = texts.DEFAULT_TOS_URL
    #: Host name shown as `port43` in answers (default: the base URL's host).
    port43: str = ""
    cache_entries: int = 20_000
    #: Bytes of anonymous answers kept (the answer cache's bound; docs/performance.md).
    cache_bytes: int = 64 * 1024 * 1024
    #: `Cache-Control: public, max-age=N` on anonymous answers, seconds (0 to 86400).
    max_age: int = 300
    #: Seconds between checks for a new replica generation.
    refresh_seconds: float = 1.0
    #: Rate limits per client network (token buckets): anonymous lookups and searches.
    rate_limit: bool = True
    rate_per_second: float = 10.0
    rate_burst: int = 100
    search_rate_per_second: float = 1.0
    search_rate_burst: int = 20
    #: The client network one budget covers: IPv4 /32 and IPv6 /64 by default.
    ipv4_prefix: int = 32
    ipv6_prefix: int = 64
    #: Authorized tiers' budgets (`[rdap.rate.TIER]`); a tier not listed has the defaults of
    #: `TierRate`.
    tier_rates: tuple[TierRate, ...] = ()
    #: Connection limits: seconds to receive a request head (slow-loris), seconds a
    #: kept-alive connection may sit idle, open connections in total and per client network.
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0
    max_connections: int = 10_000
    max_per_address: int = 64
    #: Public health path prefix ("" = off): PREFIX/healthz and PREFIX/readyz on this port.
    health_path: str = ""


@dataclass(frozen=True, slots=True)
class RdapConfig:
    """What the RDAP application needs: resolved values, nothing left to guess."""

    base_url: str
    port43: str | None
    tos_url: str = texts.DEFAULT_TOS_URL
    cache_entries: int = 20_000
    #: Rate limits (None: none, for embedding and tests).
    rate: RatePolicy | None = None
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0
    max_connections: int = 10_000
    max_per_address: int = 64
    cache_bytes: int = 64 * 1024 * 1024
    max_age: int = 300
    #: Proxies whose X-Forwarded-For is believed (`[server] trusted_proxies`).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    health_path: str = ""
