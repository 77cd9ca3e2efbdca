"""The RDAP access log without personal data: query kind only, client address truncated."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core.network import truncate_address


class AccessLogger(AbstractAccessLogger):
    """One line per request: truncated client, method, query kind, status, duration."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_: float) -> None:
        """Log one answered request (never the name, handle or query string)."""
        kind = request.path.split("/", 2)[1] if request.path.count("/") else ""
        self.logger.info(
            "%s %s /%s %d %.1fms",
            truncate_address(request.remote),
            request.method,
            kind[:16],
            response.status,
            time_ * 1000,
        )
