"""RDAP HTTP server (RFC 7480) on aiohttp: one route, one error middleware, one cache.

Request flow: parse the path -> identify the requester -> cache -> look up and redact once
-> render -> record any disclosure (fail closed) -> respond.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from cachetools import LRUCache

from rdap import query as q
from rdap import render
from redaction.policy import Requester
from registry.errors import NotFound, RddsError, ReplicaError, Unavailable
from replica.lookup import Lookup

log = logging.getLogger("rdds.rdap")

MEDIA = "application/rdap+json"


@dataclass(frozen=True, slots=True)
class RdapConfig:
    """What the RDAP front-end needs from the settings."""

    base_url: str
    port43: str | None
    tos_url: str
    cache_entries: int = 20_000
    refresh_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class Answer:
    """A rendered answer before it is sent."""

    status: int
    body: bytes
    #: Names of withheld fields shown to this requester (disclosure log), and the object.
    disclosed: tuple[str, ...] = ()
    object_ref: str = ""


class Access(Protocol):
    """Identifies requesters and records disclosures (the authorized-access layer)."""

    async def identify(self, request: web.Request) -> Requester: ...

    async def record(
        self, requester: Requester, object_ref: str, fields: tuple[str, ...], body: bytes
    ) -> None: ...

    def help_members(self) -> dict[str, Any]: ...

    def extensions(self) -> tuple[str, ...]: ...


class AnonymousAccess:
    """Everyone is anonymous; nothing is ever disclosed (the default without a data dir)."""

    async def identify(self, request: web.Request) -> Requester:
        return Requester.anonymous()

    async def record(
        self, requester: Requester, object_ref: str, fields: tuple[str, ...], body: bytes
    ) -> None:
        # Security: without a disclosure log nothing withheld may be shown: fail closed.
        raise Unavailable()

    def help_members(self) -> dict[str, Any]:
        return {}

    def extensions(self) -> tuple[str, ...]:
        return ()


LOOKUP = web.AppKey("lookup", Lookup)
CONFIG = web.AppKey("rdap_config", RdapConfig)
ACCESS = web.AppKey("access", Access)
CACHE = web.AppKey("cache", LRUCache[tuple[Any, ...], Answer])


def _context(request: web.Request) -> render.RenderContext:
    cfg = request.app[CONFIG]
    # The request URL as received, on the configured public base (never guessed from Host).
    request_url = cfg.base_url.rstrip("/") + request.raw_path
    return render.RenderContext(
        base_url=cfg.base_url,
        request_url=request_url,
        port43=cfg.port43,
        tos_url=cfg.tos_url,
    )


def _dump(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


async def _answer(request: web.Request, query: q.Query, requester: Requester) -> Answer:
    lookup = request.app[LOOKUP]
    ctx = _context(request)
    match query:
        case q.HelpQuery():
            access = request.app[ACCESS]
            doc = render.help_(ctx, [access.help_members()], access.extensions())
            return Answer(200, _dump(doc))
        case q.DomainQuery(name=name):
            rd = await lookup.domain(name, requester)
            doc = render.domain(rd, ctx)
            return Answer(200, _dump(doc), rd.disclosed_labels, f"domain/{rd.record.domain.name}")
        case q.NameserverQuery(name=name):
            host = await lookup.nameserver(name)
            icann = any(t.kind.icann_profile for t in (await lookup.store.tlds()).values())
            return Answer(200, _dump(render.nameserver(host, ctx, icann=icann)))
        case q.EntityQuery(handle=handle):
            iana = q.iana_id(handle)
            if iana is not None:
                reg = await lookup.registrar(str(iana))
                return Answer(200, _dump(render.registrar(reg.registrar, reg.info, ctx)))
            try:
                found = await lookup.contact(handle, requester)
            except NotFound:
                reg = await lookup.registrar(handle)
                return Answer(200, _dump(render.registrar(reg.registrar, reg.info, ctx)))
            disclosed = tuple(found.view.label(f) for f in sorted(found.view.disclosed))
            doc = render.contact(found.view, found.info, ctx)
            return Answer(200, _dump(doc), disclosed, f"entity/{handle}")
    raise AssertionError(query)  # pragma: no cover


async def handle(request: web.Request) -> web.StreamResponse:
    """The one RDAP route: every GET and HEAD comes here."""
    query = q.parse(request.path)
    access = request.app[ACCESS]
    requester = await access.identify(request)
    lookup = request.app[LOOKUP]
    cache = request.app[CACHE]
    generation = lookup.store.info.generation
    # Cache key: front-end, tier and purpose, replica generation, request as received. Only
    # anonymous answers are cached: an authorized answer is never stored or shared.
    key = ("rdap", requester.tier, requester.purpose, generation, request.raw_path)
    answer = cache.get(key) if requester.is_anonymous else None
    if answer is None:
        try:
            answer = await _answer(request, query, requester)
        except NotFound as exc:
            answer = Answer(404, _dump(render.error(exc, _context(request))))
        if answer.disclosed:
            # Fail closed: the disclosure is recorded (and flushed) before the answer leaves;
            # if it cannot be recorded, nothing withheld is sent.
            await access.record(requester, answer.object_ref, answer.disclosed, answer.body)
        elif requester.is_anonymous:
            cache[key] = answer
    response = web.Response(status=answer.status, body=answer.body, content_type=MEDIA)
    if not requester.is_anonymous:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@web.middleware
async def errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The one place RDAP errors become responses (RFC 9083 §6 bodies, never a traceback)."""
    try:
        return await handler(request)
    except RddsError as exc:
        if isinstance(exc, ReplicaError):
            log.error("replica unavailable: %s", type(exc.__cause__).__name__)
            exc = ReplicaError("The registry data is temporarily unavailable.")
        response = web.Response(
            status=exc.status, body=_dump(render.error(exc, _context(request))), content_type=MEDIA
        )
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="rdap"'
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response
    except web.HTTPException as exc:
        err = RddsError(exc.reason)
        err.status, err.title = exc.status, exc.reason
        response = web.Response(
            status=exc.status, body=_dump(render.error(err, _context(request))), content_type=MEDIA
        )
        for header in ("Allow", "Retry-After"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception:
        log.exception("internal error answering an RDAP request")
        err = RddsError()
        return web.Response(
            status=500, body=_dump(render.error(err, _context(request))), content_type=MEDIA
        )


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    # RFC 7480 §5.6 / ICANN TIG §1.14: CORS on every answer, never with credentials.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.popall("Access-Control-Allow-Credentials", None)
    response.headers.setdefault("Vary", "Authorization")


async def _refresher(app: web.Application) -> AsyncIterator[None]:
    lookup, cache, every = app[LOOKUP], app[CACHE], app[CONFIG].refresh_seconds

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if await lookup.store.refresh():
                    cache.clear()  # a new generation: drop every stale answer
                    log.info("replica generation %d", lookup.store.info.generation)
            except RddsError as exc:
                log.warning("replica refresh failed: %s", type(exc).__name__)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class AccessLogger(AbstractAccessLogger):
    """Access log without personal data: query type only, client address truncated."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_: float) -> None:
        kind = request.path.split("/", 2)[1] if request.path.count("/") else ""
        self.logger.info(
            "%s %s /%s %d %.1fms",
            truncate_address(request.remote),
            request.method,
            kind[:16],
            response.status,
            time_ * 1000,
        )


def truncate_address(addr: str | None) -> str:
    """IPv4 to /24, IPv6 to /48: enough for abuse handling, not a person's address."""
    if not addr:
        return "-"
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def make_app(lookup: Lookup, config: RdapConfig, access: Access | None = None) -> web.Application:
    """The RDAP application: caller owns the store's lifetime."""
    app = web.Application(middlewares=[errors], client_max_size=64 * 1024)
    app[LOOKUP] = lookup
    app[CONFIG] = config
    app[ACCESS] = access or AnonymousAccess()
    app[CACHE] = LRUCache(maxsize=max(1, config.cache_entries))
    app.router.add_get("/{tail:.*}", handle)  # GET and HEAD (RFC 7480 §4.1)
    app.on_response_prepare.append(_headers)
    app.cleanup_ctx.append(_refresher)
    return app
