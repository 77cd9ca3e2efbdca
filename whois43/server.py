"""Port-43 WHOIS server (RFC 3912): a thin asyncio loop around `protocol` and `render`.

One connection: admission (total and per-network connection caps) -> read one line within
the read timeout (`protocol.LineReader`) -> per-network rate limit -> parse -> look up
(always anonymous) -> render -> write -> half-close -> close. This module is, with the RDAP
error middleware, one of the two places where errors become answers.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from cachetools import LRUCache

from core import logs
from core.limits import Cap, RateLimiter
from core.lookup import Lookup
from core.metrics import Metrics
from core.network import network_key, truncate_address
from redaction.policy import Requester
from registry.errors import NotFound, RddsError, ReplicaError
from whois43 import protocol, render
from whois43.settings import WhoisSettings

log = logging.getLogger("rdds.whois")

FRONTEND = "whois"

#: Bytes of rendered anonymous answers kept per replica generation (each a few KiB).
DEFAULT_CACHE_BYTES = 16 * 1024 * 1024
#: What one cache entry costs beyond its text (key, objects, slot), roughly.
CACHE_ENTRY_OVERHEAD = 300
#: After a refusal or an over-long line the client may still be sending: keep reading (and
#: discarding) this long after our half-close, so the kernel does not reset the connection
#: and throw away the one line we sent.
LINGER_SECONDS = 2.0
BACKLOG = 1024


# --- connection states ---------------------------------------------------------------------


class ConnectionState(enum.StrEnum):
    """Where one connection is: reading -> answering -> lingering -> closed."""

    READING = "reading"  # waiting for the query line (the read deadline runs)
    ANSWERING = "answering"  # a line arrived; the answer is being prepared or looked up
    LINGERING = "lingering"  # answer sent and FIN queued; reading and discarding until close
    CLOSED = "closed"  # the transport is closed or closing: nothing more is sent


class Event(enum.StrEnum):
    """What moves a connection from one state to the next."""

    LINE = "line"  # a complete query line (or EOF, which ends a line too)
    SENT = "sent"  # one answer or error written, then our side half-closed
    SENT_CLOSED = "sent-closed"  # one answer or error written, then the transport closed
    LINGER_END = "linger-end"  # the client closed its side, or the linger time ran out
    ABORT = "abort"  # dropped at once (server shutdown, a write to a vanished client)
    LOST = "lost"  # asyncio reports the connection gone (always the last event)


_S, _E = ConnectionState, Event
#: The one table of legal moves: (state, event) -> next state. Anything else is a bug.
TRANSITIONS: Mapping[tuple[ConnectionState, Event], ConnectionState] = {
    (_S.READING, _E.LINE): _S.ANSWERING,
    # A refusal at admission, an over-long line, the read deadline: answered from READING.
    (_S.READING, _E.SENT): _S.LINGERING,
    (_S.READING, _E.SENT_CLOSED): _S.CLOSED,
    (_S.ANSWERING, _E.SENT): _S.LINGERING,
    (_S.ANSWERING, _E.SENT_CLOSED): _S.CLOSED,
    (_S.LINGERING, _E.LINGER_END): _S.CLOSED,
    **{(state, _E.ABORT): _S.CLOSED for state in _S},
    **{(state, _E.LOST): _S.CLOSED for state in _S},
}


class IllegalTransition(AssertionError):
    """A connection was asked to make a move the transition table does not allow (a bug)."""


def transition(state: ConnectionState, event: Event) -> ConnectionState:
    """The state after `event` in `state`; an illegal pair raises (never a silent change)."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(f"{event} in state {state}") from None


@dataclass(frozen=True, slots=True)
class _Answer:
    body: bytes
    outcome: str
    cacheable: bool
    #: For metrics and JSON logs: the query kind and the HTTP-equivalent status.
    kind: str = "invalid"
    status: int = 400


def _encode(text: str) -> bytes:
    return text.encode("utf-8")


def _cache_size(answer: _Answer) -> int:
    return len(answer.body) + CACHE_ENTRY_OVERHEAD


class WhoisServer:
    """A running port-43 responder: `.port` is the bound port; `close()` stops it."""

    def __init__(
        self,
        lookup: Lookup,
        settings: WhoisSettings,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        metrics: Metrics | None = None,
    ) -> None:
        self.lookup = lookup
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self.port = 0
        self.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
        #: Cached answers are stored as they are served from the cache (outcome "… cached"),
        #: bounded in bytes: the query is at most one line, the answer a few KiB.
        self.cache: LRUCache[tuple[object, ...], _Answer] = LRUCache(
            maxsize=max(1, cache_bytes), getsizeof=_cache_size
        )
        self.connections: set[WhoisConnection] = set()
        self.per_network: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._ctx = render.RenderContext(watermark=lookup.watermark)
        #: The served TLDs as of a replica generation (to resolve bare names without I/O).
        self._tlds: tuple[int, frozenset[str]] | None = None

    # --- admission ------------------------------------------------------------------------

    def admit(self, conn: WhoisConnection) -> RddsError | None:
        """Count a new connection in, or say why it is refused."""
        s = self.settings
        if len(self.connections) >= s.max_connections:
            return protocol.ServerBusy()
        count = self.per_network.get(conn.network, 0)
        if count >= s.max_per_address:
            return protocol.TooManyConnections()
        self.per_network[conn.network] = count + 1
        self.connections.add(conn)
        return None

    def release(self, conn: WhoisConnection) -> None:
        """Count a connection out (idempotent)."""
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        left = self.per_network.get(conn.network, 1) - 1
        if left > 0:
            self.per_network[conn.network] = left
        else:
            self.per_network.pop(conn.network, None)

    # --- answering ------------------------------------------------------------------------

    def replica_changed(self, generation: int) -> None:
        """A new replica generation: drop every cached answer (they are keyed on the old one)."""
        self.cache.clear()
        self._tlds = None

    def context(self) -> render.RenderContext:
        """The render context for the replica's current watermark."""
        watermark = self.lookup.watermark
        if self._ctx.watermark != watermark:
            self._ctx = replace(self._ctx, watermark=watermark)
        return self._ctx

    def prepare(self, line: bytes, network: str) -> _Answer | protocol.Query:
        """Everything that needs no I/O: parse, rate limit, answer from the cache. Returns the
        answer, or the query still to be looked up (`complete`)."""
        try:
            query = protocol.parse_query(line)
        except RddsError as exc:
            body = _encode(render.error(exc.message))
            return _Answer(body, type(exc).__name__, False, status=exc.status)
        generation = self.lookup.generation
        tlds = self._tlds[1] if self._tlds is not None and self._tlds[0] == generation else None
        if tlds is not None:
            query = protocol.resolve(query, tlds)
        # Rate limit after parsing: a malformed line costs nothing to answer, a lookup does.
        if not self.limiter.allow(network, time.monotonic()):
            self.metrics.limited(FRONTEND, "lookup")  # port 43 has lookups only
            body = _encode(render.error(protocol.RateLimited().message))
            return _Answer(body, "rate", False, protocol.describe(query), 429)
        if tlds is not None:
            cached = self.cache.get(("whois", generation, query))
            if cached is not None:
                self.metrics.cache(FRONTEND, hit=True)
                return cached
        return query

    async def complete(self, query: protocol.Query) -> _Answer:
        """Look the query up in the replica (always anonymous), render, and cache."""
        generation = self.lookup.generation
        tlds = frozenset(await self.lookup.tlds())
        self._tlds = (generation, tlds)
        query = protocol.resolve(query, tlds)
        # Cache key: front-end, replica generation, normalised query. Port 43 has one tier.
        key = ("whois", generation, query)
        cached = self.cache.get(key)
        self.metrics.cache(FRONTEND, hit=cached is not None)
        if cached is not None:
            return cached
        started = time.perf_counter()
        answer = await self._lookup(query)
        self.metrics.lookup(FRONTEND, answer.kind, time.perf_counter() - started)
        if answer.cacheable:
            self.cache[key] = replace(answer, outcome=f"{answer.kind} cached")
        return answer

    async def answer(self, line: bytes, network: str) -> _Answer:
        """The whole answer to one query line (never raises for bad input)."""
        prepared = self.prepare(line, network)
        if isinstance(prepared, _Answer):
            return prepared
        return await self.complete(prepared)

    async def _lookup(self, query: protocol.Query) -> _Answer:
        kind = protocol.describe(query)
        lookup = self.lookup
        try:
            match query:
                case protocol.DomainQuery(name=name):
                    # The answer stored ahead of time for this configuration, if any.
                    stored = await lookup.precomputed(name, "whois")
                    if stored is not None:
                        self.metrics.stored(FRONTEND)
                        date = render.date_text(stored.watermark)
                        return _Answer(stored.body(date), f"{kind} 200", True, kind, 200)
                    # Port 43 is always anonymous: it carries public data only (docs/whois.md).
                    rd = await lookup.domain(name, Requester.anonymous())
                    ctx = replace(self.context(), watermark=rd.record.info.watermark)
                    text = render.domain(rd, ctx)
                case protocol.NameserverQuery(name=name):
                    host = await lookup.nameserver(name)
                    ctx = replace(self.context(), watermark=host.info.watermark)
                    text = render.nameservers([host], ctx)
                case protocol.AddressQuery(ip=ip):
                    hosts = await lookup.nameservers_by_ip(ip)
                    ctx = replace(self.context(), watermark=hosts[0].info.watermark)
                    text = render.nameservers(hosts, ctx)
                case protocol.RegistrarQuery(key=key):
                    reg = await lookup.registrar(key)
                    ctx = replace(self.context(), watermark=reg.info.watermark)
                    text = render.registrar(reg.registrar, ctx)
                case _:  # pragma: no cover - resolve() leaves no NameQuery
                    raise AssertionError(query)
        except NotFound:
            body = _encode(render.not_found(_shown(query), self.context()))
            return _Answer(body, "404", True, kind, 404)
        except ReplicaError as exc:
            # Never cached: the next query may find the replica readable again.
            log.error("replica unavailable: %s", type(exc.__cause__).__name__)
            msg = protocol.ReplicaUnavailable().message
            return _Answer(_encode(render.error(msg)), "503", False, kind, 503)
        except RddsError as exc:
            body = _encode(render.error(exc.message))
            return _Answer(body, type(exc).__name__, False, kind, exc.status)
        return _Answer(_encode(text), f"{kind} 200", True, kind, 200)

    # --- lifecycle ------------------------------------------------------------------------

    def cache_size(self) -> tuple[int, int]:
        """Answers cached and their body bytes (for the cache gauges)."""
        return len(self.cache), sum(len(a.body) for a in self.cache.values())

    async def start(self, host: str, *, reuse_port: bool = False) -> None:
        """Listen on `host` and the configured port (0: any free port); `reuse_port` lets
        several worker processes listen on the same port (SO_REUSEPORT)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: WhoisConnection(self),
            host,
            self.settings.port,
            backlog=BACKLOG,
            reuse_address=True,
            reuse_port=reuse_port or None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop accepting, close open connections (in-flight lookups are cancelled), wait."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


def _shown(query: protocol.Query) -> str:
    """What the not-found line names: the A-label in capitals, the address, the key."""
    match query:
        case protocol.DomainQuery(name=name) | protocol.NameserverQuery(name=name):
            return name.ldh.upper()
        case protocol.AddressQuery(ip=ip):
            return ip
        case protocol.RegistrarQuery(key=key):
            return key
    return ""  # pragma: no cover


class WhoisConnection(asyncio.Protocol):
    """One client connection: no task and no buffer beyond 1 KiB while it is idle."""

    __slots__ = (
        "_reader",
        "_started",
        "_state",
        "_task",
        "_timer",
        "network",
        "peer",
        "server",
        "transport",
    )

    def __init__(self, server: WhoisServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._reader = protocol.LineReader(server.settings.max_query_bytes)
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.network = ""
        self.peer = "-"
        self._state = ConnectionState.READING
        self._started = 0.0  # when the query line arrived (request duration)

    @property
    def state(self) -> ConnectionState:
        """The connection's state; it changes only through `TRANSITIONS`."""
        return self._state

    def _advance(self, event: Event) -> None:
        try:
            self._state = transition(self._state, event)
        except IllegalTransition:
            # A bug: say so loudly (tests fail on this line), then let asyncio close us.
            log.error("whois illegal state transition: %s in state %s", event, self._state)
            raise

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        addr = peer[0] if isinstance(peer, tuple) and peer else ""
        self.network = network_key(addr)
        self.peer = truncate_address(addr)
        loop = asyncio.get_running_loop()
        refusal = self.server.admit(self)
        if refusal is not None:
            log.info("whois %s refused %s", self.peer, type(refusal).__name__)
            cap = Cap.TOTAL if isinstance(refusal, protocol.ServerBusy) else Cap.PER_NETWORK
            self.server.metrics.refused(FRONTEND, cap)
            self._finish(_encode(render.error(refusal.message)), linger=True)
            return
        self._timer = loop.call_later(self.server.settings.read_timeout, self._timed_out)

    def data_received(self, data: bytes) -> None:
        if self._state is not ConnectionState.READING:
            return  # one query per connection: the rest is discarded
        try:
            line = self._reader.feed(data)
        except protocol.QueryTooLong as exc:
            log.info("whois %s - QueryTooLong", self.peer)
            self.server.metrics.request(FRONTEND, "invalid", exc.status, 0.0)
            self._finish(_encode(render.error(exc.message)), linger=True)
            return
        if line is not None:
            self._start_answer(line)

    def eof_received(self) -> bool:
        if self._state is ConnectionState.READING:
            # RFC 3912 clients end the line with CR LF; a bare EOF also ends the query.
            try:
                line = self._reader.eof()
            except protocol.QueryTooLong as exc:
                self._finish(_encode(render.error(exc.message)), linger=False)
                return True
            self._start_answer(line)
            return True  # keep our side open to send the answer
        if self._state is ConnectionState.LINGERING:
            self._close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._advance(Event.LOST)
        self._cancel_timer()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.server.release(self)
        self.transport = None

    # --- internals ------------------------------------------------------------------------

    def _start_answer(self, line: bytes) -> None:
        self._advance(Event.LINE)
        self._started = time.perf_counter()
        self._cancel_timer()
        assert self.transport is not None
        try:
            prepared = self.server.prepare(line, self.network)
        except Exception as exc:
            self._send(None, exc)
            return
        if isinstance(prepared, _Answer):
            # Errors, rate limiting and cache hits: answered at once, no task needed.
            self._send(prepared, None)
            return
        self.transport.pause_reading()
        self._task = asyncio.create_task(self._answer(prepared))

    async def _answer(self, query: protocol.Query) -> None:
        try:
            answer = await self.server.complete(query)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._send(None, exc)
            return
        self._send(answer, None)

    def _send(self, answer: _Answer | None, exc: Exception | None) -> None:
        if answer is None:
            # Never a traceback to the client, and no values in the log: the type only.
            log.error("whois internal error: %s", type(exc).__name__)
            body, outcome = _encode(render.error(protocol.InternalError().message)), "500"
            kind, status = "other", 500
        else:
            body, outcome = answer.body, answer.outcome
            kind, status = answer.kind, answer.status
        seconds = time.perf_counter() - self._started
        self.server.metrics.request(FRONTEND, kind, status, seconds)
        logs.access(
            log,
            "whois %s %s",
            self.peer,
            outcome,
            frontend=FRONTEND,
            route=kind,
            status=status,
            seconds=seconds,
            client=self.peer,
            request_id=logs.request_id(),
        )
        if self._state is ConnectionState.ANSWERING:
            try:
                self._finish(body, linger=True)
            except Exception as err:  # pragma: no cover - defence in depth: never leak a slot
                log.error("whois internal error: %s", type(err).__name__)
                self.abort()

    def _finish(self, body: bytes, *, linger: bool) -> None:
        """Send the whole answer, half-close, then wait briefly for the client's close."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._cancel_timer()
        try:
            transport.write(body)
            if not linger or not transport.can_write_eof():
                self._advance(Event.SENT_CLOSED)
                transport.close()
                return
            transport.write_eof()  # FIN after the queued bytes: the close ends the answer
            self._advance(Event.SENT)
            transport.resume_reading()
        except OSError:
            # The client is already gone (reset, or closed both ways): nothing to deliver.
            self.abort()
            return
        self._timer = asyncio.get_running_loop().call_later(
            min(LINGER_SECONDS, self.server.settings.read_timeout), self._close
        )

    def _timed_out(self) -> None:
        self._timer = None
        if self._state is ConnectionState.READING:
            log.info("whois %s - ReadTimeout", self.peer)
            self._finish(_encode(render.error(protocol.ReadTimeout().message)), linger=False)

    def _close(self) -> None:
        """The linger is over (the client closed, or the time ran out): close."""
        self._cancel_timer()
        self._advance(Event.LINGER_END)
        if self.transport is not None:
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def abort(self) -> None:
        """Drop the connection now (server shutdown)."""
        self._cancel_timer()
        self._advance(Event.ABORT)
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self.transport is not None:
            self.transport.abort()


async def start(
    lookup: Lookup,
    settings: WhoisSettings,
    host: str,
    *,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    metrics: Metrics | None = None,
    reuse_port: bool = False,
) -> WhoisServer:
    """Start the port-43 responder on `host`:`settings.port` and return it."""
    server = WhoisServer(lookup, settings, cache_bytes=cache_bytes, metrics=metrics)
    await server.start(host, reuse_port=reuse_port)
    return server
