"""The RDAP front-end's settings: the `[rdap]` configuration section, and what the
application needs of it once the composition root has resolved the public base URL.
Pure values.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import texts
from core.network import IPNetwork


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
    #: Seconds between checks for a new replica generation.
    refresh_seconds: float = 1.0
    #: Public health path prefix ("" = off): PREFIX/healthz and PREFIX/readyz on this port.
    health_path: str = ""


@dataclass(frozen=True, slots=True)
class RdapConfig:
    """What the RDAP application needs: resolved values, nothing left to guess."""

    base_url: str
    port43: str | None
    tos_url: str = texts.DEFAULT_TOS_URL
    cache_entries: int = 20_000
    #: Proxies whose X-Forwarded-For is believed (`[server] trusted_proxies`).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    health_path: str = ""
