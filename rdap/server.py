"""The RDAP application (RFC 7480) on aiohttp: one route, one error middleware, one cache.

It wires `rdap.handler`, `rdap.errors` and `rdap.cors` together; the caller owns the
store's lifetime and subscribes `clear_cache` to the replica watcher.
"""

from __future__ import annotations

from aiohttp import web
from cachetools import LRUCache

from access.protocol import Access, AnonymousAccess
from core.health import Health
from core.lookup import Lookup
from core.metrics import Metrics
from rdap.cors import add_headers
from rdap.errors import errors
from rdap.handler import handle
from rdap.observe import HEALTH, METRICS, observe
from rdap.settings import RdapConfig
from rdap.state import ACCESS, CACHE, CONFIG, LOOKUP


def make_app(
    lookup: Lookup,
    config: RdapConfig,
    access: Access | None = None,
    *,
    metrics: Metrics | None = None,
    health: Health | None = None,
) -> web.Application:
    """The RDAP application."""
    # `observe` is outermost: it sees the final status of every answer, errors included.
    app = web.Application(middlewares=[observe, errors], client_max_size=64 * 1024)
    app[METRICS] = metrics if metrics is not None else Metrics()
    if health is not None:
        app[HEALTH] = health
    app[LOOKUP] = lookup
    app[CONFIG] = config
    app[ACCESS] = access or AnonymousAccess()
    app[CACHE] = LRUCache(maxsize=max(1, config.cache_entries))
    app.router.add_get("/{tail:.*}", handle)  # GET and HEAD (RFC 7480 §4.1)
    app.on_response_prepare.append(add_headers)
    return app


def clear_cache(app: web.Application) -> None:
    """Drop every cached answer (a new replica generation makes them stale)."""
    app[CACHE].clear()
