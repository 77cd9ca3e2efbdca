"""RDAP query parsing (RFC 9082): a request path -> a query value. Pure, no I/O.

Bad input raises a typed error carrying its HTTP status; handlers never invent error bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdap.search import SearchPath
from registry import names
from registry.errors import BadQuery, NotImplementedQuery

MAX_HANDLE = 255


@dataclass(frozen=True, slots=True)
class DomainQuery:
    """`/domain/NAME`."""

    name: names.Name


@dataclass(frozen=True, slots=True)
class NameserverQuery:
    """`/nameserver/NAME`."""

    name: names.Name


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """`/entity/HANDLE`: a registrar by IANA id, or a contact by handle."""

    handle: str


@dataclass(frozen=True, slots=True)
class HelpQuery:
    """`/help`."""


Query = DomainQuery | NameserverQuery | EntityQuery | HelpQuery | SearchPath

#: RFC 9082 §3.2 searches and RFC 9536 reverse search: their parameters are read by
#: `rdap.search.parse` once the handler knows searches are on.
_SEARCHES = frozenset({"domains", "nameservers", "entities"})


def parse(path: str) -> Query:
    """Parse a decoded request path (leading slash, no query string)."""
    if "\x00" in path:
        raise BadQuery("The query contains a NUL character.")
    parts = path.split("/")[1:] if path.startswith("/") else path.split("/")
    if parts and parts[-1] == "" and len(parts) > 1 and parts[0] == "help":
        parts = parts[:-1]
    kind = parts[0] if parts else ""
    rest = parts[1:]
    if kind == "help" and not rest:
        return HelpQuery()
    if kind in ("ip", "autnum"):
        # RFC 7480 §5.5 / ICANN TIG: a domain registry does not serve number resources.
        raise NotImplementedQuery(f"This server does not serve {kind} queries.")
    if kind in _SEARCHES:
        return SearchPath(tuple(parts))
    if kind in ("domain", "nameserver", "entity"):
        if len(rest) != 1 or not rest[0]:
            raise BadQuery(f"A {kind} query takes exactly one path segment: /{kind}/VALUE.")
        value = rest[0]
        if kind == "entity":
            return EntityQuery(_handle(value))
        name = names.from_text(value)  # raises InvalidName (400)
        if kind == "domain":
            return DomainQuery(name)
        return NameserverQuery(name)
    raise BadQuery("Not an RDAP query: expected /domain, /nameserver, /entity or /help.")


def _handle(value: str) -> str:
    if len(value) > MAX_HANDLE:
        raise BadQuery("The handle is too long.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in value):
        raise BadQuery("The handle contains spaces or control characters.")
    return value
