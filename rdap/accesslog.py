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
        self.line(
            request.get(CLIENT) or request.remote or "",
            request.method,
            request.path,
            response.status,
            time_,
            response.headers.get(REQUEST_ID_HEADER, "-"),
        )

    def line(
        self, client: str, method: str, path: str, status: int, time_: float, request_id: str
    ) -> None:
        """Log one answer: the request's client address (before truncation), method and path,
        the answer's status and request id, and the seconds it took (`rdap.wire`'s answers
        are logged here directly)."""
        if not self.logger.isEnabledFor(logging.INFO):
            return  # filtered out: nothing computed
        shown = truncate_address(client)
        method = method if method in METHODS else "OTHER"
        logs.access(
            self.logger,
            "%s %s /%s %d %.1fms",  # text lines as before; JSON lines add the request id
            shown,
            method,
            kind(path),
            status,
            time_ * 1000,
            frontend=FRONTEND,
            route=route_kind(path),
            status=status,
            seconds=time_,
            client=shown,
            request_id=request_id,
            method=method,
        )
