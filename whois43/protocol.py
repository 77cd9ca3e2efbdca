"""Pure port-43 protocol (RFC 3912): bytes -> one query value, or a typed error. No I/O.

The server feeds received bytes into a `LineReader`, which enforces the line-length limit
and yields the query line; `parse_query` turns that line into a query value. Every failure
is a `registry.errors.RddsError` whose message is the one line the client is told.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass

from registry import names
from registry.errors import BadQuery, InvalidName, RddsError, Unavailable

# --- errors: each docstring is one line, one whole sentence: what the client reads ---------


class QueryTooLong(BadQuery):
    """The query is too long."""


class NotUtf8(BadQuery):
    """The query is not valid UTF-8 text."""


class ControlCharacters(BadQuery):
    """The query contains control characters."""


class EmptyQuery(BadQuery):
    """The query is empty: send a domain or server name, an IP address or `registrar NAME|ID`."""


class UnknownFlag(BadQuery):
    """This server takes no options (arguments starting with "-"); send just the name."""


class UnsupportedSearch(BadQuery):
    """Wildcard, partial and inverse searches are not offered on port 43."""


class UnknownQuery(BadQuery):
    """The query is not understood: send a domain or server name, an IP or `registrar NAME|ID`."""


class ReadTimeout(BadQuery):
    """No query was received in time."""


class RateLimited(Unavailable):
    """Query rate limit exceeded; try again later."""


class TooManyConnections(Unavailable):
    """Too many open connections from your network; try again later."""


class ServerBusy(Unavailable):
    """The server is busy; try again later."""


class ReplicaUnavailable(Unavailable):
    """The registry data is temporarily unavailable; try again later."""


class InternalError(RddsError):
    """Internal error; try again later."""


# --- framing -----------------------------------------------------------------------------

_LF = 0x0A


class LineReader:
    """Collects bytes up to the first LF; a query line longer than `max_bytes` is an error.

    `max_bytes` counts the line without its CR LF (or bare LF) terminator. The buffer never
    holds more than `max_bytes + 2` bytes, so a client that streams without a newline cannot
    grow the server's memory (security: slow-loris and memory exhaustion).
    """

    __slots__ = ("_buf", "_done", "max_bytes")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._done = False

    def feed(self, data: bytes) -> bytes | None:
        """Add received bytes; return the query line (terminator removed) once complete."""
        if self._done:
            return None  # RFC 3912: one query per connection; anything after it is ignored
        end = data.find(b"\n")
        if end < 0:
            self._buf += data
            # Allow one byte for a CR whose LF has not arrived yet.
            if len(self._buf) > self.max_bytes + 1:
                self._done = True
                self._buf.clear()
                raise QueryTooLong(f"The query is longer than {self.max_bytes} bytes.")
            return None
        self._buf += data[:end]
        return self._finish()

    def eof(self) -> bytes:
        """The client half-closed without a newline: the bytes so far are the query."""
        if self._done:
            return b""
        return self._finish()

    def _finish(self) -> bytes:
        self._done = True
        line = bytes(self._buf)
        self._buf.clear()
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > self.max_bytes:
            raise QueryTooLong(f"The query is longer than {self.max_bytes} bytes.")
        return line


# --- query values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainQuery:
    """`domain NAME`, or a bare name one label under a served TLD."""

    name: names.Name


@dataclass(frozen=True, slots=True)
class NameserverQuery:
    """`nameserver NAME`, or a bare name that is not a domain of ours."""

    name: names.Name


@dataclass(frozen=True, slots=True)
class AddressQuery:
    """`nameserver IP` or a bare IP: the name servers with that address."""

    ip: str  # canonical text form


@dataclass(frozen=True, slots=True)
class RegistrarQuery:
    """`registrar NAME|IANA-ID`."""

    key: str


@dataclass(frozen=True, slots=True)
class NameQuery:
    """A bare name: a domain or a host, decided by `resolve` against the served TLDs."""

    name: names.Name


Query = DomainQuery | NameserverQuery | AddressQuery | RegistrarQuery | NameQuery

_KEYWORDS = ("domain", "nameserver", "registrar")
#: Characters that would make a query a pattern rather than a name.
_WILDCARDS = frozenset("*%?")
#: Whitespace between a keyword and its argument. TAB is accepted like a space.
_SPACE = " \t"


def _is_control(ch: str) -> bool:
    # C0, DEL, C1 (Cc) and the Unicode line/paragraph separators (Zl, Zp).
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t"


def decode(line: bytes) -> str:
    """The query line as text: strict UTF-8, no control characters (TAB is whitespace)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise NotUtf8() from None
    # isprintable() is the fast path; the exact test runs per character only when it fails.
    if not text.isprintable() and any(_is_control(ch) for ch in text):
        raise ControlCharacters()
    return text


def parse_query(line: bytes) -> Query:
    """Parse one query line (terminator already removed) into a query value."""
    text = decode(line).strip(_SPACE)
    if text.startswith("="):
        # Some clients (and habits from the Verisign servers) prefix an exact-match `=`.
        text = text[1:].lstrip(_SPACE)
    if not text:
        raise EmptyQuery()
    words = text.replace("\t", " ").split()
    if not words:
        # Only Unicode spaces that are not in _SPACE (e.g. U+3000): still nothing to look up.
        raise EmptyQuery()
    if any(w.startswith("-") for w in words[:1]) or (
        words[0].lower() in _KEYWORDS and len(words) > 1 and words[1].startswith("-")
    ):
        raise UnknownFlag()
    keyword = words[0].lower()
    if keyword in _KEYWORDS:
        if len(words) == 1:
            raise UnknownQuery(f"The {keyword} query needs a value: `{keyword} VALUE`.")
        if keyword == "registrar":
            # Registrar names contain spaces: the rest of the line is the key.
            key = " ".join(words[1:])
            _no_wildcards(key)
            return RegistrarQuery(key)
        if len(words) > 2:
            raise UnknownQuery(f"The {keyword} query takes exactly one value.")
        value = words[1]
        _no_wildcards(value)
        if keyword == "nameserver":
            ip = _ip(value)
            if ip is not None:
                return AddressQuery(ip)
            return NameserverQuery(_name(value))
        return DomainQuery(_name(value))
    if len(words) > 1:
        raise UnknownQuery()
    value = words[0]
    _no_wildcards(value)
    ip = _ip(value)
    if ip is not None:
        return AddressQuery(ip)
    return NameQuery(_name(value))


def resolve(query: Query, served_tlds: frozenset[str] | set[str]) -> Query:
    """Decide what a bare name is: a domain when it is exactly one label under a served TLD,
    otherwise a host. Other queries are returned unchanged."""
    if isinstance(query, NameQuery):
        name = query.name
        if len(name.labels) == 2 and name.tld in served_tlds:
            return DomainQuery(name)
        return NameserverQuery(name)
    return query


def _no_wildcards(value: str) -> None:
    # Security: no pattern search on port 43 (it would enumerate registrants' names).
    if any(ch in _WILDCARDS for ch in value):
        raise UnsupportedSearch()


def _ip(value: str) -> str | None:
    if ":" not in value and not value.replace(".", "").isdigit():
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _name(value: str) -> names.Name:
    try:
        return names.from_text(value)
    except InvalidName:
        raise
    except Exception:  # pragma: no cover - defence in depth: idna may raise other errors
        raise InvalidName() from None


def describe(query: Query) -> str:
    """The query type for logs: never the value (it may name a person)."""
    match query:
        case DomainQuery():
            return "domain"
        case NameserverQuery():
            return "nameserver"
        case AddressQuery():
            return "address"
        case RegistrarQuery():
            return "registrar"
        case NameQuery():
            return "name"
    raise AssertionError(query)  # pragma: no cover
