"""The RDAP error middleware: the one place RDAP errors become responses (RFC 9083 §6
bodies, never a traceback, never internals).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core import texts
from rdap import render
from rdap.handler import dump
from rdap.state import render_context
from registry.errors import RddsError, ReplicaError

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
