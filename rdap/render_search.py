"""Pure rendering of search answers (RFC 9083 §8, RFC 8977 paging and sorting, RFC 8982
partial responses, RFC 9536 reverse search, RFC 9537 redaction). No I/O.

Each result is rendered exactly as its lookup is (`rdap.render`), then the members that
belong to the top level only (rdapConformance, notices, redacted) are lifted out: notices
appear once, and every RFC 9537 path is re-rooted at the result it describes
(`$.domainSearchResults[2].entities[...]`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.search import SORTS, ContactHit, FieldSet, Hit, Page, Target
from rdap import render
from rdap.render import JSON, RenderContext
from rdap.search import SearchQuery, link
from redaction.engine import RedactedDomain
from redaction.fields import Field
from registry.model import HostRecord, RegistrarRecord

PAGING = "paging"
SORTING = "sorting"
SUBSETTING = "subsetting"
REVERSE_SEARCH = "reverse_search"
#: Every search extension this server implements (what /help lists).
EXTENSIONS = (PAGING, SORTING, SUBSETTING, REVERSE_SEARCH)

#: RFC 9536 §5 / IANA "RDAP Reverse Search Mapping": where each reverse search property is
#: found in the related entity. `addr` is this server's own (unregistered) property: street,
#: city and postal code of the address, in that order.
PROPERTY_PATHS = {
    "fn": "$.entities[*].vcardArray[1][?(@[0]=='fn')][3]",
    "handle": "$.entities[*].handle",
    "email": "$.entities[*].vcardArray[1][?(@[0]=='email')][3]",
    "addr": "$.entities[*].vcardArray[1][?(@[0]=='adr')][3]",
    "role": "$.entities[*].roles",
}

_FIELD_SET_TEXT = {
    FieldSet.ID: "Only the key of each object (ldhName, or an entity's handle).",
    FieldSet.BRIEF: "The key, status and self link of each object; an entity's name.",
    FieldSet.FULL: "Each object as its lookup answers it.",
}

_KEEP_BRIEF = ("objectClassName", "handle", "ldhName", "unicodeName", "roles", "status")
_TOP_ONLY = ("rdapConformance", "notices", "redacted")


def _full(hit: Hit, ctx: RenderContext) -> JSON:
    match hit:
        case RedactedDomain():
            return render.domain(hit, ctx)
        case HostRecord():
            return render.nameserver(hit, ctx)
        case ContactHit():
            return render.contact(hit.view, hit.info, ctx)
        case RegistrarRecord():
            return render.registrar(hit.registrar, hit.info, ctx)
    raise AssertionError(hit)  # pragma: no cover


def _self_links(doc: JSON) -> list[JSON]:
    return [lk for lk in doc.get("links", []) if lk.get("rel") == "self"]


def _is_fn_entry(entry: JSON) -> bool:
    path = entry.get("postPath") or entry.get("prePath") or ""
    return "=='fn'" in path and path.startswith("$.vcardArray")


def subset(doc: JSON, field_set: FieldSet) -> tuple[JSON, list[JSON]]:
    """One result as a field set shows it (RFC 8982 §4), and its `redacted` entries (paths
    relative to the result, `$` being the result itself)."""
    redacted: list[JSON] = list(doc.get("redacted", []))
    body = {k: v for k, v in doc.items() if k not in _TOP_ONLY}
    if field_set is FieldSet.FULL:
        return body, redacted
    if field_set is FieldSet.ID:
        keys: tuple[str, ...] = ("objectClassName", "ldhName", "unicodeName")
        if body["objectClassName"] == "entity":
            keys = ("objectClassName", "handle")
        return {k: body[k] for k in keys if k in body}, []
    out = {k: body[k] for k in _KEEP_BRIEF if k in body}
    if body["objectClassName"] == "entity":
        card = body.get("vcardArray", ["vcard", []])[1]
        out["vcardArray"] = ["vcard", [p for p in card if p[0] in ("version", "fn")]]
        redacted = [r for r in redacted if _is_fn_entry(r)]
    else:
        redacted = []
    links = _self_links(body)
    if links:
        out["links"] = links
    return out, redacted


def _rebase(entry: JSON, root: str) -> JSON:
    out = dict(entry)
    for key in ("prePath", "postPath", "replacementPath"):
        path = out.get(key)
        if isinstance(path, str) and path.startswith("$"):
            out[key] = root + path[1:]
    return out


def disclosed(hit: Hit, field_set: FieldSet) -> tuple[str, ...]:
    """The names of withheld fields this result shows its requester in `field_set` (what the
    disclosure log records)."""
    if isinstance(hit, RedactedDomain):
        return hit.disclosed_labels if field_set is FieldSet.FULL else ()
    if isinstance(hit, ContactHit):
        view = hit.view
        shown: Iterable[Field] = view.disclosed
        if field_set is FieldSet.BRIEF:
            shown = [f for f in view.disclosed if f in (Field.HANDLE, Field.NAME)]
        elif field_set is FieldSet.ID:
            shown = [f for f in view.disclosed if f is Field.HANDLE]
        return tuple(view.label(f) for f in sorted(shown))
    return ()


def _alternate(ctx: RenderContext, href: str, title: str) -> JSON:
    return {
        "value": ctx.request_url,
        "rel": "alternate",
        "href": href,
        "title": title,
        "type": render.MEDIA_TYPE,
    }


def paging_metadata(page: Page, query: SearchQuery, ctx: RenderContext) -> JSON | None:
    """RFC 8977 §2.4: pageSize and pageNumber when the results span pages, totalCount when
    the client asked (`count=true`), a `next` link while pages follow; None when it would be
    empty."""
    out: JSON = {}
    if query.count and page.total is not None:
        out["totalCount"] = page.total
    if page.has_pages:
        out["pageSize"] = page.size
        out["pageNumber"] = page.number
    if page.next_cursor is not None:
        href = link(ctx.base_url, query.path, query.params, set_=[("cursor", page.next_cursor)])
        out["links"] = [
            {
                "value": ctx.request_url,
                "rel": "next",
                "href": href,
                "title": "Result Pagination Link",
                "type": render.MEDIA_TYPE,
            }
        ]
    return out or None


def sorting_metadata(query: SearchQuery, ctx: RenderContext) -> JSON:
    """RFC 8977 §2.3.2: the sort in force and every sort available, with links."""
    request = query.request
    available: list[JSON] = []
    for prop in SORTS[request.target]:
        links = [
            _alternate(
                ctx,
                link(
                    ctx.base_url,
                    query.path,
                    query.params,
                    set_=[("sort", f"{prop.name}{suffix}")],
                    drop=("cursor",),
                ),
                title,
            )
            for suffix, title in (
                ("", "Result Ascending Sort Link"),
                (":d", "Result Descending Sort Link"),
            )
        ]
        available.append(
            {
                "property": prop.name,
                "jsonPath": prop.json_path,
                "default": prop.name == SORTS[request.target][0].name,
                "links": links,
            }
        )
    current = request.sort.prop + (":d" if request.sort.descending else "")
    return {"currentSort": current, "availableSorts": available}


def subsetting_metadata(query: SearchQuery, ctx: RenderContext) -> JSON:
    """RFC 8982 §3: the field set in force and every field set available, with links."""
    sets: list[JSON] = []
    for fs in FieldSet:
        href = link(ctx.base_url, query.path, query.params, set_=[("fieldSet", fs.value)])
        sets.append(
            {
                "name": fs.value,
                "default": fs is FieldSet.FULL,
                "description": _FIELD_SET_TEXT[fs],
                "links": [_alternate(ctx, href, "Result Subset Link")],
            }
        )
    return {"currentFieldSet": query.field_set.value, "availableFieldSets": sets}


def _notices(page: Page, ctx: RenderContext, settings_cap: int) -> list[JSON]:
    out = render.notices(ctx, icann=ctx.icann_deployment)
    if page.window is not None:
        # The same text for every entity search: nothing in it depends on what matched.
        out.append(
            {
                "title": "Search Policy",
                "description": [
                    "An entity search matches only values this requester may see in the "
                    "entity's own answer; it examines at most "
                    f"{page.window} entities from where the pattern starts. Narrow the "
                    "pattern for more precise results.",
                ],
            }
        )
    if page.truncated:
        # RFC 9083 §10.2.1 notice type.
        out.append(
            {
                "title": "Search Results Truncated",
                "type": "result set truncated due to excessive load",
                "description": [
                    f"This search matched more than {settings_cap} objects; only the first "
                    f"{settings_cap} in index order are included. Narrow the pattern to see "
                    "the others.",
                ],
            }
        )
    if page.generation_changed:
        out.append(
            {
                "title": "Registry Data Changed",
                "description": [
                    "The registry data changed since the previous page was computed. This "
                    "page continues after the last object of the previous page in the new "
                    "data; counts may differ from earlier pages.",
                ],
            }
        )
    return out


def search(page: Page, query: SearchQuery, ctx: RenderContext, *, cap: int) -> JSON:
    """A search answer: the results (each redacted as its lookup would be), paging, sorting
    and subsetting metadata, notices once, and one top-level `redacted` array."""
    request = page.request
    member = request.target.results_member
    objects: list[JSON] = []
    redacted: list[JSON] = []
    for i, hit in enumerate(page.hits):
        body, entries = subset(_full(hit, ctx), query.field_set)
        objects.append(body)
        redacted += [_rebase(e, f"$.{member}[{i}]") for e in entries]
    out: JSON = {member: objects}
    extensions: list[str] = []
    paging = paging_metadata(page, query, ctx)
    if paging is not None:
        out["paging_metadata"] = paging
        extensions.append(PAGING)
    out["sorting_metadata"] = sorting_metadata(query, ctx)
    extensions.append(SORTING)
    out["subsetting_metadata"] = subsetting_metadata(query, ctx)
    extensions.append(SUBSETTING)
    if request.target is Target.REVERSE:
        props = [request.prop, *(["role"] if request.role is not None else [])]
        out["reverse_search_properties_mapping"] = [
            {"property": p, "propertyPath": PROPERTY_PATHS[p]} for p in props
        ]
        extensions.append(REVERSE_SEARCH)
    out["notices"] = _notices(page, ctx, cap)
    if redacted:
        out["redacted"] = redacted
    conformance = [render.RDAP_LEVEL_0]
    if ctx.icann_deployment:
        conformance += [render.PROFILE, render.TIG]
    conformance += extensions
    if redacted:
        conformance.append(render.REDACTED)
    out["rdapConformance"] = conformance
    return out


def help_members(reverse_properties: Iterable[str]) -> dict[str, Any]:
    """RFC 9536 §6 `reverse_search_properties` for /help: the properties some tier may use."""
    props = sorted(reverse_properties)
    if not props:
        return {}
    return {
        "reverse_search_properties": [
            {"searchableResourceType": "domains", "relatedResourceType": "entity", "property": p}
            for p in [*props, "role"]
        ],
        "reverse_search_properties_mapping": [
            {"property": p, "propertyPath": PROPERTY_PATHS[p]} for p in [*props, "role"]
        ],
    }


def help_notice(ctx: RenderContext, *, min_literal: int, page_size: int) -> JSON:
    """The /help notice that lists the searches this server runs and their limits."""
    return {
        "title": "Searches",
        "description": [
            "Searches (RFC 9082): /domains?name=, /domains?nsLdhName=, /domains?nsIp=, "
            "/nameservers?name=, /nameservers?ip=, /entities?fn=, /entities?handle=. A '*' "
            "matches the trailing characters of one label (exam*.coop, exam*); a wildcard "
            f"needs at least {min_literal} characters before it.",
            f"Results come {page_size} to a page (RFC 8977: count, sort, cursor) and in the "
            "field sets id, brief and full (RFC 8982: fieldSet).",
            "Entity searches match only values the requester may see. Reverse search "
            "(RFC 9536: /domains/reverse_search/entity?handle=|fn=|email=|addr= with role=) "
            "is open to authorized requesters whose policy allows it; every such search is "
            "recorded in the disclosure log.",
        ],
        "links": [
            {
                "value": ctx.request_url,
                "rel": "help",
                "href": ctx.url("help"),
                "type": render.MEDIA_TYPE,
            }
        ],
    }
