"""Byte-level table for the port-43 parser and line framing (whois43.protocol)."""

from __future__ import annotations

import ipaddress
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import names
from registry.errors import BadQuery, InvalidName, RddsError
from whois43 import protocol as p

NAME = p.NameQuery


def _name(text: str) -> object:
    from registry import names

    return names.from_text(text)


# (bytes on the wire, expected query value) — terminator handling is LineReader's job, so
# each case goes through both: the reader, then the parser.
GOOD: list[tuple[bytes, object]] = [
    (b"example.coop\r\n", NAME(_name("example.coop"))),  # CR LF
    (b"example.coop\n", NAME(_name("example.coop"))),  # bare LF
    (b"EXAMPLE.COOP\r\n", NAME(_name("example.coop"))),  # names are case-insensitive
    (b"example.coop.\r\n", NAME(_name("example.coop"))),  # one trailing dot
    (b"  example.coop  \r\n", NAME(_name("example.coop"))),  # surrounding blanks
    (b"=example.coop\r\n", NAME(_name("example.coop"))),  # `=` prefix tolerated
    (b"= example.coop\r\n", NAME(_name("example.coop"))),
    (b"domain example.coop\r\n", p.DomainQuery(_name("example.coop"))),
    (b"DOMAIN example.coop\r\n", p.DomainQuery(_name("example.coop"))),  # keyword any case
    (b"Domain\texample.coop\r\n", p.DomainQuery(_name("example.coop"))),  # TAB separates
    (b"=domain example.coop\r\n", p.DomainQuery(_name("example.coop"))),
    ("مثال.عراق\r\n".encode(), NAME(_name("xn--mgbh0fb.xn--mgbtx2b"))),  # U-labels
    (b"xn--mgbh0fb.xn--mgbtx2b\r\n", NAME(_name("xn--mgbh0fb.xn--mgbtx2b"))),  # A-labels
    (b"XN--MGBH0FB.XN--MGBTX2B\r\n", NAME(_name("xn--mgbh0fb.xn--mgbtx2b"))),
    ("domain Café.org\r\n".encode(), p.DomainQuery(_name("xn--caf-dma.org"))),
    (b"nameserver ns1.example.coop\r\n", p.NameserverQuery(_name("ns1.example.coop"))),
    (b"NameServer NS1.Example.Coop\r\n", p.NameserverQuery(_name("ns1.example.coop"))),
    (b"nameserver 45.142.220.11\r\n", p.AddressQuery("45.142.220.11")),
    (b"45.142.220.11\r\n", p.AddressQuery("45.142.220.11")),  # bare IPv4
    (b"2a0f:9400:7e11::53\r\n", p.AddressQuery("2a0f:9400:7e11::53")),  # bare IPv6
    (b"2A0F:9400:7E11:0:0:0:0:53\r\n", p.AddressQuery("2a0f:9400:7e11::53")),  # canonical
    (b"nameserver 2a0f:9400:7e11::53\r\n", p.AddressQuery("2a0f:9400:7e11::53")),
    (b"registrar 9100\r\n", p.RegistrarQuery("9100")),
    (b"REGISTRAR Alder Registrar Ltd\r\n", p.RegistrarQuery("Alder Registrar Ltd")),
    (b"registrar   Alder   Registrar Ltd\r\n", p.RegistrarQuery("Alder Registrar Ltd")),
    (b"example.coop", NAME(_name("example.coop"))),  # no newline, then EOF
]


@pytest.mark.parametrize(("wire", "expected"), GOOD)
def test_good_queries(wire: bytes, expected: object) -> None:
    reader = p.LineReader(1024)
    line = reader.feed(wire)
    if line is None:
        line = reader.eof()
    assert p.parse_query(line) == expected


BAD: list[tuple[bytes, type[RddsError]]] = [
    (b"\r\n", p.EmptyQuery),  # empty line
    (b"   \r\n", p.EmptyQuery),
    (b"=\r\n", p.EmptyQuery),
    ("\u00a0\u3000\r\n".encode(), p.EmptyQuery),  # Unicode spaces only
    (b"", p.EmptyQuery),  # EOF before anything
    ("\u3000\u2003".encode(), p.EmptyQuery),  # Unicode spaces only (split() drops them)
    (b"exa\x00mple.coop\r\n", p.ControlCharacters),  # NUL
    (b"example.coop\x1b[2J\r\n", p.ControlCharacters),  # terminal escape
    (b"exam\rple.coop\r\n", p.ControlCharacters),  # a lone CR inside the line
    (b"example.coop\x7f\r\n", p.ControlCharacters),  # DEL
    ("example\u0085.coop\r\n".encode(), p.ControlCharacters),  # C1 NEL
    ("example\u2028.coop\r\n".encode(), p.ControlCharacters),  # LINE SEPARATOR
    (b"\xff\xfeexample.coop\r\n", p.NotUtf8),  # invalid UTF-8
    (b"caf\xe9.org\r\n", p.NotUtf8),  # Latin-1, not UTF-8
    (b"\xed\xa0\x80.org\r\n", p.NotUtf8),  # an encoded surrogate
    (b"-x example.coop\r\n", p.UnknownFlag),  # unknown flag
    (b"-B example.coop\r\n", p.UnknownFlag),
    (b"domain -x example.coop\r\n", p.UnknownFlag),
    (b"exa*\r\n", p.UnsupportedSearch),  # wildcard
    (b"domain exa*\r\n", p.UnsupportedSearch),
    (b"%example%\r\n", p.UnsupportedSearch),
    (b"registrar Alder*\r\n", p.UnsupportedSearch),
    (b"nameserver ns?.example.coop\r\n", p.UnsupportedSearch),
    (b"domain\r\n", p.UnknownQuery),  # keyword without a value
    (b"domain a.coop b.coop\r\n", p.UnknownQuery),
    (b"registrant Dara Ashdown\r\n", p.UnknownQuery),  # no inverse search
    (b"example.coop extra\r\n", p.UnknownQuery),
    (b"exa_mple.coop\r\n", InvalidName),  # invalid names: one error
    (b"domain ab--cd.coop\r\n", InvalidName),
    (b"domain " + b"a" * 64 + b".coop\r\n", InvalidName),  # 64-octet label
    (b"xn--zz.coop\r\n", InvalidName),  # bad punycode
    (b"example..coop\r\n", InvalidName),
]


@pytest.mark.parametrize(("wire", "error"), BAD)
def test_bad_queries(wire: bytes, error: type[RddsError]) -> None:
    reader = p.LineReader(1024)
    line = reader.feed(wire)
    if line is None:
        line = reader.eof()
    with pytest.raises(error) as info:
        p.parse_query(line)
    message = info.value.message
    assert message and "\n" not in message and "\r" not in message


def test_line_of_exactly_the_limit_is_accepted() -> None:
    reader = p.LineReader(16)
    assert reader.feed(b"a" * 16 + b"\r\n") == b"a" * 16


def test_overlong_line_is_refused_before_the_newline_arrives() -> None:
    reader = p.LineReader(16)
    assert reader.feed(b"a" * 10) is None
    with pytest.raises(p.QueryTooLong, match="longer than 16 bytes"):
        reader.feed(b"a" * 8)
    assert reader.feed(b"more\r\n") is None  # nothing more is read after the error


def test_overlong_line_with_newline() -> None:
    with pytest.raises(p.QueryTooLong):
        p.LineReader(16).feed(b"a" * 17 + b"\n")


def test_overlong_line_at_eof() -> None:
    reader = p.LineReader(16)
    assert reader.feed(b"a" * 17) is None
    with pytest.raises(p.QueryTooLong):
        reader.eof()


def test_line_split_across_packets() -> None:
    reader = p.LineReader(1024)
    assert reader.feed(b"exam") is None
    assert reader.feed(b"ple.coop\r") is None
    assert reader.feed(b"\nignored") == b"example.coop"
    assert reader.feed(b"second query\r\n") is None  # RFC 3912: one query per connection


def test_buffer_is_bounded() -> None:
    reader = p.LineReader(1024)
    for _ in range(1025):
        try:
            reader.feed(b"a")
        except p.QueryTooLong:
            break
    assert len(reader._buf) <= 1024 + 2


def test_resolve_bare_names() -> None:
    served = frozenset({"coop", "org"})
    assert p.resolve(NAME(_name("example.coop")), served) == p.DomainQuery(_name("example.coop"))
    # Not one label under a served TLD: a host.
    for host in ("ns1.example.coop", "example.com", "coop"):
        assert p.resolve(NAME(_name(host)), served) == p.NameserverQuery(_name(host))
    q = p.DomainQuery(_name("example.com"))
    assert p.resolve(q, served) is q


def test_describe_never_names_the_value() -> None:
    q = p.RegistrarQuery("Alder Registrar Ltd")
    assert p.describe(q) == "registrar"


def _is_control(ch: str) -> bool:
    # The oracle, written apart from the parser: Cc, Zl, Zp are controls; TAB is whitespace.
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t"


def _check_query(query: p.Query) -> None:
    """A parsed query holds normalised values only."""
    match query:
        case p.DomainQuery(name=n) | p.NameserverQuery(name=n) | p.NameQuery(name=n):
            assert names.from_text(n.ldh) == n  # a validated, normalised name
        case p.AddressQuery(ip=ip):
            assert str(ipaddress.ip_address(ip)) == ip  # canonical text form
        case p.RegistrarQuery(key=key):
            assert key and key == key.strip() and not any(c in key for c in "*%?")
        case _:  # pragma: no cover
            raise AssertionError(query)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_normalised_query_or_the_right_error(data: bytes) -> None:
    # Mutation that fails this: decode with errors="replace" (NotUtf8 never raised).
    reader = p.LineReader(128)
    try:
        line = reader.feed(data)
        if line is None:
            line = reader.eof()
    except p.QueryTooLong:
        assert len(data.split(b"\n", 1)[0].rstrip(b"\r")) > 128
        return
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(p.NotUtf8):
            p.parse_query(line)
        return
    if any(_is_control(ch) for ch in text):
        with pytest.raises(p.ControlCharacters):
            p.parse_query(line)
        return
    try:
        query = p.parse_query(line)
    except RddsError as exc:
        assert isinstance(exc, BadQuery), type(exc)  # a client error, never a 5xx
        assert exc.message.endswith(".")
    else:
        _check_query(query)


@given(st.text(max_size=80))
def test_any_text_gives_a_normalised_query_or_the_right_error(text: str) -> None:
    # Mutation that fails this: drop the control-character check from protocol.decode.
    line = text.encode("utf-8", "surrogatepass")
    if any(_is_control(ch) for ch in text) and not _is_surrogate(text):
        with pytest.raises(p.ControlCharacters):
            p.parse_query(line)
        return
    try:
        query = p.parse_query(line)
    except RddsError as exc:
        assert isinstance(exc, BadQuery), type(exc)
        if _is_surrogate(text):
            assert isinstance(exc, p.NotUtf8)
    else:
        _check_query(query)
        assert not any(ch in "*%?" for ch in text)  # a pattern is never a query


def _is_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
