"""The one RDAP route (RFC 7480): answer cache (anonymous requests, before any parsing) ->
parse the path -> identify the requester -> look up and redact once -> render -> record any
disclosure (fail closed) -> respond, with HTTP caching headers (RFC 9111) and ETag/304
(RFC 9110 §13.1.2) for anonymous answers.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import orjson
from aiohttp import web

from core import texts
from rdap import hits, limits, render, searching
from rdap import query as q
from rdap.answers import Cached
from rdap.observe import FRONTEND, METRICS, route_kind
from rdap.search import SearchPath
from rdap.state import ACCESS, CACHE, CONFIG, LOOKUP, URL_MARKER, Answer, render_context
from redaction.policy import Requester
from registry import coop
from registry.errors import NotFound
from registry.model import parse_iana_id

#: The one requester stored answers are made for (the public, with no purpose).
PUBLIC = Requester.anonymous()


def dump(doc: dict[str, Any]) -> bytes:
    """An RDAP document as JSON bytes."""
    return orjson.dumps(doc)


async def _answer(
    request: web.Request, query: q.Query, requester: Requester, marker: str | None
) -> Answer:
    lookup = request.app[LOOKUP]
    ctx = await render_context(request)
    if marker is not None:
        ctx = replace(ctx, request_url=marker)
    match query:
        case q.HelpQuery():
            access = request.app[ACCESS]
            ctx, members, extensions = searching.help_additions(request, ctx)
            doc = render.help_(
                ctx, [access.help_members(), members], (*access.extensions(), *extensions)
            )
            return Answer(200, dump(doc))
        case SearchPath(segments=segments):
            return await searching.answer(request, segments, requester, ctx)
        case q.DomainQuery(name=name):
            rd = await lookup.domain(name, requester)
            doc = render.domain(rd, ctx)
            return Answer(
                200,
                dump(doc),
                rd.disclosed_labels,
                f"domain/{rd.record.domain.name}",
                # The .coop flags under the registrar API's names (rdap.cors exposes them).
                headers=coop.flags(rd.record),
            )
        case q.NameserverQuery(name=name):
            host = await lookup.nameserver(name)
            return Answer(200, dump(render.nameserver(host, ctx)))
        case q.EntityQuery(handle=handle):
            iana = parse_iana_id(handle)
            if iana is not None:
                reg = await lookup.registrar(str(iana))
                return Answer(200, dump(render.registrar(reg.registrar, reg.info, ctx)))
            try:
                found = await lookup.contact(handle, requester)
            except NotFound:
                reg = await lookup.registrar(handle)
                return Answer(200, dump(render.registrar(reg.registrar, reg.info, ctx)))
            disclosed = tuple(found.view.label(f) for f in sorted(found.view.disclosed))
            doc = render.contact(found.view, found.info, ctx)
            return Answer(200, dump(doc), disclosed, f"entity/{found.view.contact.handle}")
    raise AssertionError(query)  # pragma: no cover


def _send(request: web.Request, cached: Cached, cache_control: str) -> web.StreamResponse:
    """A cached anonymous answer on this application's public base URL (`rdap.hits.send`)."""
    return hits.send(request, cached, request.app[CONFIG].base_url, cache_control)


_cache_control = hits.cache_control


async def handle(request: web.Request) -> web.StreamResponse:
    """The one RDAP route: every GET and HEAD comes here."""
    app = request.app
    cache = app[CACHE]
    config = app[CONFIG]
    lookup = app[LOOKUP]
    authorization = request.headers.getall("Authorization", [])
    purposes = hits.purposes(request)
    # Consulted before any parsing: a hit costs a dictionary look-up and a join. Only
    # anonymous answers (no credential) are cached. Served connections answer most hits
    # before the application sees them (`rdap.hits`); this is the same answer.
    kind = limits.kind_of_path(request.path)
    key = hits.cache_key(request, lookup.generation, kind, purposes)
    if not authorization:
        cached = cache.get(key)
        if cached is not None:
            # Cached answers are anonymous: they spend the network's budget of their kind too.
            limits.check(request, Requester.anonymous(), kind)
            app[METRICS].cache(FRONTEND, hit=True)
            return _send(request, cached, _cache_control(cached.status, config.max_age))
    query = q.parse(request.path)
    access = app[ACCESS]
    requester = await access.identify(authorization, purposes)
    limits.check(request, requester, limits.kind_of(query))  # 429 over the network's budget
    metrics = app[METRICS]
    if requester.is_anonymous:
        metrics.cache(FRONTEND, hit=False)
    # Anonymous answers are rendered with a marker for the request URL, spliced in on send.
    marker = app[URL_MARKER] if requester.is_anonymous else None
    started = time.perf_counter()
    if (
        marker is not None
        and not authorization
        and isinstance(query, q.DomainQuery)
        and requester == PUBLIC
    ):
        # A crawler's name: the answer stored ahead of time for this configuration, if any
        # (served connections answer most of these in `rdap.hits`; this is the same answer).
        stored = await hits.stored_answer(lookup, query)
        if stored is not None:
            metrics.lookup(FRONTEND, "domain", time.perf_counter() - started)
            metrics.stored(FRONTEND)
            cache.put(key, stored)
            return _send(request, stored, _cache_control(200, config.max_age))
    try:
        answer = await _answer(request, query, requester, marker)
    except NotFound as exc:
        ctx = await render_context(request)
        if marker is not None:
            ctx = replace(ctx, request_url=marker)
        answer = Answer(404, dump(render.error(exc, ctx)))
    metrics.lookup(FRONTEND, route_kind(request.path), time.perf_counter() - started)
    if answer.disclosed:
        # Fail closed: the disclosure is recorded (and flushed) before the answer leaves;
        # if it cannot be recorded, nothing withheld is sent.
        await access.record(requester, answer.object_ref, answer.disclosed, answer.body)
        metrics.disclosure(requester.tier, requester.purpose)
    elif marker is not None:
        cached = Cached.split(answer.status, answer.body, marker, answer.headers)
        if not authorization:
            cache.put(key, cached)
        return _send(request, cached, _cache_control(answer.status, config.max_age))
    response = web.Response(status=answer.status, body=answer.body, content_type=texts.MEDIA_TYPE)
    for name, value in answer.headers:
        response.headers[name] = value
    response.headers["Cache-Control"] = "private, no-store"
    return response
