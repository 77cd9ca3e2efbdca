"""CORS for RDAP (RFC 7480 §5.6, ICANN TIG §1.14, the Fetch standard's CORS protocol): the
headers every answer carries, an aiohttp `on_response_prepare` hook that adds them, and the
answer to a CORS preflight. Also used for answers that never reach the application (requests
aiohttp's HTTP parser rejects).

No credentials mode, ever: a page may send a bearer token (`Authorization`), which needs a
preflight, but never cookies; `Access-Control-Allow-Origin` is `*` on every answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from multidict import CIMultiDict

#: Response headers a page may read besides the Fetch standard's "CORS-safelisted
#: response-header names" (Cache-Control, Content-Language, Content-Length, Content-Type,
#: Expires, Last-Modified, Pragma): the entity tag, when to retry a 429/503, the bearer
#: challenge of a 401, the .coop registry flags under the names of the registry's registrar
#: API, and the request id a page can quote to the operator (`rdap.observe`).
EXPOSED_HEADERS: tuple[str, ...] = (
    "ETag",
    "Retry-After",
    "WWW-Authenticate",
    "X-COOP-ELIGIBILITY",
    "X-COOP-VERIFICATION",
    "X-Request-Id",
)
#: What a preflight allows: the RDAP methods (RFC 7480 §4.1) and the one request header a
#: page needs beyond the safelisted ones.
ALLOWED_METHODS: tuple[str, ...] = ("GET", "HEAD")
ALLOWED_HEADERS: tuple[str, ...] = ("Authorization",)
#: Seconds a browser may cache a preflight answer (browsers cap it: Firefox 1 day,
#: Chromium 2 hours).
MAX_AGE = 86_400


def apply(headers: CIMultiDict[str]) -> None:
    """CORS on every answer, errors included, never with credentials."""
    headers["Access-Control-Allow-Origin"] = "*"
    # Security: a proxy or handler must never turn on credentials mode (ICANN TIG §1.14).
    headers.popall("Access-Control-Allow-Credentials", None)
    headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    headers.setdefault("Vary", "Authorization")


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The `on_response_prepare` hook: `apply` to every answer the application gives."""
    apply(response.headers)


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A CORS-preflight request (Fetch): OPTIONS naming the method the page wants to use.

    Browsers also send `Origin`; it is not required here, since the answer is the same for
    every origin.
    """
    return method == "OPTIONS" and "Access-Control-Request-Method" in headers


def preflight_response() -> web.Response:
    """204 listing what is allowed, whatever was asked: the browser compares (Fetch's
    CORS-preflight fetch) and refuses what is not listed."""
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE),
        },
    )


@web.middleware
async def preflight(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer CORS preflights; any other OPTIONS goes on to its 405 (with `Allow: GET,HEAD`)."""
    if is_preflight(request.method, request.headers):
        return preflight_response()
    return await handler(request)
