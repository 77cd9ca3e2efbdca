"""Where RDAP errors become responses (RFC 9083 §6 bodies, never a traceback, never internals):
the error middleware for everything the application raises, and the connection handler for
requests aiohttp's HTTP parser rejects before the application sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from core import texts
from core.limits import ConnectionCaps
from core.network import network_key, truncate_address
from rdap import cors, render
from rdap.handler import dump
from rdap.observe import FRONTEND, METRICS
from rdap.state import app_context, render_context
from registry.errors import BadQuery, RateLimited, RddsError, ReplicaError

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


class RdapProtocol(web.RequestHandler):
    """aiohttp's HTTP/1.1 connection handler, answering what its parser rejects (a space
    before a header's colon, an obs-folded or over-long header, a space in the request target)
    with an RDAP error; and holding the connection limits: over a connection cap (total, per
    client network) the connection is closed at once, and a request head that has not
    arrived `header_timeout` seconds after the connection opened (or after its first byte, on
    a kept-alive connection) closes it (slow-loris). Idle kept-alive connections close after
    aiohttp's `keepalive_timeout`. A `request_handler` answers each request in the
    application's place (and hands it on to the application when it cannot).

    aiohttp's own answer is a text/plain 400 quoting the offending line, a bearer token
    included, and its log line carries a traceback, the token and the full client address.
    """

    __slots__ = ("_admitted", "_app", "_caps", "_head_timeout", "_head_timer", "_heads", "_key")

    def __init__(
        self,
        manager: web.Server,
        *,
        app: web.Application,
        caps: ConnectionCaps | None = None,
        header_timeout: float = 0.0,
        request_handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]] | None = None,
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

    # --- connection limits ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection under the caps (or close it at once), start the head timer."""
        if self._caps is not None:
            peer = transport.get_extra_info("peername")
            self._key = network_key(peer[0] if isinstance(peer, tuple) and peer else "")
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
        if self._caps is not None:
            self._caps.release(self._key)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed aiohttp's parser; a complete request head stops the head timer, the first
        bytes of the next request on a kept-alive connection start it again."""
        super().data_received(data)
        if self._request_count > self._heads:
            self._heads = self._request_count
            self._cancel_head_timer()
        elif data and self._head_timer is None:
            self._start_head_timer()

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
