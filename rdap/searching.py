"""RDAP searches on the one route (RFC 9082 §3.2, RFC 8977, RFC 8982, RFC 9536): parse the
parameters, run the search in the search core, render, and name what the disclosure log must
record before the answer leaves (the handler records it, fail closed, and charges the search
to its own rate-limit budget, `rdap.limits`, before it runs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from rdap import render_search
from rdap import search as rsearch
from rdap.render import RenderContext
from rdap.state import SEARCHER, Answer
from redaction.policy import Requester
from registry.errors import NotImplementedQuery


async def answer(
    request: web.Request, segments: Sequence[str], requester: Requester, ctx: RenderContext
) -> Answer:
    """The answer to a search request."""
    searcher = request.app.get(SEARCHER)
    if searcher is None or not searcher.settings.enabled:
        raise NotImplementedQuery("Searches are not supported by this server.")
    query = rsearch.parse(segments, list(request.query.items()))
    page = await searcher.search(query.request, requester)
    doc = render_search.search(page, query, ctx, cap=searcher.settings.max_results)
    body = orjson.dumps(doc)
    disclosed: list[str] = []
    for hit in page.hits:
        for label in render_search.disclosed(hit, query.field_set):
            if label not in disclosed:
                disclosed.append(label)
    if page.registrant_search:
        # Every search by registrant data under a search grant is a disclosure record, with
        # no result too (the query names a person): query, result count, purpose.
        disclosed.append(f"search by {query.request.prop}")
    ref = ""
    if disclosed:
        ref = f"search {query.request.query} results={len(page.hits)} page={page.number}"
    return Answer(200, body, tuple(disclosed), ref)


def help_additions(
    request: web.Request, ctx: RenderContext
) -> tuple[RenderContext, dict[str, Any], tuple[str, ...]]:
    """What /help adds when searches are on: a notice listing them and their limits, the
    RFC 9536 reverse search properties some tier may use, and the search extensions."""
    searcher = request.app.get(SEARCHER)
    if searcher is None or not searcher.settings.enabled:
        return ctx, {}, ()
    settings = searcher.settings
    notice = render_search.help_notice(
        ctx, min_literal=settings.min_literal, page_size=settings.page_size
    )
    ctx = dataclasses.replace(ctx, extra_notices=(*ctx.extra_notices, notice))
    offered = searcher.policy.reverse_search_offered
    extensions: tuple[str, ...] = (
        render_search.PAGING,
        render_search.SORTING,
        render_search.SUBSETTING,
    )
    if offered:
        extensions += (render_search.REVERSE_SEARCH,)
    return ctx, render_search.help_members(offered), extensions
