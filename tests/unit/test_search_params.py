"""Search request parsing (RFC 9082 §3.2, RFC 8977, RFC 8982, RFC 9536): tables of accepted
and refused parameters, the breadth limit, ordering and keyset paging."""

from __future__ import annotations

import ipaddress

import pytest

from core.search import (
    FieldSet,
    Item,
    SearchRequest,
    SearchSettings,
    Sort,
    Target,
    check_breadth,
    page_after,
)
from rdap import search
from registry.errors import BadQuery, NotImplementedQuery, PatternTooBroad, UnsupportedPattern
from registry.model import ContactRole
from registry.patterns import NamePattern, TextPattern

Params = list[tuple[str, str]]

OK: list[tuple[str, Params, Target, str, object, Sort]] = [
    (
        "domains",
        [("name", "exam*.coop")],
        Target.DOMAINS,
        "name",
        NamePattern(("exam", "coop"), 0),
        Sort("name"),
    ),
    (
        "domains",
        [("nsLdhName", "ns1.example.coop"), ("sort", "registrationDate:d")],
        Target.DOMAINS,
        "nsLdhName",
        NamePattern(("ns1", "example", "coop")),
        Sort("registrationDate", True),
    ),
    (
        "domains",
        [("nsIp", "2A0F:9400:7E11::53")],
        Target.DOMAINS,
        "nsIp",
        ipaddress.ip_address("2a0f:9400:7e11::53"),
        Sort("name"),
    ),
    (
        "nameservers",
        [("name", "ns1*.example.coop"), ("sort", "name:a")],
        Target.NAMESERVERS,
        "name",
        NamePattern(("ns1", "example", "coop"), 0),
        Sort("name"),
    ),
    (
        "nameservers",
        [("ip", "45.142.220.11")],
        Target.NAMESERVERS,
        "ip",
        ipaddress.ip_address("45.142.220.11"),
        Sort("name"),
    ),
    (
        "entities",
        [("fn", "Hostmaster*"), ("_", "12345")],  # unknown parameters are ignored
        Target.ENTITIES,
        "fn",
        TextPattern("hostmaster", True),
        Sort("fn"),
    ),
    (
        "entities",
        [("handle", "R9100*"), ("sort", "fn:d")],
        Target.ENTITIES,
        "handle",
        TextPattern("r9100", True),
        Sort("fn", True),
    ),
    (
        "domains/reverse_search/entity",
        [("email", "*"), ("role", "registrant")],
        Target.REVERSE,
        "email",
        TextPattern("", True),
        Sort("name"),
    ),
]


@pytest.mark.parametrize(("path", "params", "target", "prop", "pattern", "sort"), OK)
def test_search_requests_parse(
    path: str, params: Params, target: Target, prop: str, pattern: object, sort: Sort
) -> None:
    parsed = search.parse(path.split("/"), params)
    assert parsed.request.target is target
    assert parsed.request.prop == prop
    assert parsed.request.pattern == pattern
    assert parsed.request.sort == sort
    assert parsed.field_set is FieldSet.FULL
    assert parsed.count is False
    assert parsed.params == tuple(params)


def test_controls_parse() -> None:
    parsed = search.parse(
        ["domains", "reverse_search", "entity"],
        [
            ("fn", "Sami*"),
            ("role", "technical"),
            ("fieldSet", "brief"),
            ("count", "true"),
            ("cursor", "1abc"),
        ],
    )
    assert parsed.request.role is ContactRole.TECH
    assert parsed.field_set is FieldSet.BRIEF
    assert parsed.count is True
    assert parsed.request.cursor == "1abc"
    assert parsed.request.query == "domains/reverse_search/entity?fn=sami*&role=technical"


BAD: list[tuple[str, Params]] = [
    ("domains", []),  # no search property
    ("domains", [("fn", "x")]),  # not a domain search property
    ("domains", [("name", "a.org"), ("nsLdhName", "ns1.a.org")]),  # two properties
    ("domains", [("name", "a.org"), ("name", "b.org")]),  # repeated
    ("domains", [("name", "a.org"), ("sort", "fn")]),  # not a domain sort property
    ("domains", [("name", "a.org"), ("sort", "name:x")]),
    ("domains", [("name", "a.org"), ("sort", "name,registrationDate")]),
    ("domains", [("name", "a.org"), ("sort", "name"), ("sort", "name:d")]),
    ("domains", [("name", "a.org"), ("fieldSet", "tiny")]),
    ("domains", [("name", "a.org"), ("count", "yes")]),
    ("domains", [("name", "a.org"), ("cursor", "")]),
    ("domains", [("name", "a.org"), ("role", "registrant")]),  # role: reverse search only
    ("domains", [("nsIp", "999.1.1.1")]),
    ("domains", [("name", "a..org")]),
    ("nameservers", [("ip", "example.org")]),
    ("entities", [("fn", "")]),
    ("entities", [("handle", "A\x00")]),
    ("domains/reverse_search/entity", [("fn", "x"), ("role", "owner")]),
    ("domains/reverse_search/entity", [("fn", "x"), ("email", "y")]),
    ("domains/extra", [("name", "a.org")]),
    ("entities/x", [("fn", "a")]),
]


@pytest.mark.parametrize(("path", "params"), BAD)
def test_bad_search_requests_are_400(path: str, params: Params) -> None:
    with pytest.raises(BadQuery) as info:
        search.parse(path.split("/"), params)
    assert info.value.status == 400


@pytest.mark.parametrize(
    "path", ["domains/reverse_search/nameserver", "nameservers/reverse_search/entity"]
)
def test_other_reverse_searches_are_501(path: str) -> None:
    with pytest.raises(NotImplementedQuery):
        search.parse(path.split("/"), [("fn", "x")])


@pytest.mark.parametrize(
    ("path", "params"),
    [("domains", [("name", "ex*le.org")]), ("entities", [("fn", "Sa*mi")])],
)
def test_unsupported_patterns_are_422(path: str, params: Params) -> None:
    with pytest.raises(UnsupportedPattern) as info:
        search.parse(path.split("/"), params)
    assert info.value.status == 422


SETTINGS = SearchSettings(min_literal=3)
BREADTH: list[tuple[str, Params, bool]] = [
    # path, params, runs (False: 422 too broad)
    ("domains", [("name", "*")], False),
    ("domains", [("name", "a*")], False),
    ("domains", [("name", "ab*.coop")], False),
    ("domains", [("name", "abc*.coop")], True),
    ("domains", [("name", "abc*")], True),
    ("domains", [("name", "example.*")], True),  # exact first label, few TLDs
    ("domains", [("name", "example.org")], True),
    ("domains", [("name", "ca*.org")], False),
    ("domains", [("name", "café*.org")], True),
    ("domains", [("nsLdhName", "*.example.coop")], True),  # reversed-name index
    ("domains", [("nsLdhName", "ns*")], False),
    ("nameservers", [("name", "ns1*.example.coop")], True),
    ("nameservers", [("name", "*.co")], False),
    ("nameservers", [("name", "ns*")], False),
    ("entities", [("fn", "*")], False),
    ("entities", [("fn", "Sa*")], False),
    ("entities", [("fn", "Sam*")], True),
    ("entities", [("fn", "Sa")], True),  # exact
    ("domains/reverse_search/entity", [("email", "*")], False),
]


@pytest.mark.parametrize(("path", "params", "runs"), BREADTH)
def test_breadth_limit(path: str, params: Params, runs: bool) -> None:
    request = search.parse(path.split("/"), params).request
    if runs:
        check_breadth(request, SETTINGS)
    else:
        with pytest.raises(PatternTooBroad) as info:
            check_breadth(request, SETTINGS)
        assert info.value.status == 422


def test_breadth_limit_is_configurable() -> None:
    request = search.parse(["entities"], [("fn", "S*")]).request
    check_breadth(request, SearchSettings(min_literal=1))
    with pytest.raises(PatternTooBroad):
        check_breadth(request, SearchSettings(min_literal=2))


def _items(*keys: str) -> list[Item[str]]:
    return [Item((k, k), k) for k in keys]


PAGES = [
    # keys, sort, after, size, expected page, more
    (("c", "a", "b"), Sort("name"), None, 2, ["a", "b"], True),
    (("c", "a", "b"), Sort("name"), ("b", "b"), 2, ["c"], False),
    (("c", "a", "b"), Sort("name", True), None, 2, ["c", "b"], True),
    (("c", "a", "b"), Sort("name", True), ("b", "b"), 2, ["a"], False),
    # The position is a key: an object removed since keeps its place.
    (("a", "c", "d"), Sort("name"), ("b", "b"), 2, ["c", "d"], False),
    ((), Sort("name"), None, 2, [], False),
]


@pytest.mark.parametrize(("keys", "sort", "after", "size", "expected", "more"), PAGES)
def test_keyset_pages(
    keys: tuple[str, ...],
    sort: Sort,
    after: tuple[str, ...] | None,
    size: int,
    expected: list[str],
    more: bool,
) -> None:
    got, has_more = page_after(_items(*keys), sort, after, size)
    assert [i.value for i in got] == expected
    assert has_more is more


def test_settings_problems() -> None:
    assert SearchSettings().problems() == []
    assert ("page_size", "expected at least 1") in SearchSettings(page_size=0).problems()
    assert SearchSettings(page_size=10, max_results=5).problems() == [
        ("page_size", "expected at most max_results")
    ]
    assert "secret" not in repr(SearchSettings(secret="s3cr3t"))


def test_request_query_is_canonical() -> None:
    a = search.parse(["domains"], [("name", "EXAM*.CoOp")]).request
    b = search.parse(["domains"], [("name", "exam*.coop"), ("x", "1")]).request
    assert a.query == b.query == "domains?name=exam*.coop"
    assert isinstance(a, SearchRequest)


LINKS = [
    (
        [("name", "exam*.coop"), ("cursor", "old")],
        [("cursor", "new")],
        (),
        "https://r.example/domains?name=exam*.coop&cursor=new",
    ),
    (
        [("fn", "Sami Calder"), ("sort", "fn")],
        [("sort", "fn:d")],
        ("cursor",),
        "https://r.example/entities?fn=Sami%20Calder&sort=fn:d",
    ),
    ([("name", "a&b=c")], [], (), "https://r.example/domains?name=a%26b%3Dc"),
]


@pytest.mark.parametrize(("params", "set_", "drop", "expected"), LINKS)
def test_links(params: Params, set_: Params, drop: tuple[str, ...], expected: str) -> None:
    path = expected.split("?")[0].rsplit("/", 1)[1]
    assert search.link("https://r.example/", path, params, set_=set_, drop=drop) == expected
