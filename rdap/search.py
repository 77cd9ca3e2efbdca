"""RDAP search requests (RFC 9082 §3.2, RFC 8977, RFC 8982, RFC 9536 §3): a search path and
its query parameters -> a `SearchQuery` value; and the links a search answer carries. Pure,
no I/O.

Unknown parameters are ignored (RFC 7480 §4.1: clients add them to defeat caches); the known
ones may each appear once. Bad input raises a typed error carrying its status.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from core.search import (
    PROPERTIES,
    FieldSet,
    Pattern,
    SearchRequest,
    Target,
    default_sort,
    parse_sort,
)
from registry import patterns
from registry.errors import BadQuery, NotImplementedQuery
from registry.model import ContactRole

#: The first path segments of searches (RFC 9082 §3.2; RFC 9536 reverse search under domains).
SEARCH_SEGMENTS = frozenset({"domains", "nameservers", "entities"})
#: Parameters with a meaning on a search, besides the search properties.
CONTROLS = ("sort", "cursor", "fieldSet", "count", "role")
#: Characters left unescaped in the links this server builds (readable patterns).
_SAFE = "*:,-._~"


@dataclass(frozen=True, slots=True)
class SearchPath:
    """A search path (`/domains`, `/domains/reverse_search/entity`, ...), before its
    parameters are read."""

    segments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search request and how the answer is to be presented."""

    request: SearchRequest
    field_set: FieldSet = FieldSet.FULL
    #: RFC 8977 §2.1 `count=true`: the client asks for totalCount.
    count: bool = False
    #: The query parameters as received, in order (the answer's links are built from them).
    params: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """The search path (no leading slash)."""
        return self.request.target.value


def target(segments: Sequence[str]) -> Target:
    """The search a path names; 501 for the reverse searches a domain registry does not
    serve, 400 for anything else that is not a search path."""
    path = "/".join(segments)
    for t in Target:
        if path == t.value:
            return t
    if len(segments) == 3 and segments[1] == "reverse_search":
        # RFC 9536 §3: other related resource types exist; this registry relates domains to
        # entities only.
        raise NotImplementedQuery("This server offers reverse search of domains by entity only.")
    raise BadQuery(
        "Not an RDAP search: expected /domains, /nameservers, /entities or "
        "/domains/reverse_search/entity."
    )


def _single(params: Sequence[tuple[str, str]], key: str) -> str | None:
    values = [v for k, v in params if k == key]
    if len(values) > 1:
        raise BadQuery(f"Give the {key} parameter at most once.")
    return values[0] if values else None


def _pattern(t: Target, prop: str, value: str) -> Pattern:
    if prop in ("nsIp", "ip"):
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            raise BadQuery("The address is not an IPv4 or IPv6 address.") from None
    if prop in ("name", "nsLdhName"):
        return patterns.parse_name(value)
    return patterns.parse_text(value)


def parse(segments: Sequence[str], params: Sequence[tuple[str, str]]) -> SearchQuery:
    """Parse a search path's segments and its query parameters (decoded, in order)."""
    t = target(segments)
    given = [p for p in PROPERTIES[t] if any(k == p for k, _ in params)]
    if not given:
        raise BadQuery(f"A {t.value} search takes one of: {', '.join(PROPERTIES[t])}.")
    if len(given) > 1:
        raise BadQuery(f"Search by one property at a time ({', '.join(given)} given).")
    prop = given[0]
    value = _single(params, prop)
    assert value is not None
    pattern = _pattern(t, prop, value)
    role = None
    role_text = _single(params, "role")
    if role_text is not None:
        if t is not Target.REVERSE:
            raise BadQuery("The role parameter belongs to reverse searches (RFC 9536).")
        try:
            role = ContactRole(role_text)
        except ValueError:
            known = ", ".join(r.value for r in ContactRole)
            raise BadQuery(f"The role is not one this registry records ({known}).") from None
    sort_text = _single(params, "sort")
    sort = parse_sort(t, sort_text) if sort_text is not None else default_sort(t, prop)
    field_text = _single(params, "fieldSet")
    try:
        field_set = FieldSet(field_text) if field_text is not None else FieldSet.FULL
    except ValueError:
        raise BadQuery("The fieldSet is id, brief or full (RFC 8982).") from None
    count_text = _single(params, "count")
    if count_text not in (None, "true", "false"):
        raise BadQuery("The count parameter is true or false (RFC 8977).")
    cursor = _single(params, "cursor")
    if cursor == "":
        raise BadQuery("The cursor parameter is empty.")
    return SearchQuery(
        request=SearchRequest(t, prop, pattern, sort, role=role, cursor=cursor),
        field_set=field_set,
        count=count_text == "true",
        params=tuple(params),
    )


def link(
    base_url: str,
    path: str,
    params: Iterable[tuple[str, str]],
    *,
    set_: Sequence[tuple[str, str]] = (),
    drop: Iterable[str] = (),
) -> str:
    """An absolute URL for the same search with parameters replaced: every `drop` key and
    every key in `set_` removed, then `set_` appended."""
    gone = {*drop, *(k for k, _ in set_)}
    kept = [(k, v) for k, v in params if k not in gone] + list(set_)
    query = "&".join(f"{quote(k, safe=_SAFE)}={quote(v, safe=_SAFE)}" for k, v in kept)
    return f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
