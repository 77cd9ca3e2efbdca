"""Search pattern parsing (RFC 9082 §4.1): tables of accepted, refused and matched patterns."""

from __future__ import annotations

import pytest

from registry import patterns
from registry.errors import BadQuery, InvalidName, UnsupportedPattern
from registry.patterns import NamePattern, TextPattern

NAME_OK = [
    # text, labels, wildcard index, canonical text
    ("example.org", ("example", "org"), None, "example.org"),
    ("EXAMPLE.Org.", ("example", "org"), None, "example.org"),
    ("exam*.coop", ("exam", "coop"), 0, "exam*.coop"),
    ("EXAM*.CoOp", ("exam", "coop"), 0, "exam*.coop"),
    ("exam*.coop.", ("exam", "coop"), 0, "exam*.coop"),
    ("exam*", ("exam",), 0, "exam*"),
    ("*", ("",), 0, "*"),
    ("example.co*", ("example", "co"), 1, "example.co*"),
    ("example.*", ("example", ""), 1, "example.*"),
    ("café*.org", ("café", "org"), 0, "café*.org"),
    ("CAFÉ*.org", ("café", "org"), 0, "café*.org"),
    ("ｅｘａｍ*.org", ("exam", "org"), 0, "exam*.org"),  # full-width letters map (UTS #46)
    ("xn--caf*", ("xn--caf",), 0, "xn--caf*"),
    ("بيت*.عراق", ("بيت", "xn--mgbtx2b"), 0, "بيت*.xn--mgbtx2b"),
    ("مثال.عراق", ("xn--mgbh0fb", "xn--mgbtx2b"), None, "xn--mgbh0fb.xn--mgbtx2b"),
    ("ns1*.example.coop", ("ns1", "example", "coop"), 0, "ns1*.example.coop"),
    ("*.example.coop", ("", "example", "coop"), 0, "*.example.coop"),
    ("ns1.exam*.coop", ("ns1", "exam", "coop"), 1, "ns1.exam*.coop"),
    ("ns1.example.co*", ("ns1", "example", "co"), 2, "ns1.example.co*"),
    ("a-b*.org", ("a-b", "org"), 0, "a-b*.org"),
]


@pytest.mark.parametrize(("text", "labels", "wildcard", "canonical"), NAME_OK)
def test_name_patterns_parse(
    text: str, labels: tuple[str, ...], wildcard: int | None, canonical: str
) -> None:
    pattern = patterns.parse_name(text)
    assert pattern == NamePattern(labels, wildcard)
    assert pattern.text == canonical
    # The canonical text parses to the same pattern (what a cursor is bound to is stable).
    assert patterns.parse_name(pattern.text) == pattern


NAME_UNSUPPORTED = [
    "ex*le.org",  # '*' inside a label
    "*xample.org",
    "exam**.org",
    "exam*.co*",  # two asterisks
    "*.*",
]

NAME_INVALID = [
    "",
    "exam*..org",
    ".exam*",
    "ex am*.org",
    "exam_*.org",
    "-exam*.org",
    "exam*.o_rg",
    "a" * 64 + "*.org",
    "exam*." + "a" * 64,
    ("a" * 60 + ".") * 5 + "*",
    "ex\x00am*.org",
    "☃*.org",  # a symbol is not an IDNA2008 letter
    "\u0301a*.org",  # a label starting with a combining mark
]


@pytest.mark.parametrize("text", NAME_UNSUPPORTED)
def test_unsupported_wildcards_are_422(text: str) -> None:
    with pytest.raises(UnsupportedPattern) as info:
        patterns.parse_name(text)
    assert info.value.status == 422


@pytest.mark.parametrize("text", NAME_INVALID)
def test_malformed_name_patterns_are_400(text: str) -> None:
    with pytest.raises(InvalidName) as info:
        patterns.parse_name(text)
    assert info.value.status == 400


MATCHES = [
    # pattern, ldh name, unicode name, matches
    ("exam*.coop", "example.coop", None, True),
    ("exam*.coop", "exam.coop", None, True),
    ("exam*.coop", "example.org", None, False),
    ("exam*.coop", "xexample.coop", None, False),
    ("exam*", "example.coop", None, True),  # RFC 9082 §4.1: exam* matches example.com
    ("exam*", "example.org", None, True),
    ("exam*", "sub.example.org", None, False),
    ("example.co*", "example.coop", None, True),
    ("example.co*", "example.cx", None, False),
    ("example.org", "example.org", None, True),
    ("example.org", "example.coop", None, False),
    ("café*.org", "xn--caf12-9ra.org", "café12.org", True),
    ("café*.org", "cafe12.org", None, False),
    ("caf*.org", "xn--caf12-9ra.org", "café12.org", False),  # ASCII prefix: A-labels
    ("xn--caf*.org", "xn--caf12-9ra.org", "café12.org", True),
    ("ns1*.example.coop", "ns1.example.coop", None, True),
    ("ns1*.example.coop", "ns10.example.coop", None, True),
    ("ns1*.example.coop", "a.ns1.example.coop", None, False),
    ("ns1*.example.coop", "ns1.x.example.coop", None, False),
    ("*.example.coop", "ns2.example.coop", None, True),
    ("*.example.coop", "a.b.example.coop", None, False),
    ("ns1.exam*.coop", "ns1.example.coop", None, True),
    ("ns1.exam*.coop", "ns2.example.coop", None, False),
    ("ns1.example*", "ns1.example.coop", None, True),
    ("ns1.example*", "ns1.example-b.org", None, True),
]


@pytest.mark.parametrize(("text", "ldh", "unicode", "expected"), MATCHES)
def test_name_pattern_matches(text: str, ldh: str, unicode: str | None, expected: bool) -> None:
    assert patterns.parse_name(text).matches(ldh, unicode) is expected


LITERALS = [
    # pattern, forward literal (text order), reverse literal (labels reversed)
    ("exam*.coop", "exam", "coop.exam"),
    ("ns1*.example.coop", "ns1", "coop.example.ns1"),
    ("*.example.coop", "", "coop.example."),
    ("ns1.exam*.coop", "ns1.exam", "coop.exam"),
    ("ns1.example.co*", "ns1.example.co", "co"),
    ("ns1.example.coop", "ns1.example.coop", "coop.example.ns1"),
]


@pytest.mark.parametrize(("text", "forward", "reverse"), LITERALS)
def test_index_literals(text: str, forward: str, reverse: str) -> None:
    pattern = patterns.parse_name(text)
    assert (pattern.forward_literal, pattern.reverse_literal) == (forward, reverse)


def test_reverse_labels() -> None:
    assert patterns.reverse_labels("ns1.example.coop") == "coop.example.ns1"
    assert patterns.reverse_labels("org") == "org"


TEXT_OK = [
    ("Sami Calder", TextPattern("sami calder", False)),
    ("  Sami Calder  ", TextPattern("sami calder", False)),
    ("SAMI*", TextPattern("sami", True)),
    ("Ana *", TextPattern("ana ", True)),  # the space is part of the prefix
    ("*", TextPattern("", True)),
    ("Straße*", TextPattern("strasse", True)),  # case-folded
    ("Ölaf", TextPattern("ölaf", False)),
    ("O\u0308laf", TextPattern("ölaf", False)),  # NFC first
    ("C12-ORG", TextPattern("c12-org", False)),
    ("anna@MAIL.example", TextPattern("anna@mail.example", False)),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_OK)
def test_text_patterns_parse(text: str, expected: TextPattern) -> None:
    assert patterns.parse_text(text) == expected


@pytest.mark.parametrize("text", ["Sa*mi", "*Sami", "Sa**", "**"])
def test_text_wildcards_elsewhere_are_422(text: str) -> None:
    with pytest.raises(UnsupportedPattern):
        patterns.parse_text(text)


@pytest.mark.parametrize("text", ["", "   ", "Sami\x00", "Sami\u202e", "x" * 256, "a\nb"])
def test_bad_text_patterns_are_400(text: str) -> None:
    with pytest.raises(BadQuery) as info:
        patterns.parse_text(text)
    assert info.value.status == 400


TEXT_MATCHES = [
    ("Sami*", "Sami Calder", True),
    ("Sami*", "sami", True),
    ("Sami*", "Samira Oakes", True),
    ("Sami*", "Osami", False),
    ("Sami Calder", "SAMI CALDER", True),
    ("Sami Calder", "Sami Calders", False),
    ("Ölaf*", "O\u0308laf Berg", True),
    ("x*", "", False),
    ("x*", None, False),
]


@pytest.mark.parametrize(("text", "value", "expected"), TEXT_MATCHES)
def test_text_pattern_matches(text: str, value: str | None, expected: bool) -> None:
    assert patterns.parse_text(text).matches(value) is expected


BOUNDS = [
    ("exam", "exan"),
    ("a", "b"),
    ("café", "cafê"),
    ("", None),
    ("z\U0010ffff", None),
]


@pytest.mark.parametrize(("prefix", "bound"), BOUNDS)
def test_upper_bound(prefix: str, bound: str | None) -> None:
    assert patterns.upper_bound(prefix) == bound
    if bound is not None:
        # Every string with the prefix sorts below the bound (SQLite BINARY order is code
        # point order for UTF-8 text).
        assert prefix + "\U0010fffe" < bound


@pytest.mark.parametrize(
    ("street", "city", "pc", "text"),
    [
        (
            ("12 Example Lane", "Flat 3"),
            "Exampleton",
            "EX1 2MP",
            "12 Example Lane, Flat 3, Exampleton, EX1 2MP",
        ),
        (("9 Quiet Row",), "Sampleton", None, "9 Quiet Row, Sampleton"),
        # Parts the address lacks are left out, never joined as empty ones: the address
        # matches on what it has (a deposit may omit the city).
        (("9 Quiet Row",), "", "SW1A 1AA", "9 Quiet Row, SW1A 1AA"),
        ((), "", "SW1A 1AA", "SW1A 1AA"),
        ((), "Sampleton", "", "Sampleton"),
        ((), "", None, ""),
    ],
)
def test_addr_text(street: tuple[str, ...], city: str, pc: str | None, text: str) -> None:
    # Mutation that fails it: addr_text joining [*street, city, pc] without dropping empty
    # parts (", SW1A 1AA").
    assert patterns.addr_text(street, city, pc) == text
