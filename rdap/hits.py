"""Answer-cache hits (RFC 7480 front-end): the cache key of a request, the response a cached
answer becomes (request URL spliced in, ETag, 304, Cache-Control: RFC 9110 §8.8.3, §13.1.2,
RFC 9111), and the fast path that serves hits below aiohttp's Application.

`Hits.handle` is what the connection handler (`rdap.errors.RdapProtocol`) calls for every
request in place of the application. It answers an anonymous GET or HEAD whose answer is in
the cache, doing everything the application's path would (request id, client address behind
trusted proxies, rate limit, metrics, CORS; the access log line is the connection handler's,
as for every request), and hands every other request to the application unchanged: misses,
credentials (`Authorization`), preflights and other methods, `Expect`, over-budget requests
(the application answers the 429), and any path outside RDAP's own (the web page, the public
health path). The response is the same object the application would build, so its status,
headers and body are the same bytes; only the routing, the middleware chain and the
`on_response_prepare` signal are skipped, which is most of a hit's cost.

`Hits.wire_hit` and `Hits.wire_stored` do the same for a request the connection handler read
from its bytes (`rdap.wire.read_head`: a plain GET or HEAD without parameters), before aiohttp
parses it, and give the bytes aiohttp would write (`rdap.wire.response`); aiohttp's own
per-request work (its parser's request object, the handler task, the response object and
its header serialisation) is then skipped too.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core import logs, texts
from core.lookup import Lookup, Precomputed, StoredRead
from core.network import client_address
from rdap import cors, render, wire
from rdap.answers import AnswerCache, Cached
from rdap.limits import LIMITS, client_of, kind_of_path
from rdap.observe import FRONTEND, METRICS, answered, route_kind, stamp
from rdap.query import DomainQuery, parse
from rdap.rates import Kind
from rdap.settings import NOT_FOUND_MAX_AGE, RdapConfig
from rdap.state import CACHE, CONFIG, LOOKUP
from redaction.policy import ANONYMOUS
from registry.errors import RateLimited, RddsError

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

#: Methods a cached answer is served to (RFC 7480 §4.1); the cache holds nothing else.
METHODS = frozenset(("GET", "HEAD"))


def purposes(request: web.BaseRequest) -> list[str]:
    """The `purpose` parameters of the request (the one parameter a lookup route reads)."""
    # No query string (nearly every request): no parameters to parse.
    return request.query.getall("purpose", []) if request.query_string else []


def cache_key(
    request: web.BaseRequest, generation: int, kind: Kind, purposes: list[str]
) -> tuple[object, ...]:
    """The answer cache's key for `request` under the replica `generation`.

    The request path as received, without the query string (RFC 7480 §4.3: unknown
    parameters are ignored, so they never make an entry of their own), and `purpose`. A
    search's answer is its parameters': the whole query string is the key (unknown parameters
    too, since the answer's links repeat them); the cache is bounded in bytes.
    """
    if kind is Kind.SEARCH:
        return (generation, request.rel_url.raw_path_qs)
    return (generation, request.rel_url.raw_path, *purposes)


def _conditional_match(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2 If-None-Match: "*" or any listed tag equal to `etag` (weak
    comparison: a W/ prefix is ignored)."""
    if header.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == etag for t in header.split(","))


@functools.lru_cache(maxsize=64)
def cache_control(status: int, max_age: int) -> str:
    """`Cache-Control` of an anonymous answer: not-found answers are reused briefly."""
    age = max_age if status == 200 else min(max_age, NOT_FOUND_MAX_AGE)
    return f"public, max-age={age}"


@dataclass(frozen=True, slots=True)
class Reply:
    """What a cached answer sends to one request: its status, headers and body (None: a 304,
    which has none)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | None


def reply(cached: Cached, request_url: str, cache_control: str, if_none_match: str | None) -> Reply:
    """A cached anonymous answer for the request whose URL is `request_url`: its ETag and
    caching rules, and a 304 without a body when the client already holds it (RFC 9110
    §15.4.5)."""
    etag = cached.etag(request_url)
    # The answer's own headers (distinct names: the .coop flags), then the caching ones.
    tail = (*cached.headers, ("ETag", etag), ("Cache-Control", cache_control))
    if if_none_match is not None and _conditional_match(if_none_match, etag):
        return Reply(304, tail, None)
    return Reply(
        cached.status, (("Content-Type", texts.MEDIA_TYPE), *tail), cached.body(request_url)
    )


def send(
    request: web.BaseRequest,
    cached: Cached,
    base_url: str,
    cache_control: str,
    response_class: type[web.Response] = web.Response,
) -> web.Response:
    """`reply` as aiohttp's response, its request URL on the public `base_url`."""
    out = reply(
        cached,
        base_url.rstrip("/") + request.raw_path,
        cache_control,
        request.headers.get("If-None-Match"),
    )
    return response_class(status=out.status, headers=out.headers, body=out.body)


class _Hit(web.Response):
    """A cached answer sent by the fast path: CORS (`rdap.cors.apply`) is added where the
    application's `on_response_prepare` hook adds it, once aiohttp has added its own headers
    (Content-Length, Date, Server, Connection), so the headers come out in the same order."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        cors.apply(self.headers)


async def stored_answer(lookup: Lookup, query: DomainQuery) -> Cached | None:
    """The answer `rdds answers` stored for an anonymous domain lookup (made under this
    server's configuration), with the replica's watermark spliced in, as the cache keeps it;
    None without one (then the lookup renders)."""
    return cached_of(await lookup.precomputed(query.name, "rdap"))


def cached_of(found: Precomputed | None) -> Cached | None:
    """A stored answer (`Lookup.precomputed`) with the replica's watermark spliced in, as the
    cache keeps it."""
    if found is None:
        return None
    body = found.body(render.date_text(found.watermark))
    return Cached.split(200, body, found.request_url, found.headers)


@dataclass(frozen=True, slots=True)
class Wired:
    """An answer made from a request's bytes (`rdap.wire`), ready to write."""

    data: bytes
    status: int
    client: str
    request_id: str


class Hits:
    """The fast path of one running application (built once it is frozen: its state no longer
    changes)."""

    __slots__ = (
        "_base",
        "_cache",
        "_config",
        "_date",
        "_fallback",
        "_limits",
        "_lookup",
        "_metrics",
    )

    def __init__(self, app: web.Application, fallback: Handler) -> None:
        self._fallback = fallback
        self._cache: AnswerCache = app[CACHE]
        self._config: RdapConfig = app[CONFIG]
        self._lookup = app[LOOKUP]
        self._metrics = app[METRICS]
        self._limits = app.get(LIMITS)
        self._base = self._config.base_url.rstrip("/")
        self._date = wire.HttpDate()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """The cached or stored answer to `request`, or the application's answer."""
        response = self.answer(request)
        if response is None and request.path.startswith("/domain/"):
            response = await self.stored(request)
        if response is None:
            return await self._fallback(request)
        return response

    async def stored(self, request: web.BaseRequest) -> web.Response | None:
        """An anonymous domain lookup the cache missed, answered from the replica's stored
        answers (`rdds answers`) as the application would answer it, and cached; None when
        the application must answer (no stored answer, a bad name, a parameter, over the
        rate limit, anything but a plain anonymous GET or HEAD)."""
        started = time.perf_counter()
        headers = request.headers
        if (
            request.method not in METHODS
            or "Authorization" in headers
            or headers.get("Expect")
            or request.query_string  # `purpose` and the rest: the application's to judge
            or not self._lookup.precomputed_ready()
        ):
            return None
        path = request.path
        try:
            query = parse(path)
        except RddsError:
            return None  # the application answers the error
        if not isinstance(query, DomainQuery):
            return None
        key = cache_key(request, self._lookup.generation, Kind.LOOKUP, [])
        if not self._may_take(client_of(request)):
            return None  # over budget: the application's 429, without reading the replica
        cached = await self._read_stored(query)
        if cached is None:
            return None
        config = self._config
        rid = stamp(request, config.trusted_proxies)
        if not self._within_budget(request, Kind.LOOKUP):
            return None
        self._keep_stored(key, cached, started)
        response = send(request, cached, config.base_url, cache_control(200, config.max_age), _Hit)
        answered(self._metrics, response, rid, "domain", started)
        return response

    def _within_budget(self, request: web.BaseRequest, kind: Kind) -> bool:
        """Take the anonymous budget's token of `kind` for the request's network; False when
        it is spent."""
        return self._take(client_of(request), kind)

    def _may_take(self, client: str) -> bool:
        """Whether `_take` would take a lookup token for `client` now (takes nothing): a
        stored answer is read only for a client within its budget. The token is taken once
        the answer is there, so a name without one costs the client one token, the
        application's."""
        return self._limits is None or self._limits.has_token(client, ANONYMOUS, Kind.LOOKUP)

    def _take(self, client: str, kind: Kind) -> bool:
        """Take the anonymous budget's token of `kind` for `client`'s network; False when it
        is spent. The application then answers the 429 (and counts it): a refused take
        spends nothing, so its own check finds the same bucket (or, a moment later, one
        refilled enough to answer after all). Cached and stored answers are anonymous."""
        if self._limits is None:
            return True
        try:
            self._limits.check(client, ANONYMOUS, kind)
        except RateLimited:
            return False
        return True

    # --- answers made from a request's bytes (`rdap.wire`) ---------------------------------

    def wire_hit(self, head: wire.Head, peer: str, started: float) -> Wired | None:
        """The bytes of the cached answer to `head` (from the TCP `peer`), as the application
        would write them; None when the application (or `wire_stored`) must answer it."""
        path = head.path
        route = route_kind(path)
        if route == "other":
            return None  # not an RDAP path: the web page's or the public health path's
        cached = self._cache.get(self.wire_key(head))
        if cached is None:
            return None
        client = client_address(peer, head.forwarded_for, self._config.trusted_proxies)
        if not self._take(client, kind_of_path(path)):
            return None
        self._metrics.cache(FRONTEND, hit=True)
        return self._wired(head, cached, client, route, started)

    def storable(self, head: wire.Head) -> DomainQuery | None:
        """The domain lookup `head` asks for when a stored answer may answer it (the cache
        missed it): a domain path whose name parses, with stored answers made under this
        server's configuration."""
        if not head.path.startswith("/domain/") or not self._lookup.precomputed_ready():
            return None
        try:
            query = parse(head.path)
        except RddsError:
            return None  # the application answers the error
        return query if isinstance(query, DomainQuery) else None

    def wire_stored_soon(self, head: wire.Head, query: DomainQuery, peer: str) -> StoredRead | None:
        """Start reading the stored answer to the domain lookup `query` of `head` (see
        `storable`); None when there is none to read, or when its client (from the TCP
        `peer`) is over its budget: the application then answers the 429."""
        client = client_address(peer, head.forwarded_for, self._config.trusted_proxies)
        if not self._may_take(client):
            return None
        return self._lookup.precomputed_soon(query.name, "rdap")

    def wire_stored(
        self,
        head: wire.Head,
        reading: StoredRead,
        key: tuple[object, ...],
        peer: str,
        started: float,
    ) -> Wired | None:
        """The bytes of the stored answer a finished `wire_stored_soon` read gave for `head`,
        as the application would write them, and the answer cached under `key` (made when the
        read started); None when the application must answer it (no stored answer, an
        unreadable replica, over the rate limit)."""
        try:
            cached = cached_of(self._lookup.precomputed_done(reading))
        except RddsError:
            return None  # the replica is unreadable: the application answers the 503
        if cached is None:
            return None
        client = client_address(peer, head.forwarded_for, self._config.trusted_proxies)
        if not self._take(client, Kind.LOOKUP):
            return None
        self._keep_stored(key, cached, started)
        return self._wired(head, cached, client, "domain", started)

    def wire_key(self, head: wire.Head) -> tuple[object, ...]:
        """The cache key of `head`'s answer under the replica generation now: the key
        `cache_key` makes for the same request (the path; no query, no purpose)."""
        return (self._lookup.generation, head.path)

    async def _read_stored(self, query: DomainQuery) -> Cached | None:
        """The stored answer to `query`; None without one or when the replica is unreadable
        (the application then answers the 503)."""
        try:
            return await stored_answer(self._lookup, query)
        except RddsError:
            return None

    def _keep_stored(self, key: tuple[object, ...], cached: Cached, started: float) -> None:
        """Count a stored answer as served (a cache miss answered since `started`) and cache
        it."""
        metrics = self._metrics
        metrics.cache(FRONTEND, hit=False)
        metrics.lookup(FRONTEND, "domain", time.perf_counter() - started)
        metrics.stored(FRONTEND)
        self._cache.put(key, cached)

    def _wired(
        self, head: wire.Head, cached: Cached, client: str, route: str, started: float
    ) -> Wired:
        """`reply` as the bytes aiohttp would write (`rdap.wire.response`); counted and
        timed."""
        out = reply(
            cached,
            self._base + head.path,
            cache_control(cached.status, self._config.max_age),
            head.if_none_match,
        )
        rid = logs.request_id()
        body = out.body
        data = wire.response(
            out.status,
            out.headers,
            None if head.method == "HEAD" else body,
            length=0 if body is None else len(body),
            request_id=rid,
            date=self._date.now(),
            close=head.close,
        )
        self._metrics.request(FRONTEND, route, out.status, time.perf_counter() - started)
        return Wired(data, out.status, client, rid)

    def answer(self, request: web.BaseRequest) -> web.Response | None:
        """The response the application would give `request` from the answer cache, or None
        when the application must answer it."""
        started = time.perf_counter()
        if request.method not in METHODS:
            return None  # OPTIONS (preflights), POST, ...: never from the cache
        headers = request.headers
        # Security: a credential's answer is never cached; a request carrying one is the
        # application's to identify, even if an anonymous answer is cached for its path.
        # `Expect: 100-continue` gets aiohttp's interim 100 from the application first.
        if "Authorization" in headers or headers.get("Expect"):
            return None
        path = request.path
        route = route_kind(path)
        if route == "other":
            return None  # not an RDAP path: the web page's or the public health path's
        kind = kind_of_path(path)
        key = cache_key(request, self._lookup.generation, kind, purposes(request))
        cached = self._cache.get(key)
        if cached is None:
            return None
        config = self._config
        rid = stamp(request, config.trusted_proxies)
        if not self._within_budget(request, kind):
            return None
        self._metrics.cache(FRONTEND, hit=True)
        response = send(
            request, cached, config.base_url, cache_control(cached.status, config.max_age), _Hit
        )
        answered(self._metrics, response, rid, route, started)
        return response
