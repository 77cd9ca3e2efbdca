"""The one RDAP route (RFC 7480): parse the path -> identify the requester -> cache -> look
up and redact once -> render -> record any disclosure (fail closed) -> respond.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from core import texts
from rdap import limits, render
from rdap import query as q
from rdap.observe import FRONTEND, METRICS, route_kind
from rdap.state import ACCESS, CACHE, LOOKUP, Answer, render_context
from redaction.policy import Requester
from registry import coop
from registry.errors import NotFound
from registry.model import parse_iana_id


def dump(doc: dict[str, Any]) -> bytes:
    """An RDAP document as JSON bytes."""
    return orjson.dumps(doc)


async def _answer(request: web.Request, query: q.Query, requester: Requester) -> Answer:
    lookup = request.app[LOOKUP]
    ctx = await render_context(request)
    match query:
        case q.HelpQuery():
            access = request.app[ACCESS]
            doc = render.help_(ctx, [access.help_members()], access.extensions())
            return Answer(200, dump(doc))
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


async def handle(request: web.Request) -> web.StreamResponse:
    """The one RDAP route: every GET and HEAD comes here."""
    query = q.parse(request.path)
    access = request.app[ACCESS]
    requester = await access.identify(
        request.headers.getall("Authorization", []), request.query.getall("purpose", [])
    )
    limits.check(request, requester, limits.kind_of(query))  # 429 over the network's budget
    lookup = request.app[LOOKUP]
    cache = request.app[CACHE]
    # Cache key: front-end, tier and purpose, replica generation, request as received. Only
    # anonymous answers are cached: an authorized answer is never stored or shared.
    key = ("rdap", requester.tier, requester.purpose, lookup.generation, request.raw_path)
    answer = cache.get(key) if requester.is_anonymous else None
    metrics = request.app[METRICS]
    if requester.is_anonymous:
        metrics.cache(FRONTEND, hit=answer is not None)
    if answer is None:
        started = time.perf_counter()
        try:
            answer = await _answer(request, query, requester)
        except NotFound as exc:
            answer = Answer(404, dump(render.error(exc, await render_context(request))))
        metrics.lookup(FRONTEND, route_kind(request.path), time.perf_counter() - started)
        if answer.disclosed:
            # Fail closed: the disclosure is recorded (and flushed) before the answer leaves;
            # if it cannot be recorded, nothing withheld is sent.
            await access.record(requester, answer.object_ref, answer.disclosed, answer.body)
            metrics.disclosure(requester.tier, requester.purpose)
        elif requester.is_anonymous:
            cache[key] = answer
    response = web.Response(status=answer.status, body=answer.body, content_type=texts.MEDIA_TYPE)
    for name, value in answer.headers:
        response.headers[name] = value
    if not requester.is_anonymous:
        response.headers["Cache-Control"] = "private, no-store"
    return response
