"""The RDAP access log without personal data: query kind only, client address truncated."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core.network import truncate_address

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
    """One line per request: truncated client, method, query kind, status, duration."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_: float) -> None:
        """Log one answered request (never the name, handle or query string)."""
        self.logger.info(
            "%s %s /%s %d %.1fms",
            truncate_address(request.remote),
            request.method if request.method in METHODS else "OTHER",
            kind(request.path),
            response.status,
            time_ * 1000,
        )
