"""The RDAP access log without personal data: query kind only, client address truncated."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core import logs
from core.network import truncate_address
from rdap.observe import CLIENT, FRONTEND, REQUEST_ID_HEADER, route_kind


class AccessLogger(AbstractAccessLogger):
    """One line per request: truncated client, method, query kind, status, duration,
    request id. The client is the one `rdap.observe` resolved (trusted proxies only)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_: float) -> None:
        """Log one answered request (never the name, handle or query string)."""
        client = truncate_address(request.get(CLIENT) or request.remote)
        kind = route_kind(request.path)
        rid = response.headers.get(REQUEST_ID_HEADER, "-")
        logs.access(
            self.logger,
            "%s %s /%s %d %.1fms %s",
            client,
            request.method,
            kind,
            response.status,
            time_ * 1000,
            rid,
            frontend=FRONTEND,
            route=kind,
            status=response.status,
            seconds=time_,
            client=client,
            request_id=rid,
            method=request.method,
        )
