"""Response headers every RDAP answer carries: CORS (RFC 7480 §5.6, ICANN TIG §1.14) and
`Vary`. An aiohttp `on_response_prepare` hook.
"""

from __future__ import annotations

from aiohttp import web


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """CORS on every answer, errors included, never with credentials."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.popall("Access-Control-Allow-Credentials", None)
    response.headers.setdefault("Vary", "Authorization")
