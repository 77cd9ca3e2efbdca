"""The RDAP application (RFC 7480) on aiohttp: one route, one error middleware, one cache.

It wires `rdap.handler`, `rdap.errors` and `rdap.cors` together; the caller owns the
store's lifetime and subscribes `clear_cache` to the replica watcher.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from cachetools import LRUCache

from access.protocol import Access, AnonymousAccess
from core.lookup import Lookup
from rdap.cors import add_headers
from rdap.errors import errors
from rdap.handler import handle
from rdap.settings import RdapConfig
from rdap.state import ACCESS, CACHE, CONFIG, LOOKUP


def make_app(
    lookup: Lookup,
    config: RdapConfig,
    access: Access | None = None,
    *,
    pages: Iterable[web.AbstractRouteDef] = (),
) -> web.Application:
    """The RDAP application. `pages` are routes served beside RDAP on the same port (the web
    page), matched before RDAP's catch-all; they answer their own errors."""
    app = web.Application(middlewares=[errors], client_max_size=64 * 1024)
    app[LOOKUP] = lookup
    app[CONFIG] = config
    app[ACCESS] = access or AnonymousAccess()
    app[CACHE] = LRUCache(maxsize=max(1, config.cache_entries))
    app.router.add_routes(pages)
    app.router.add_get("/{tail:.*}", handle)  # GET and HEAD (RFC 7480 §4.1)
    app.on_response_prepare.append(add_headers)
    return app


def clear_cache(app: web.Application) -> None:
    """Drop every cached answer (a new replica generation makes them stale)."""
    app[CACHE].clear()
