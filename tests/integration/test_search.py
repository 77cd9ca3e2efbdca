"""RDAP searches on the demo replica through make_app: every search and parameter, results
equal to a brute-force reading of the replica and to the lookups' answers, paging, sorting,
field sets, limits, cursors and /help."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import pytest
from aiohttp.test_utils import TestClient

from conformance.check import check_response
from conformance.findings import Severity
from core.lookup import Lookup
from core.search import SearchSettings
from core.searcher import Searcher
from rdap.rates import Budget, Budgets, RatePolicy
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import Policy, default_policy
from registry import names, patterns
from replica.store import SqliteStore, open_store
from tests.integration.conftest import BASE

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def connect(store: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]]) -> MakeClient:
    async def make(
        access: Any = None,
        policy: Policy | None = None,
        settings: SearchSettings | None = None,
        **kw: Any,
    ) -> Client:
        policy = policy or default_policy()
        # A generous time budget: the test machine is shared (the budget has its own test).
        settings = settings or SearchSettings()
        if settings.time_budget == SearchSettings().time_budget:
            settings = dataclasses.replace(settings, time_budget=60.0)
        searcher = Searcher(store, policy, settings, **kw)
        app = make_app(
            Lookup(store, policy),
            RdapConfig(base_url=BASE, port43="whois.registry.example", tos_url=BASE + "terms"),
            access,
            searcher=searcher,
        )
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(connect: MakeClient) -> Client:
    return await connect()


async def get(client: Client, path: str, **kw: Any) -> tuple[int, dict[str, str], Any]:
    async with client.get(path, **kw) as resp:
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


def names_of(doc: dict[str, Any], member: str = "domainSearchResults") -> list[str]:
    return [r.get("ldhName") or r.get("handle") for r in doc[member]]


def rows(replica: Path, sql: str, *args: Any) -> list[Any]:
    conn = sqlite3.connect(replica)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# --- domains -------------------------------------------------------------------------------

DOMAIN_PATTERNS = [
    "exam*.coop",
    "exam*",
    "example.*",
    "example.co*",
    "example.org",
    "EXAMPLE.ORG",
    "cedar*.org",
    "xn--*",
    "xn--mgbh0fb.xn--mgbtx2b",
    "مثال.عراق",
    "مثا*.عراق",
    "café*",
    "stra*.gs",
    "nosuchname*.org",
    "example.invalid",
    "a.example.org",
]


def brute_force_domains(replica: Path, text: str) -> list[str]:
    pattern = patterns.parse_name(text)
    found = [
        name
        for name, uname in rows(replica, "SELECT name, uname FROM domain")
        if len(name.split(".")) == 2 and pattern.matches(name, uname)
    ]
    return sorted(found)


@pytest.mark.parametrize("text", DOMAIN_PATTERNS)
async def test_domain_name_search_finds_what_the_replica_holds(
    client: Client, demo_replica: Path, text: str
) -> None:
    # GIVEN a pattern WHEN searched THEN the results are exactly the matching names, in order.
    status, _, doc = await get(client, f"/domains?name={quote(text)}&count=true")
    assert status == 200, doc
    expected = brute_force_domains(demo_replica, text)
    assert names_of(doc) == expected[:50]
    assert doc.get("paging_metadata", {}).get("totalCount") == len(expected)


async def test_showcase_patterns(client: Client) -> None:
    assert names_of((await get(client, "/domains?name=exam*.coop"))[2]) == ["example.coop"]
    assert names_of((await get(client, "/domains?name=example.*"))[2]) == [
        "example.coop",
        "example.org",
    ]
    idn = (await get(client, "/domains?name=" + quote("مثا*.عراق")))[2]
    assert names_of(idn) == ["xn--mgbh0fb.xn--mgbtx2b"]
    assert idn["domainSearchResults"][0]["unicodeName"] == "مثال.عراق"


async def test_domain_results_are_their_lookups(client: Client) -> None:
    # Each result is its lookup's answer, minus the members only the top level carries;
    # link values name the request, which differs.
    _, _, doc = await get(client, "/domains?name=exam*")
    for result in doc["domainSearchResults"]:
        _, _, lookup = await get(client, f"/domain/{result['ldhName']}")
        for key in ("notices", "rdapConformance", "redacted"):
            lookup.pop(key, None)
        assert _without_values(result) == _without_values(lookup)


def _without_values(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_values(v) for k, v in doc.items() if k != "value"}
    if isinstance(doc, list):
        return [_without_values(v) for v in doc]
    return doc


async def test_redactions_of_results_resolve_in_the_answer(client: Client) -> None:
    import jsonpath_rfc9535 as jsonpath

    _, _, doc = await get(client, "/domains?name=example.*")
    assert doc["redacted"]
    for entry in doc["redacted"]:
        if entry["method"] == "emptyValue":
            assert jsonpath.find(entry["postPath"], doc), entry


async def test_by_nameserver_and_address(client: Client, demo_replica: Path) -> None:
    assert names_of((await get(client, "/domains?nsLdhName=ns1.example.coop"))[2]) == [
        "example.coop"
    ]
    assert names_of((await get(client, "/domains?nsLdhName=*.example.coop"))[2]) == ["example.coop"]
    assert names_of((await get(client, "/domains?nsIp=45.142.220.11"))[2]) == ["example.coop"]
    assert names_of((await get(client, "/domains?nsIp=2A0F:9400:7E11::53"))[2]) == ["example.coop"]
    shared = "ns1.dns.alder-registrar.example"
    expected = sorted(
        n for (n,) in rows(demo_replica, "SELECT domain FROM domain_ns WHERE host = ?", shared)
    )
    _, _, doc = await get(client, f"/domains?nsLdhName={shared}&count=true")
    assert doc["paging_metadata"]["totalCount"] == len(expected)
    assert names_of(doc) == expected[:50]


# --- nameservers ---------------------------------------------------------------------------

NS_PATTERNS = [
    "ns1.example.coop",
    "ns1*.example.coop",
    "*.example.coop",
    "ns*.example.coop",
    "ns1.exam*.coop",
    "*.dns.alder-registrar.example",
    "ns1.dns.alder*",
    "nosuch*.example",
]


@pytest.mark.parametrize("text", NS_PATTERNS)
async def test_nameserver_search_finds_what_the_replica_holds(
    client: Client, demo_replica: Path, text: str
) -> None:
    pattern = patterns.parse_name(text)
    expected = sorted(
        n for (n,) in rows(demo_replica, "SELECT name FROM host") if pattern.matches(n)
    )
    status, _, doc = await get(client, f"/nameservers?name={quote(text)}")
    assert status == 200, doc
    assert names_of(doc, "nameserverSearchResults") == expected[:50]


async def test_nameservers_by_address(client: Client) -> None:
    _, _, doc = await get(client, "/nameservers?ip=2a0f:9400:7e11::53")
    assert names_of(doc, "nameserverSearchResults") == ["ns1.example.coop"]
    result = doc["nameserverSearchResults"][0]
    _, _, lookup = await get(client, "/nameserver/ns1.example.coop")
    for key in ("notices", "rdapConformance"):
        lookup.pop(key)
    assert _without_values(result) == _without_values(lookup)


# --- entities ------------------------------------------------------------------------------


async def test_registrars_are_found_by_name_and_handle(client: Client) -> None:
    _, _, by_name = await get(client, "/entities?fn=Alder*")
    assert names_of(by_name, "entitySearchResults") == ["9100"]
    _, _, by_handle = await get(client, "/entities?handle=910*")
    assert names_of(by_handle, "entitySearchResults") == [str(9100 + i) for i in range(10)]
    _, _, lookup = await get(client, "/entity/9100")
    for key in ("notices", "rdapConformance"):
        lookup.pop(key)
    assert _without_values(by_name["entitySearchResults"][0]) == _without_values(lookup)


async def test_a_public_handle_is_found_as_its_lookup_shows_it(client: Client) -> None:
    # EXCOOP-1 is a verified cooperative: its handle is published, its contact name is not.
    _, _, doc = await get(client, "/entities?handle=excoop-1")
    (result,) = doc["entitySearchResults"]
    _, _, lookup = await get(client, "/entity/EXCOOP-1")
    redacted = lookup.pop("redacted")
    for key in ("notices", "rdapConformance"):
        lookup.pop(key)
    assert _without_values(result) == _without_values(lookup)
    assert len(doc["redacted"]) == len(redacted)
    assert all(
        e["postPath" if "postPath" in e else "prePath"].startswith("$.entitySearchResults[0]")
        for e in doc["redacted"]
    )


WITHHELD = [
    ("fn", "Sami Calder"),  # an at-risk journalist
    ("fn", "Sami*"),
    ("fn", "Dara Ashdown"),  # a natural person
    ("fn", "Membership Office"),  # a legal person's contact name
    ("fn", "Lena Birchley"),  # consented name, but the handle is withheld
    ("handle", "JOURNO-1"),
    ("handle", "EXORG-1"),
    ("handle", "CONSENT-1"),
]


@pytest.mark.parametrize(("prop", "value"), WITHHELD)
async def test_withheld_values_never_match_for_the_public(
    client: Client, prop: str, value: str
) -> None:
    status, _, doc = await get(client, f"/entities?{prop}={quote(value)}&count=true")
    assert status == 200
    assert doc["entitySearchResults"] == []
    assert doc["paging_metadata"] == {"totalCount": 0}
    assert "redacted" not in doc


# --- paging, sorting, field sets ---------------------------------------------------------


async def test_paging_walks_the_whole_result_set_once(
    connect: MakeClient, demo_replica: Path
) -> None:
    client = await connect(settings=SearchSettings(page_size=7))
    expected = brute_force_domains(demo_replica, "xn--*")
    assert len(expected) > 14  # at least three pages
    seen: list[str] = []
    url = "/domains?name=xn--*&count=true"
    number = 1
    while True:
        status, _, doc = await get(client, url)
        assert status == 200
        meta = doc["paging_metadata"]
        assert meta["totalCount"] == len(expected)
        assert meta["pageSize"] == 7 and meta["pageNumber"] == number
        seen += names_of(doc)
        links = meta.get("links", [])
        if not links:
            break
        (nxt,) = links
        assert nxt["rel"] == "next"
        parts = urlsplit(nxt["href"])
        url = f"{parts.path}?{parts.query}"
        number += 1
    assert seen == expected


@pytest.mark.parametrize(
    ("sort", "action"),
    [
        ("registrationDate", "registration"),
        ("expirationDate", "expiration"),
        ("lastChangedDate", "last changed"),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
async def test_sorting_by_dates(
    connect: MakeClient, sort: str, action: str, descending: bool
) -> None:
    client = await connect(settings=SearchSettings(page_size=5))
    suffix = ":d" if descending else ""
    url = f"/domains?name=xn--*&sort={sort}{suffix}"
    keys: list[tuple[str, str]] = []
    while url:
        _, _, doc = await get(client, url)
        assert doc["sorting_metadata"]["currentSort"] == sort + suffix
        for result in doc["domainSearchResults"]:
            date = next(
                (e["eventDate"] for e in result["events"] if e["eventAction"] == action), ""
            )
            keys.append((date, result["ldhName"]))
        links = doc.get("paging_metadata", {}).get("links", [])
        url = (
            urlsplit(links[0]["href"]).path + "?" + urlsplit(links[0]["href"]).query
            if links
            else ""
        )
    assert keys == sorted(keys, reverse=descending)
    assert len(keys) == len(set(keys))


async def test_sort_by_name_descending(client: Client, demo_replica: Path) -> None:
    _, _, doc = await get(client, "/domains?name=exam*&sort=name:d")
    assert names_of(doc) == sorted(brute_force_domains(demo_replica, "exam*"), reverse=True)


@pytest.mark.parametrize("field_set", ["id", "brief", "full"])
async def test_field_sets(client: Client, field_set: str) -> None:
    _, _, doc = await get(client, f"/domains?name=example.*&fieldSet={field_set}")
    assert doc["subsetting_metadata"]["currentFieldSet"] == field_set
    first = doc["domainSearchResults"][0]
    if field_set == "id":
        assert first == {"objectClassName": "domain", "ldhName": "example.coop"}
    elif field_set == "brief":
        assert "entities" not in first and first["links"][0]["rel"] == "self"
    else:
        assert "entities" in first
    assert "subsetting" in doc["rdapConformance"]


# --- limits ------------------------------------------------------------------------------

TOO_BROAD = [
    "/domains?name=*",
    "/domains?name=a*",
    "/domains?name=ex*.coop",
    "/domains?nsLdhName=ns*",
    "/nameservers?name=*.co",
    "/entities?fn=*",
    "/entities?fn=Sa*",
    "/entities?handle=C1*",
]


@pytest.mark.parametrize("path", TOO_BROAD)
async def test_too_broad_is_422(client: Client, path: str) -> None:
    status, headers, doc = await get(client, path)
    assert status == 422
    assert doc["errorCode"] == 422 and "too broad" in doc["description"][0]
    assert headers["Content-Type"].startswith("application/rdap+json")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/domains?name=ex*le.org", 422),
        ("/domains?name=exam**", 422),
        ("/domains", 400),
        ("/domains?name=a.org&nsIp=1.2.3.4", 400),
        ("/domains?name=exam*.coop&sort=fn", 400),
        ("/domains?name=exam*.coop&fieldSet=all", 400),
        ("/domains?name=exam*.coop&count=maybe", 400),
        ("/domains?name=exam*.coop&cursor=1AAAAAAAAAAAAAAAAAAAAAAAAAAAA", 400),
        ("/domains?nsIp=300.1.1.1", 400),
        ("/domains/reverse_search/nameserver?fn=x", 501),
        ("/domains/x", 400),
        ("/nameservers?name=caf\u00e9*.org", 422),
    ],
)
async def test_bad_searches(client: Client, path: str, status: int) -> None:
    got, _, doc = await get(client, path)
    assert got == status and doc["errorCode"] == status


async def test_result_cap_truncates_with_a_notice(connect: MakeClient) -> None:
    client = await connect(settings=SearchSettings(max_results=3, page_size=2))
    _, _, doc = await get(client, "/domains?name=xn--*&count=true")
    assert [n["type"] for n in doc["notices"] if "type" in n] == [
        "result set truncated due to excessive load"
    ]
    assert doc["paging_metadata"]["totalCount"] == 3
    parts = urlsplit(doc["paging_metadata"]["links"][0]["href"])
    _, _, second = await get(client, f"{parts.path}?{parts.query}")
    assert len(second["domainSearchResults"]) == 1
    assert "links" not in second["paging_metadata"]


async def test_time_budget_is_503(connect: MakeClient) -> None:
    client = await connect(settings=SearchSettings(time_budget=1e-9))
    status, headers, doc = await get(client, "/domains?name=xn--*")
    assert status == 503 and doc["errorCode"] == 503 and headers["Retry-After"]


async def test_searches_can_be_turned_off(connect: MakeClient) -> None:
    client = await connect(settings=SearchSettings(enabled=False))
    status, _, doc = await get(client, "/domains?name=exam*.coop")
    assert status == 501 and doc["errorCode"] == 501
    _, _, help_doc = await get(client, "/help")
    assert "paging" not in help_doc["rdapConformance"]


# --- cursors -------------------------------------------------------------------------------


async def _next_cursor(client: Client, path: str, **kw: Any) -> str:
    _, _, doc = await get(client, path, **kw)
    href = doc["paging_metadata"]["links"][0]["href"]
    return dict(p.split("=", 1) for p in urlsplit(href).query.split("&"))["cursor"]


async def test_cursor_tampering_is_400(connect: MakeClient) -> None:
    client = await connect(settings=SearchSettings(page_size=2))
    token = await _next_cursor(client, "/domains?name=xn--*")
    assert (await get(client, f"/domains?name=xn--*&cursor={token}"))[0] == 200
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:-4], token + "AA", "1" + token[2:]):
        status, _, doc = await get(client, f"/domains?name=xn--*&cursor={bad}")
        assert status == 400 and doc["errorCode"] == 400
    # Another pattern, another sort: the same cursor is refused.
    assert (await get(client, f"/domains?name=cedar*&cursor={token}"))[0] == 400
    assert (await get(client, f"/domains?name=xn--*&sort=name:d&cursor={token}"))[0] == 400


async def test_cursor_does_not_survive_another_server_key(connect: MakeClient) -> None:
    one = await connect(settings=SearchSettings(page_size=2, secret="one"))
    two = await connect(settings=SearchSettings(page_size=2, secret="two"))
    same = await connect(settings=SearchSettings(page_size=2, secret="one"))
    token = await _next_cursor(one, "/domains?name=xn--*")
    assert (await get(two, f"/domains?name=xn--*&cursor={token}"))[0] == 400
    assert (await get(same, f"/domains?name=xn--*&cursor={token}"))[0] == 200


async def test_expired_cursor_is_400(connect: MakeClient) -> None:
    now = [1_800_000_000.0]
    client = await connect(
        settings=SearchSettings(page_size=2, cursor_ttl=60), clock=lambda: now[0]
    )
    token = await _next_cursor(client, "/domains?name=xn--*")
    now[0] += 61
    status, _, doc = await get(client, f"/domains?name=xn--*&cursor={token}")
    assert status == 400 and "expired" in doc["description"][0]


async def test_generation_change_between_pages_continues_with_a_notice(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    from replica import demo, schema

    path = tmp_path / "r.sqlite"
    demo.write(path, 300, seed=1)
    store = await open_store(path, pool_size=1)
    try:
        policy = default_policy()
        app = make_app(
            Lookup(store, policy),
            RdapConfig(base_url=BASE, port43=None),
            searcher=Searcher(store, policy, SearchSettings(page_size=3)),
        )
        client = await aiohttp_client(app)
        _, _, first = await get(client, "/domains?name=xn--*")
        href = urlsplit(first["paging_metadata"]["links"][0]["href"])
        # A deposit lands: the generation moves on (and one domain of page 1 goes away).
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN")
        conn.execute("DELETE FROM domain WHERE name = ?", (names_of(first)[0],))
        schema.bump_generation(conn, demo.WATERMARK)
        conn.execute("COMMIT")
        conn.close()
        assert await store.refresh()
        _, _, second = await get(client, f"{href.path}?{href.query}")
        titles = [n["title"] for n in second["notices"]]
        assert "Registry Data Changed" in titles
        # Keyset paging: page 2 starts after page 1's last name, whatever went away before it.
        assert names_of(second)[0] > names_of(first)[-1]
        assert second["paging_metadata"]["pageNumber"] == 2
    finally:
        await store.close()


# --- /help and conformance ------------------------------------------------------------------


async def test_help_lists_searches(client: Client) -> None:
    _, _, doc = await get(client, "/help")
    assert {"paging", "sorting", "subsetting", "reverse_search"} <= set(doc["rdapConformance"])
    notice = next(n for n in doc["notices"] if n["title"] == "Searches")
    assert "/domains?name=" in notice["description"][0]
    props = {p["property"] for p in doc["reverse_search_properties"]}
    assert props == {"fn", "handle", "email", "addr", "role"}


SEARCH_URLS = [
    "/domains?name=exam*&count=true",
    "/domains?name=example.*&fieldSet=brief",
    "/domains?name=xn--*&fieldSet=id&sort=registrationDate:d",
    "/domains?nsLdhName=ns1.example.coop",
    "/nameservers?name=*.example.coop",
    "/entities?fn=Alder*",
    "/entities?handle=EXCOOP-1",
    "/entities?fn=Nobody%20Here",
    "/help",
]


@pytest.mark.parametrize("path", SEARCH_URLS)
async def test_our_search_answers_pass_the_checker(client: Client, path: str) -> None:
    async with client.get(path) as resp:
        body = await resp.read()
        findings = check_response(BASE.rstrip("/") + path, resp.status, dict(resp.headers), body)
    assert [(f.code, f.path, f.message) for f in findings if f.severity is not Severity.INFO] == []


async def test_head_matches_get(client: Client) -> None:
    async with client.get("/domains?name=exam*") as got, client.head("/domains?name=exam*") as head:
        assert head.status == got.status == 200
        assert head.headers["Content-Type"] == got.headers["Content-Type"]
        assert await head.read() == b""


def test_domain_sort_dates_are_rfc3339_text(demo_replica: Path) -> None:
    # The store sorts dates as text: every stored date has the one fixed-width form.
    for (created,) in rows(demo_replica, "SELECT created FROM domain LIMIT 50"):
        assert len(created) == 20 and created.endswith("Z")
    assert names.from_text("example.org").ldh == "example.org"


async def test_searches_have_their_own_rate_budget(
    store: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    # GIVEN a search budget of one search per network and a roomy lookup budget
    policy = default_policy()
    rate = RatePolicy(
        anonymous=Budgets(Budget(0.001, 100), Budget(0.001, 1)),
        tiers={},
        authorized=Budgets(Budget(0.001, 100), Budget(0.001, 1)),
    )
    app = make_app(
        Lookup(store, policy),
        RdapConfig(base_url=BASE, port43=None, rate=rate),
        searcher=Searcher(store, policy, SearchSettings(time_budget=60.0)),
    )
    client = await aiohttp_client(app)
    # WHEN the network searches twice, then looks up, then repeats the first (cached) search
    assert (await get(client, "/domains?name=exam*.coop"))[0] == 200
    status, headers, doc = await get(client, "/domains?name=exam*.org")
    # THEN the second search is 429, lookups still answer, and a cached search is charged too
    assert status == 429 and doc["errorCode"] == 429 and headers["Retry-After"]
    assert (await get(client, "/domain/example.org"))[0] == 200
    assert (await get(client, "/domains?name=exam*.coop"))[0] == 429


async def test_anonymous_search_answers_are_cached_per_query_string(client: Client) -> None:
    # Two searches on one path differ by their parameters: never one cached answer for both.
    a = await get(client, "/domains?name=exam*.coop")
    b = await get(client, "/domains?name=example.*")
    again = await get(client, "/domains?name=exam*.coop")
    assert names_of(a[2]) == names_of(again[2]) == ["example.coop"]
    assert names_of(b[2]) == ["example.coop", "example.org"]
    etag = [{k.lower(): v for k, v in r[1].items()}["etag"] for r in (a, again, b)]
    assert etag[0] == etag[1] != etag[2]
