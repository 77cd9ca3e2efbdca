"""The RDAP access log without personal data: query kind only, client address truncated."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core import logs
from core.network import truncate_address
from rdap.observe import CLIENT, FRONTEND, REQUEST_ID_HEADER, route_kind

#: The first path segments logged as they are (RFC 9082 query types and searches, RFC 9536
#: reverse search); anything else is logged as "other": it is whatever the client typed.
KINDS = frozenset(
    ("domain", "nameserver", "entity", "help", "ip", "autnum", "domains", "nameservers", "entities")
)

#: Methods logged as they are; a method is a token the client chose, so others are "OTHER".
METHODS = frozenset(("GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "TRACE"))


def kind(path: str) -> str:
    """The query kind of a request path, or "other" (never a name, handle or free text)."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    if first == "":
        return ""
    return first if first in KINDS else "other"


class AccessLogger(AbstractAccessLogger):
    """One line per request: truncated client, method, query kind, status, duration,
    request id. The client is the one `rdap.observe` resolved (trusted proxies only)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_: float) -> None:
        """Log one answered request (never the name, handle or query string)."""
        if not self.logger.isEnabledFor(logging.INFO):
            return  # filtered out: nothing computed
        client = truncate_address(request.get(CLIENT) or request.remote)
        method = request.method if request.method in METHODS else "OTHER"
        rid = response.headers.get(REQUEST_ID_HEADER, "-")
        path = request.path
        logs.access(
            self.logger,
            "%s %s /%s %d %.1fms",  # text lines as before; JSON lines add the request id
            client,
            method,
            kind(path),
            response.status,
            time_ * 1000,
            frontend=FRONTEND,
            route=route_kind(path),
            status=response.status,
            seconds=time_,
            client=client,
            request_id=rid,
            method=method,
        )
