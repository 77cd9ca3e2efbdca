"""The search box: what a person typed -> one query value, or a typed error. Pure, no I/O.

One box takes a domain name, a nameserver name, a registrar (name, IANA Registrar ID or
registry id) or an IP address, as a person would type them: any case, U-labels or A-labels,
a trailing dot, surrounding spaces, or a pasted URL's host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from registry import names
from registry.errors import BadQuery, InvalidName

#: Longer input is refused before any parsing (a name is at most 253 octets; registrar
#: names are short).
MAX_QUERY_CHARS = 255


class EmptyQuery(BadQuery):
    """Type a domain name, a nameserver, a registrar or an IP address."""


class QueryTooLong(BadQuery):
    """That is longer than any name this service holds."""


class NoWildcards(BadQuery):
    """Wildcard and partial searches are not offered: type the whole name."""


@dataclass(frozen=True, slots=True)
class NameLookup:
    """A domain or host name; a domain when it is one label under a served TLD."""

    name: names.Name


@dataclass(frozen=True, slots=True)
class AddressLookup:
    """An IP address: the nameservers that have it."""

    ip: str  # canonical text form


@dataclass(frozen=True, slots=True)
class RegistrarLookup:
    """A registrar by IANA Registrar ID, registry id or exact name."""

    key: str


Query = NameLookup | AddressLookup | RegistrarLookup

_WILDCARDS = frozenset("*%?")
#: Full stops UTS #46 maps to "." (a name typed with an ideographic full stop is a name).
_DOTS = (".", "\uff0e", "\u3002", "\uff61")


def _control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in text)


def _strip_url(text: str) -> str:
    # A pasted "https://example.org/path" means its host.
    lower = text.lower()
    for scheme in ("https://", "http://"):
        if lower.startswith(scheme):
            rest = text[len(scheme) :]
            host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            host = host.rsplit("@", 1)[-1]
            if not host.startswith("[") and host.count(":") == 1:
                host = host.split(":", 1)[0]  # a port is not part of the name
            return host
    return text


def parse(text: str) -> Query:
    """Classify the search box's text."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooLong()
    if _control(text):
        raise BadQuery("The search contains control characters.")
    text = " ".join(text.split())
    if not text:
        raise EmptyQuery()
    host = _strip_url(text)
    if any(c in _WILDCARDS for c in host):
        raise NoWildcards()
    try:
        return AddressLookup(str(ipaddress.ip_address(host.strip("[]"))))
    except ValueError:
        pass
    if " " in host or not any(dot in host.rstrip(".") for dot in _DOTS):
        # Registrar names have spaces; IANA ids and registry ids are single tokens.
        return RegistrarLookup(text)
    try:
        return NameLookup(names.from_text(host))
    except InvalidName:
        raise
    except Exception:  # pragma: no cover - defence in depth: idna may raise other errors
        raise InvalidName() from None


def is_domain(query: NameLookup, served_tlds: frozenset[str] | set[str]) -> bool:
    """True when the name is exactly one label under a served TLD (ours to answer)."""
    return len(query.name.labels) == 2 and query.name.tld in served_tlds
