"""Response headers every RDAP answer carries: CORS (RFC 7480 §5.6, ICANN TIG §1.14) and
`Vary`. An aiohttp `on_response_prepare` hook, and the same headers for answers that never
reach the application (requests aiohttp's HTTP parser rejects).
"""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict


def apply(headers: CIMultiDict[str]) -> None:
    """CORS on every answer, errors included, never with credentials."""
    headers["Access-Control-Allow-Origin"] = "*"
    # Security: a proxy or handler must never turn on credentials mode (ICANN TIG §1.14).
    headers.popall("Access-Control-Allow-Credentials", None)
    headers.setdefault("Vary", "Authorization")


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The `on_response_prepare` hook: `apply` to every answer the application gives."""
    apply(response.headers)
