"""The RDAP application (RFC 7480) on aiohttp: one route, the error and CORS preflight
middlewares, one cache; and serving it on bound sockets through `rdap.errors.RdapProtocol`.

It wires `rdap.handler`, `rdap.errors` and `rdap.cors` together; the caller owns the
store's lifetime and subscribes `clear_cache` to the replica watcher.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable, Sequence

from aiohttp import web

from access.protocol import Access, AnonymousAccess
from core.health import Health
from core.limits import ConnectionCaps
from core.lookup import Lookup
from core.metrics import Metrics
from core.searcher import Searcher
from rdap.accesslog import AccessLogger
from rdap.answers import AnswerCache, url_marker
from rdap.cors import add_headers, preflight
from rdap.errors import RdapProtocol, answers_from_bytes, errors
from rdap.handler import handle
from rdap.hits import Hits
from rdap.limits import LIMITS, Limits
from rdap.observe import HEALTH, METRICS, observe
from rdap.settings import RdapConfig
from rdap.state import ACCESS, CACHE, CONFIG, LOOKUP, SEARCHER, URL_MARKER

log = logging.getLogger("rdds.rdap")

BACKLOG = 128


def make_app(
    lookup: Lookup,
    config: RdapConfig,
    access: Access | None = None,
    *,
    pages: Iterable[web.AbstractRouteDef] = (),
    metrics: Metrics | None = None,
    health: Health | None = None,
    searcher: Searcher | None = None,
) -> web.Application:
    """The RDAP application. `pages` are routes served beside RDAP on the same port (the web
    page), matched before RDAP's catch-all; they answer their own errors. Without a
    `searcher`, searches answer 501."""
    # `observe` (request id, metrics; it raises nothing) wraps the error middleware, so it
    # sees the final status of every answer; whatever the others raise becomes an RDAP error.
    app = web.Application(middlewares=[observe, errors, preflight], client_max_size=64 * 1024)
    app[METRICS] = metrics if metrics is not None else Metrics()
    if health is not None:
        app[HEALTH] = health
    app[LOOKUP] = lookup
    app[CONFIG] = config
    app[ACCESS] = access or AnonymousAccess()
    app[CACHE] = AnswerCache(config.cache_bytes, config.cache_entries)
    app[URL_MARKER] = url_marker()
    if config.rate is not None:
        app[LIMITS] = Limits(config.rate)
    if searcher is not None:
        app[SEARCHER] = searcher
    app.router.add_routes(pages)
    app.router.add_get("/{tail:.*}", handle)  # GET and HEAD (RFC 7480 §4.1)
    app.on_response_prepare.append(add_headers)
    return app


def clear_cache(app: web.Application) -> None:
    """Drop every cached answer (a new replica generation makes them stale)."""
    app[CACHE].clear()


# --- serving ---------------------------------------------------------------------------------


def bind(host: str, port: int, *, reuse_port: bool = False) -> list[socket.socket]:
    """Sockets bound to every address `host` resolves to (all interfaces for ""), on one port
    (for port 0, the one the first bind picked). Raises OSError (unresolvable host, address in
    use or not on this machine) or OverflowError (port out of range), leaving nothing open.
    `reuse_port` lets several worker processes listen on the same port (SO_REUSEPORT)."""
    if not 0 <= port <= 65535:
        # getaddrinfo would quietly take the port modulo 65536.
        raise OverflowError("port must be 0-65535")
    infos = socket.getaddrinfo(
        host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, type_, proto, _, addr in infos:
            if (family, addr[0]) in seen:
                continue
            seen.add((family, addr[0]))
            sock = socket.socket(family, type_, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if len(sockets) > 1:  # port 0: every address gets the port the first one got
                addr = (addr[0], bound_port(sockets), *addr[2:])
            sock.bind(addr)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def bound_port(sockets: Sequence[socket.socket]) -> int:
    """The port the sockets from `bind` listen on."""
    port: int = sockets[0].getsockname()[1]
    return port


class _Site(web.BaseSite):
    """One bound socket serving a runner's application through `RdapProtocol` (aiohttp's
    own sites build aiohttp's connection handler, whose error answers echo the request)."""

    __slots__ = ("_app_runner", "_caps", "_hits", "_sock", "_wire")

    def __init__(
        self,
        runner: web.AppRunner,
        sock: socket.socket,
        caps: ConnectionCaps,
        hits: Hits | None,
        wire: bool,
    ) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._app_runner = runner
        self._sock = sock
        self._caps = caps
        self._hits = hits
        self._wire = wire

    @property
    def name(self) -> str:
        """The socket's address as a URL."""
        host, port = self._sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def start(self) -> None:
        """Listen and serve."""
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._app_runner.server
        assert server is not None  # set by runner.setup()
        app = self._app_runner.app
        config = app[CONFIG]
        handler = self._hits.handle if self._hits is not None else None

        def connection() -> RdapProtocol:
            return RdapProtocol(
                server,
                loop=loop,
                app=app,
                access_log_class=AccessLogger,
                caps=self._caps,
                header_timeout=config.header_timeout,
                keepalive_timeout=config.keepalive_timeout,
                request_handler=handler,
                hits=self._hits if self._wire else None,
            )

        self._server = await loop.create_server(connection, sock=self._sock, backlog=BACKLOG)


async def serve(
    app: web.Application, sockets: Sequence[socket.socket], *, fast_hits: bool = True
) -> web.AppRunner:
    """Serve `app` on sockets from `bind`; `await runner.cleanup()` stops and closes them.
    Answer-cache hits are answered before the application sees them (`rdap.hits`), unless
    `fast_hits` is false (tests compare the two paths)."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    config = app[CONFIG]
    # One count for all of the app's sockets: the caps are per service, not per address.
    caps = ConnectionCaps(config.max_connections, config.max_per_address)
    # Built once the application is frozen (setup): its state no longer changes.
    server = runner.server
    assert server is not None
    hits = Hits(app, server.request_handler) if fast_hits else None
    wire = hits is not None and answers_from_bytes()
    if hits is not None and not wire:
        log.warning(
            "this aiohttp's connection handler is not the one rdds knows: cache hits and stored"
            " answers are answered after aiohttp parses each request (slower, same answers)"
        )
    try:
        for sock in sockets:
            await _Site(runner, sock, caps, hits, wire).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
