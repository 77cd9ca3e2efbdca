"""The RDAP front-end's observation middleware (outermost): a request id on every answer
(`X-Request-Id`), the real client address (trusted proxies only), request metrics, and the
optional public health path for load balancers that cannot reach the operations listener.

Security: metric labels and logs get the route kind (the path's first segment, from a
closed set), never the name, handle or query string.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from core import logs
from core.health import CONTENT_TYPE, Health, Verdict
from core.metrics import Metrics
from core.network import IPNetwork, client_address
from rdap.state import CONFIG

FRONTEND = "rdap"
REQUEST_ID_HEADER = "X-Request-Id"

METRICS = web.AppKey("metrics", Metrics)
HEALTH = web.AppKey("health", Health)
#: The client's address as the access log and limits must see it (see `client_address`).
CLIENT = web.RequestKey("client", str)
REQUEST_ID = web.RequestKey("request_id", str)

#: RFC 9082 §3.1 lookups and §3.2 searches, `/help`: every route kind that gets its own
#: label; anything else is "other", so a client cannot create label values.
ROUTES = frozenset(
    {"domain", "nameserver", "entity", "help", "domains", "nameservers", "entities", "ip", "autnum"}
)
#: First path segments a public health path must not use: RDAP's own, `.well-known`, and
#: the web page's (`web.app`, under its default prefix "/").
RESERVED = ROUTES | {".well-known", "lookup", "contact", "static"}


def route_kind(path: str) -> str:
    """The route label for a request path: an RDAP path segment, or "other"."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return first if first in ROUTES else "other"


def check_health_path(path: str) -> str | None:
    """Why `path` cannot be the public health path, or None when it can ("" is off)."""
    if path == "":
        return None
    segments = path.split("/")
    if not path.startswith("/") or path.endswith("/") or "" in segments[1:]:
        return 'expected "" (off) or a path like "/_health" (no trailing slash)'
    if not all(re.fullmatch(r"[A-Za-z0-9._-]+", s) for s in segments[1:]):
        return "expected letters, digits, '-', '_' and '.' in each segment"
    if segments[1] in RESERVED:
        return f"/{segments[1]} is an RDAP (or web page) path"
    return None


def _health(request: web.Request) -> Verdict | None:
    base = request.app[CONFIG].health_path
    if not base or request.method not in ("GET", "HEAD") or not request.path.startswith(base):
        return None
    health = request.app.get(HEALTH)
    if health is None:
        return None
    match request.path[len(base) :]:
        case "/healthz":
            return health.alive()
        case "/readyz":
            return health.ready()
    return None


def stamp(request: web.BaseRequest, trusted: tuple[IPNetwork, ...]) -> str:
    """Give `request` a new request id and its client address (the TCP peer, or behind a
    trusted proxy the address it forwarded); returns the id."""
    rid = logs.request_id()
    request[REQUEST_ID] = rid
    # Without trusted proxies the header is never read (nobody's is believed).
    forwarded = request.headers.getall("X-Forwarded-For", []) if trusted else ()
    request[CLIENT] = client_address(request.remote, forwarded, trusted)
    return rid


def answered(
    metrics: Metrics, response: web.StreamResponse, rid: str, route: str, started: float
) -> None:
    """Stamp the answer with its request id; count and time it (since `started`)."""
    response.headers[REQUEST_ID_HEADER] = rid
    metrics.request(FRONTEND, route, response.status, time.perf_counter() - started)


@web.middleware
async def observe(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Stamp, time and count every answer; answer the public health path."""
    started = time.perf_counter()
    rid = stamp(request, request.app[CONFIG].trusted_proxies)
    verdict = _health(request)
    if verdict is not None:
        status, text = verdict.answer()
        response: web.StreamResponse = web.Response(
            status=status, text=text, content_type=CONTENT_TYPE
        )
        response.headers["Cache-Control"] = "no-store"
        route = "health"
    else:
        response = await handler(request)
        route = route_kind(request.path)
    answered(request.app[METRICS], response, rid, route, started)
    return response
