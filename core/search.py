"""Searches as values (RFC 9082 §3.2, RFC 8977, RFC 9536): what is searched, how results are
ordered and paged, and the limits every search runs under. Pure, no I/O.

The RDAP front-end parses a request into a `SearchRequest`; `core.searcher.Searcher` runs it
against the replica and decides every object with the redaction engine. Port 43 never
searches (WHOIS stays a lookup service).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from redaction.engine import ContactView, RedactedDomain
from registry.errors import BadQuery, PatternTooBroad
from registry.model import ContactRole, HostRecord, RegistrarRecord, ReplicaInfo
from registry.patterns import NamePattern, TextPattern

_T = TypeVar("_T")


class Target(enum.StrEnum):
    """What a search returns; values are the RFC 9082 / RFC 9536 path segments."""

    DOMAINS = "domains"
    NAMESERVERS = "nameservers"
    ENTITIES = "entities"
    REVERSE = "domains/reverse_search/entity"

    @property
    def results_member(self) -> str:
        """The RFC 9083 §8 member holding the results."""
        if self is Target.NAMESERVERS:
            return "nameserverSearchResults"
        if self is Target.ENTITIES:
            return "entitySearchResults"
        return "domainSearchResults"


#: The search properties per target (RFC 9082 §3.2, RFC 9536 §3 and this server's `addr`).
PROPERTIES: dict[Target, tuple[str, ...]] = {
    Target.DOMAINS: ("name", "nsLdhName", "nsIp"),
    Target.NAMESERVERS: ("name", "ip"),
    Target.ENTITIES: ("fn", "handle"),
    Target.REVERSE: ("fn", "handle", "email", "addr"),
}


@dataclass(frozen=True, slots=True)
class SortProperty:
    """A sort property (RFC 8977 §2.3.1) and the JSONPath of the value it orders by."""

    name: str
    json_path: str


def _event(member: str, action: str) -> str:
    return f'$.{member}[*].events[?(@.eventAction=="{action}")].eventDate'


_DOMAIN_SORTS = (
    SortProperty("name", "$.domainSearchResults[*].ldhName"),
    SortProperty("registrationDate", _event("domainSearchResults", "registration")),
    SortProperty("expirationDate", _event("domainSearchResults", "expiration")),
    SortProperty("lastChangedDate", _event("domainSearchResults", "last changed")),
)

#: Sort properties per target, the default first (RFC 8977 §2.3.1 names).
SORTS: dict[Target, tuple[SortProperty, ...]] = {
    Target.DOMAINS: _DOMAIN_SORTS,
    Target.REVERSE: _DOMAIN_SORTS,
    Target.NAMESERVERS: (SortProperty("name", "$.nameserverSearchResults[*].ldhName"),),
    Target.ENTITIES: (
        SortProperty("handle", "$.entitySearchResults[*].handle"),
        SortProperty("fn", "$.entitySearchResults[*].vcardArray[1][?(@[0]=='fn')][3]"),
    ),
}


@dataclass(frozen=True, slots=True)
class Sort:
    """One sort property and its direction (RFC 8977 §2.3: `sort=name:d`)."""

    prop: str
    descending: bool = False

    @property
    def text(self) -> str:
        """The canonical `property:a|d` form."""
        return f"{self.prop}:{'d' if self.descending else 'a'}"


def default_sort(target: Target, prop: str) -> Sort:
    """The order results come in without a `sort` parameter: by name for domains and
    nameservers; for entities, by the property searched."""
    if target is Target.ENTITIES:
        return Sort(prop)
    return Sort("name")


def parse_sort(target: Target, text: str) -> Sort:
    """A `sort` value (RFC 8977 §2.3): one property, optionally `:a` or `:d`; 400 otherwise."""
    if "," in text:
        raise BadQuery("Sort by one property at a time (sort=PROPERTY or sort=PROPERTY:d).")
    prop, _, direction = text.partition(":")
    known = [s.name for s in SORTS[target]]
    if prop not in known:
        raise BadQuery(f"Results of this search can be sorted by {', '.join(known)}.")
    if direction not in ("", "a", "d"):
        raise BadQuery("A sort direction is :a (ascending) or :d (descending).")
    return Sort(prop, direction == "d")


class FieldSet(enum.StrEnum):
    """RFC 8982 §4 field sets."""

    ID = "id"
    BRIEF = "brief"
    FULL = "full"


Pattern = NamePattern | TextPattern | ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search: target, property and pattern, an optional role (reverse search), the
    order, and where to resume (an opaque cursor)."""

    target: Target
    prop: str
    pattern: Pattern
    sort: Sort
    role: ContactRole | None = None
    cursor: str | None = None

    @property
    def pattern_text(self) -> str:
        """The pattern in canonical form."""
        if isinstance(self.pattern, NamePattern | TextPattern):
            return self.pattern.text
        return str(self.pattern)

    @property
    def query(self) -> str:
        """The canonical search, what a cursor is bound to and the disclosure log names."""
        out = f"{self.target.value}?{self.prop}={self.pattern_text}"
        if self.role is not None:
            out += f"&role={self.role.value}"
        return out

    @property
    def reverse(self) -> bool:
        """True for an RFC 9536 reverse search."""
        return self.target is Target.REVERSE


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """The `[search]` configuration section: limits every search runs under."""

    enabled: bool = True
    #: Literal characters a wildcard pattern needs before its `*` (shorter: 422).
    min_literal: int = 3
    #: Result cap: matches one search considers, over all its pages.
    max_results: int = 1000
    #: Objects per page (RFC 8977 pageSize).
    page_size: int = 50
    #: Entities one entity or reverse search examines, from where its pattern starts in the
    #: index; the same for every requester and every pattern (docs/search.md, "Cost").
    entity_window: int = 100
    #: Nameservers a domain search by nameserver pattern or address expands to.
    max_hosts: int = 20
    #: Seconds one search may take (beyond: 503).
    time_budget: float = 5.0
    #: Seconds a paging cursor stays valid.
    cursor_ttl: int = 3600
    #: Key material for paging cursors (empty: a random key per start; several servers behind
    #: one name need the same secret). Security: never printed.
    secret: str = field(default="", repr=False)

    def problems(self) -> list[tuple[str, str]]:
        """(key, reason) for every value out of range."""
        out: list[tuple[str, str]] = []
        for key in ("max_results", "page_size", "entity_window", "max_hosts", "cursor_ttl"):
            if getattr(self, key) < 1:
                out.append((key, "expected at least 1"))
        if self.page_size > self.max_results:
            out.append(("page_size", "expected at most max_results"))
        return out


def check_breadth(request: SearchRequest, settings: SearchSettings) -> None:
    """422 for a wildcard pattern with fewer literal characters than configured: such a
    search cannot be run cheaply (`*`, `a*` across every TLD)."""
    pattern = request.pattern
    if isinstance(pattern, NamePattern):
        if pattern.wildcard is None:
            return
        if request.target is Target.DOMAINS and request.prop == "name":
            if pattern.wildcard > 0:
                # A wildcard in the TLD label (`example.co*`): the first label is exact and
                # the served TLDs are few.
                return
            literal = len(pattern.prefix)
        else:
            # Host names: the search uses whichever index the pattern gives more to; dots
            # are not literal characters (`*.co` is as broad as `co`).
            literal = max(
                len(pattern.forward_literal.replace(".", "")),
                len(pattern.reverse_literal.replace(".", "")),
            )
    elif isinstance(pattern, TextPattern):
        if not pattern.wildcard:
            return
        literal = len(pattern.literal)
    else:
        return
    if literal < settings.min_literal:
        raise PatternTooBroad(
            f"The search pattern is too broad: give at least {settings.min_literal} "
            "characters before the '*'."
        )


@dataclass(frozen=True, slots=True)
class Item(Generic[_T]):
    """A search result with the key it is ordered by (its tie-breaker last)."""

    key: tuple[str, ...]
    value: _T


def page_after(
    items: Sequence[Item[_T]], sort: Sort, after: tuple[str, ...] | None, size: int
) -> tuple[list[Item[_T]], bool]:
    """The page that follows `after` (None: the first page) in `sort` order, and whether more
    follow it. Keyset paging: the position is a key, not an offset, so a page resumes after
    the same object even when objects before it appeared or went away meanwhile."""
    ordered = sorted(items, key=lambda i: i.key, reverse=sort.descending)
    if after is not None:
        if sort.descending:
            ordered = [i for i in ordered if i.key < after]
        else:
            ordered = [i for i in ordered if i.key > after]
    return ordered[:size], len(ordered) > size


@dataclass(frozen=True, slots=True)
class ContactHit:
    """A contact found by a search, decided as its lookup by handle would be."""

    view: ContactView
    info: ReplicaInfo


#: One search result: a domain redacted for the requester, a nameserver, a contact decided by
#: the entity-by-handle rule, or a registrar.
Hit = RedactedDomain | HostRecord | ContactHit | RegistrarRecord


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a search's results, and what the answer says about the rest."""

    request: SearchRequest
    hits: tuple[Hit, ...]
    #: RFC 8977 pageNumber (1 for the first page) and the page size in force.
    number: int
    size: int
    #: Objects in the result set (None when unknown).
    total: int | None
    #: More objects matched than the result cap: the set is cut to the first ones.
    truncated: bool
    #: The cursor opening the next page, if there is one.
    next_cursor: str | None
    #: The replica changed since the page the cursor came from.
    generation_changed: bool
    info: ReplicaInfo
    #: Entities the search examined (entity and reverse searches; their notice says so).
    window: int | None = None
    #: A search by registrant data under a tier's search grant: always a disclosure record.
    registrant_search: bool = False

    @property
    def has_pages(self) -> bool:
        """True when the result set spans more than one page."""
        return self.number > 1 or self.next_cursor is not None
