"""Where RDAP errors become responses (RFC 9083 §6 bodies, never a traceback, never internals):
the error middleware for everything the application raises, and the connection handler for
requests aiohttp's HTTP parser rejects before the application sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestPayloadError

from core import texts
from core.limits import ConnectionCaps
from core.network import network_key, truncate_address
from rdap import cors, render, wire
from rdap.accesslog import AccessLogger
from rdap.handler import dump
from rdap.observe import FRONTEND, METRICS
from rdap.state import app_context, render_context
from registry.errors import BadQuery, RateLimited, RddsError, ReplicaError

if TYPE_CHECKING:
    from core.lookup import StoredRead
    from rdap.hits import Hits, Wired

log = logging.getLogger("rdds.rdap")


def _response(request: web.Request, exc: RddsError, ctx: render.RenderContext) -> web.Response:
    return web.Response(
        status=exc.status, body=dump(render.error(exc, ctx)), content_type=texts.MEDIA_TYPE
    )


@web.middleware
async def errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every error raised while answering into an RDAP error response."""
    try:
        return await handler(request)
    except RddsError as exc:
        if isinstance(exc, ReplicaError):
            log.error("replica unavailable: %s", type(exc.__cause__).__name__)
            exc = ReplicaError("The registry data is temporarily unavailable.")
        response = _response(request, exc, await render_context(request))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="rdap"'
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        if isinstance(exc, RateLimited):
            # RFC 6585 §4 / RFC 9110 §10.2.3: when the client's next request is allowed.
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPException as exc:
        err = RddsError(exc.reason)
        err.status, err.title = exc.status, exc.reason
        response = _response(request, err, await render_context(request))
        for header in ("Allow", "Retry-After"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception:
        log.exception("internal error answering an RDAP request")
        return _response(request, RddsError(), await render_context(request))


# --- requests the HTTP parser rejects --------------------------------------------------------


class MalformedRequest(BadQuery):
    """The request is not a valid HTTP/1.1 request."""


def _parser_error(status: int) -> RddsError:
    """The error to answer with; it says nothing of what the request contained."""
    err: RddsError = MalformedRequest() if status < 500 else RddsError()
    if err.status != status:
        err.status = status
        with contextlib.suppress(ValueError):
            err.title = HTTPStatus(status).phrase
    return err


class _ParserErrorResponse(web.Response):
    """An RDAP error body for a request the application never saw, rendered when sent (the
    render context needs the replica's TLDs, which is an await)."""

    def __init__(self, app: web.Application, error: RddsError) -> None:
        super().__init__(status=error.status, content_type=texts.MEDIA_TYPE)
        self._app = app
        self._error = error

    async def prepare(self, request: web.BaseRequest) -> Any:
        """Render the body, then send as usual."""
        # The request target is not echoed: the error is about the base URL.
        ctx = await app_context(self._app, "/")
        self.body = dump(render.error(self._error, ctx))
        return await super().prepare(request)


#: What of aiohttp's connection handler (3.14) the answers from the bytes read and keep up:
#: its idle state, its counts, its keep-alive timer. `RdapProtocol` answers from the bytes
#: only when all of it is there (`answers_from_bytes`); the byte-for-byte tests of
#: `tests/integration/test_wire_path.py` hold the rest against an upgrade.
_HANDLER_STATE = (
    "_close",
    "_force_close",
    "_keepalive_handle",
    "_keepalive_timeout",
    "_loop",
    "_manager",
    "_messages",
    "_next_keepalive_close_time",
    "_request_count",
    "_upgraded",
    "_waiter",
)
_HANDLER_METHODS = ("_process_keepalive", "force_close", "writing_paused")


def answers_from_bytes() -> bool:
    """Whether this aiohttp's connection handler has what `RdapProtocol` needs to answer from
    a request's bytes; without it every request goes through aiohttp's parser."""
    slots = {n for cls in web.RequestHandler.__mro__ for n in getattr(cls, "__slots__", ())}
    return all(n in slots for n in _HANDLER_STATE) and all(
        hasattr(web.RequestHandler, n) for n in _HANDLER_METHODS
    )


class RdapProtocol(web.RequestHandler):
    """aiohttp's HTTP/1.1 connection handler, answering what its parser rejects (a space
    before a header's colon, an obs-folded or over-long header, a space in the request target)
    with an RDAP error; and holding the connection limits: over a connection cap (total, per
    client network) the connection is closed at once, and a request head that has not
    arrived `header_timeout` seconds after the connection opened (or after its first byte, on
    a kept-alive connection) closes it (slow-loris). Idle kept-alive connections close after
    aiohttp's `keepalive_timeout`. A `request_handler` answers each request in the
    application's place (and hands it on to the application when it cannot).

    With `hits`, a plain anonymous GET or HEAD whose answer is cached or stored is answered
    from the bytes received (`rdap.wire`), before aiohttp parses them, when the connection is
    idle: no request in progress or queued, aiohttp's parser between requests, nothing
    waiting to be written. While a stored answer is read, what else arrives is held, and fed
    on once the answer is written; a request that cannot be answered so is fed to aiohttp's
    parser as it came.

    aiohttp's own answer is a text/plain 400 quoting the offending line, a bearer token
    included, and its log line carries a traceback, the token and the full client address.
    """

    __slots__ = (
        "_admitted",
        "_app",
        "_between",
        "_caps",
        "_head_timeout",
        "_head_timer",
        "_heads",
        "_held",
        "_held_paused",
        "_hits",
        "_key",
        "_peer",
        "_reading",
    )

    def __init__(
        self,
        manager: web.Server,
        *,
        app: web.Application,
        caps: ConnectionCaps | None = None,
        header_timeout: float = 0.0,
        request_handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]] | None = None,
        hits: Hits | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        if request_handler is not None:
            # Answers in the application's place (`rdap.hits`: cached answers first).
            self._request_handler = request_handler
        self._app = app
        self._caps = caps
        self._head_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._heads = 0
        self._key = ""
        self._admitted = False
        self._hits = hits
        self._peer = ""
        #: aiohttp's parser is between requests (nothing of a head or a body buffered).
        self._between = True
        #: Bytes that arrived while a stored answer was read (None: none is being read).
        self._held: list[bytes] | None = None
        self._held_paused = False
        #: The stored answer being read (`Lookup.precomputed_soon`), if any.
        self._reading: asyncio.Future[bytes | None] | None = None

    # --- connection limits ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection under the caps (or close it at once), start the head timer."""
        peer = transport.get_extra_info("peername")
        self._peer = peer[0] if isinstance(peer, tuple) and peer else ""
        if self._caps is not None:
            self._key = network_key(self._peer)
            cap = self._caps.refusal(self._key)
            if cap is not None:
                # Over a cap: closed at once, never queued; aiohttp never sees it.
                log.debug("connection refused: over a connection cap")
                self._app[METRICS].refused(FRONTEND, cap)
                transport.close()
                return
        self._admitted = True
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Count the connection out."""
        if not self._admitted:
            return
        self._admitted = False
        self._cancel_head_timer()
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None
        self._held = None
        if self._caps is not None:
            self._caps.release(self._key)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Answer a plain request whose answer is cached or stored (`rdap.wire`), or feed
        aiohttp's parser."""
        held = self._held
        if held is not None:
            # A stored answer is being read: what follows waits for it to be written.
            held.append(data)
            if not self._held_paused and sum(map(len, held)) > wire.MAX_HEAD:
                self._held_paused = True
                if self.transport is not None:
                    self.transport.pause_reading()
            return
        if self._hits is not None and self._between and self._idle():
            head = wire.read_head(data)
            if head is not None and self._answer(head, data):
                return
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        """Feed aiohttp's parser; a complete request head stops the head timer, the first
        bytes of the next request on a kept-alive connection start it again."""
        count = self._request_count
        super().data_received(data)
        messages = self._messages
        # Between requests again when the bytes ended with a whole head of a request without
        # a body (the last one parsed); else aiohttp's parser holds part of a request.
        self._between = (
            self._request_count > count
            and data.endswith(b"\r\n\r\n")
            and bool(messages)
            and messages[-1][1] is EMPTY_PAYLOAD
        )
        if self._request_count > self._heads:
            self._heads = self._request_count
            self._cancel_head_timer()
        elif data and self._head_timer is None:
            self._start_head_timer()

    # --- answers from the bytes received ----------------------------------------------------

    def _idle(self) -> bool:
        """No request in progress or queued, and the connection open and writable."""
        waiter = self._waiter
        return (
            waiter is not None
            and not waiter.done()
            and not self._messages
            and not self._force_close
            and not self._close
            and not self._upgraded
            and not self.writing_paused
            and self.transport is not None
        )

    def _answer(self, head: wire.Head, data: bytes) -> bool:
        """Answer `head` from the cache, or start reading its stored answer; False when the
        application must answer it."""
        hits = self._hits
        assert hits is not None
        started = time.perf_counter()
        try:
            wired = hits.wire_hit(head, self._peer, started)
            query = hits.storable(head) if wired is None else None
        except Exception as exc:
            # A bug: nothing is written yet, so the application answers the request.
            log.error("the fast path failed: %s", type(exc).__name__, exc_info=exc)
            return False
        if wired is not None:
            self._begin()
            self._send(head, wired, started)
            return True
        if query is None:
            return False
        key = hits.wire_key(head)
        reading = hits.wire_stored_soon(head, query, self._peer)
        if reading is None:
            return False
        self._begin()
        self._held = []
        self._reading = reading.future
        reading.future.add_done_callback(
            lambda _: self._stored_read(head, reading, key, data, started)
        )
        return True

    def _begin(self) -> None:
        """Count a request answered here as aiohttp counts its own, and stop its timers."""
        self._request_count += 1
        self._heads = self._request_count
        self._cancel_head_timer()
        if self._manager is not None:
            self._manager.requests_count += 1
        self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout

    def _stored_read(
        self,
        head: wire.Head,
        reading: StoredRead,
        key: tuple[object, ...],
        data: bytes,
        started: float,
    ) -> None:
        """A stored answer's read is done: write the answer (or feed the request to aiohttp),
        then what arrived meanwhile."""
        if reading.future.cancelled():
            return  # the client left (`connection_lost`)
        hits = self._hits
        assert hits is not None
        try:
            wired = hits.wire_stored(head, reading, key, self._peer, started)
        except Exception as exc:
            # A bug: nothing is written yet, so the application answers the request.
            log.error("the fast path failed: %s", type(exc).__name__, exc_info=exc)
            wired = None
        held, self._held, self._reading = self._held or [], None, None
        if self._held_paused:
            self._held_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        if self.transport is None:
            return  # the client left
        if wired is None:
            # Counted again as aiohttp parses it.
            self._request_count -= 1
            self._heads = self._request_count
            if self._manager is not None:
                self._manager.requests_count -= 1
            self._feed(data)
        else:
            self._send(head, wired, started)
        if held and self.transport is not None:
            self.data_received(b"".join(held))

    async def shutdown(self, timeout: float | None = 15.0) -> None:  # noqa: ASYNC109 - aiohttp's
        """Stop serving: a stored answer being read is written first (as aiohttp lets a
        request in progress finish), then aiohttp's own shutdown."""
        reading = self._reading
        if reading is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(reading), timeout)
        await super().shutdown(timeout)

    def _send(self, head: wire.Head, wired: Wired, started: float) -> None:
        """Write an answer made here, log it, and keep the connection alive (or close it)."""
        transport = self.transport
        assert transport is not None
        transport.write(wired.data)
        if head.close:
            self.force_close()
        elif self._keepalive_timeout > 0:
            loop = self._loop
            self._next_keepalive_close_time = loop.time() + self._keepalive_timeout
            if self._keepalive_handle is None:
                self._keepalive_handle = loop.call_at(
                    self._next_keepalive_close_time, self._process_keepalive
                )
        logger = self.access_logger
        if isinstance(logger, AccessLogger):
            logger.line(
                wired.client or self._peer,
                head.method,
                head.path,
                wired.status,
                time.perf_counter() - started,
                wired.request_id,
            )

    def _start_head_timer(self) -> None:
        if self._head_timeout > 0:
            self._head_timer = self._loop.call_later(self._head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._current_request is not None:
            return  # a request is being answered (its body came slowly): not a head
        log.debug("closed a connection: no request head within %ss", self._head_timeout)
        self.force_close()
        if self.transport is not None:
            self.transport.close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """An RDAP error response; logs the kind of error and the truncated client only.

        Security: `message` and `exc` quote the request (tokens, names): neither is sent,
        and for client errors neither is logged beyond the exception's class name.
        """
        client = truncate_address(request.remote)
        kind = type(exc).__name__ if exc is not None else "-"
        if status < 500:
            log.info("rejected a malformed HTTP request from %s: %s", client, kind)
        else:
            # A server error (an exception that escaped the middleware): keep its traceback.
            log.error("internal error answering a request from %s: %s", client, kind, exc_info=exc)
        if request.writer.output_size > 0:
            # Part of an answer is already sent: the connection is beyond repair.
            raise ConnectionError("response already started; cannot send an error")
        response = _ParserErrorResponse(self._app, _parser_error(status))
        cors.apply(response.headers)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's report of an error outside any handler. A request body that fails to
        decode while it is drained after the answer is the client's doing: one line with
        the truncated client and the error's class, no traceback. Anything else is a bug and
        keeps aiohttp's report."""
        exc = kw.get("exc_info")
        if isinstance(exc, RequestPayloadError | HttpProcessingError):
            peer = self.transport.get_extra_info("peername") if self.transport else None
            client = truncate_address(peer[0] if isinstance(peer, tuple) else None)
            log.info(
                "closed a connection with a malformed request body from %s: %s",
                client,
                type(exc).__name__,
            )
            return
        super().log_exception(*args, **kw)
