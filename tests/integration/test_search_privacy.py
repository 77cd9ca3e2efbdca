"""Searches that cannot be turned against the people the policy protects: the oracle property
(an anonymous search for a withheld value is indistinguishable from a search for an absent
one, in answer and in cost), search grants, reverse search allowed / denied / logged / fail
closed, and registrant-data searches recorded in the disclosure log."""

from __future__ import annotations

import functools
import json
import random
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from access import disclosures
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from core.search import SearchSettings
from core.searcher import Searcher
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import Policy, default_policy
from registry import patterns
from registry.errors import Forbidden
from registry.model import ContactRecord
from replica.store import REFERENCE_CAP, SqliteStore
from tests.integration.conftest import BASE
from tests.integration.test_access_rdap import CRIME, LE, bearer, issue

Client = TestClient[Any, Any]
STAFF = "registry-staff"


class CountingStore(SqliteStore):
    """The real store, counting what each entity window reads (the cost of a search)."""

    windows: list[tuple[str, int]]

    async def contacts_window(
        self, prop: str, start: str, window: int, reference_cap: int = REFERENCE_CAP
    ) -> list[ContactRecord]:
        found = await super().contacts_window(prop, start, window, reference_cap)
        self.windows.append((prop, len(found)))
        return found


@pytest.fixture
async def counting(demo_replica: Path) -> Any:
    store = CountingStore(demo_replica, pool_size=2)
    store.windows = []
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def connect(
    counting: CountingStore, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Client]]:
    async def make(access: Any = None, policy: Policy | None = None, page_size: int = 50) -> Client:
        policy = policy or default_policy()
        searcher = Searcher(
            counting, policy, SearchSettings(secret="test", page_size=page_size, time_budget=60.0)
        )
        app = make_app(
            Lookup(counting, policy),
            RdapConfig(base_url=BASE, port43="whois.registry.example", tos_url=BASE + "terms"),
            access,
            searcher=searcher,
        )
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def anonymous(connect: Callable[..., Awaitable[Client]]) -> Client:
    return await connect()


@pytest.fixture
async def authorized(connect: Callable[..., Awaitable[Client]], data_dir: Path) -> Client:
    return await connect(build(AuthSettings(data_dir=data_dir), default_policy()))


async def fetch(client: Client, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    async with client.get(path, **kw) as resp:
        return resp.status, dict(resp.headers), await resp.read()


@functools.cache
def withheld_names(replica: Path) -> list[str]:
    """Names of contacts the public never sees (natural persons who gave no consent)."""
    conn = sqlite3.connect(replica)
    try:
        out = []
        for postal, kind, yes in conn.execute("SELECT postal, kind, disclose_yes FROM contact"):
            name = json.loads(postal)[0]["name"]
            if kind == "natural" and "name" not in yes.split():
                out.append(name)
        return sorted(set(out))
    finally:
        conn.close()


@functools.cache
def withheld_handles(replica: Path) -> list[str]:
    conn = sqlite3.connect(replica)
    try:
        return sorted(h for (h,) in conn.execute("SELECT id FROM contact WHERE kind = 'natural'"))
    finally:
        conn.close()


@functools.cache
def all_keys(replica: Path, column: str) -> frozenset[str]:
    conn = sqlite3.connect(replica)
    try:
        return frozenset(k for (k,) in conn.execute(f"SELECT {column} FROM contact"))
    finally:
        conn.close()


def window_size(replica: Path, window: int = 100) -> int:
    """How many index entries every entity window reads: the window, or the whole index."""
    return min(window, len(all_keys(replica, "id")))


COUNTER = iter(range(10**9))


def absent_twin(value: str, taken: set[str], rng: random.Random) -> str:
    """A value of the same length and character classes that no contact has."""
    for _ in range(1000):
        out = "".join(
            (
                rng.choice("bcdfghjkmnpqrstvwxz")
                if c.islower()
                else rng.choice("BCDFGHJKLMNPQRSTVWXZ")
            )
            if c.isalpha() and c.isascii()
            else (rng.choice("23456789") if c.isdigit() else c)
            for c in value
        )
        if all(not k.startswith(patterns.fold(out.rstrip("*"))) for k in taken):
            return out
    raise AssertionError("no absent twin found")


def scrub(body: bytes, value: str) -> bytes:
    """The body with every echo of the searched value replaced by a placeholder."""
    for form in {quote(value, safe="*:,-._~"), value, json.dumps(value)[1:-1]}:
        body = body.replace(form.encode(), b"\x00")
    return body


def comparable_headers(headers: dict[str, str]) -> dict[str, str]:
    # The time of the answer and the per-request id differ between any two requests; the
    # entity tag digests the body, which echoes the query (the bodies are compared apart
    # from that echo).
    return {k: v for k, v in headers.items() if k.lower() not in ("date", "x-request-id", "etag")}


# --- the oracle property -------------------------------------------------------------------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_withheld_and_absent_values_are_indistinguishable(
    anonymous: Client, counting: CountingStore, demo_replica: Path, data: st.DataObject
) -> None:
    # GIVEN a random value the policy withholds from the public, and an absent value of the
    # same shape
    prop = data.draw(st.sampled_from(["fn", "handle"]))
    if prop == "fn":
        value = data.draw(st.sampled_from(withheld_names(demo_replica)))
        taken = all_keys(demo_replica, "fn_key")
    else:
        value = data.draw(st.sampled_from(withheld_handles(demo_replica)))
        taken = all_keys(demo_replica, "handle_key")
    if data.draw(st.booleans()):
        # The value as a prefix. (A shorter prefix may match entities the public does see:
        # those are answered, as for any search; the property is about the withheld one.)
        value += "*"
    absent = absent_twin(value, taken, random.Random(data.draw(st.integers(0, 2**32))))
    extra = data.draw(st.sampled_from(["", "&count=true", "&fieldSet=brief", "&sort=handle:d"]))
    # (an ignored parameter keeps each request out of the answer cache)
    extra += f"&_={next(COUNTER)}"
    # WHEN the public searches for each
    counting.windows.clear()
    a = await fetch(anonymous, f"/entities?{prop}={quote(value)}{extra}")
    b = await fetch(anonymous, f"/entities?{prop}={quote(absent)}{extra}")
    # THEN status, headers and body (apart from the echoed query) are the same
    assert a[0] == b[0] == 200
    assert comparable_headers(a[1]) == comparable_headers(b[1])
    assert scrub(a[2], value) == scrub(b[2], absent)
    assert orjson.loads(a[2])["entitySearchResults"] == []
    # AND both examined the same number of candidates, matching or not: the same bounded scan
    # whatever the value (the withheld one is neither skipped nor costlier)
    assert [n for _, n in counting.windows] == [window_size(demo_replica)] * 2


async def test_the_window_is_the_same_for_any_pattern(
    anonymous: Client, counting: CountingStore, demo_replica: Path
) -> None:
    # The journalist's withheld name, a name nobody has next to it in the index, a name at
    # the end of the index and one at its start: a full window each.
    values = ("Sami Calder", "Sami Caldez", "Zzzz Zzzz", "Aaaa", "JOURNO-1")
    for value in values[:-1]:
        await fetch(anonymous, f"/entities?fn={quote(value)}")
    await fetch(anonymous, f"/entities?handle={values[-1]}")
    assert [n for _, n in counting.windows] == [100] * len(values)


# --- search grants for registrant data ------------------------------------------------------


async def test_a_search_grant_finds_a_person_and_is_logged(
    authorized: Client, data_dir: Path
) -> None:
    cred, token = issue(data_dir, LE, (CRIME,))
    status, headers, body = await fetch(
        authorized, "/entities?fn=Dara%20Ashdown", headers=bearer(token)
    )
    doc = orjson.loads(body)
    assert status == 200
    found = [r["handle"] for r in doc["entitySearchResults"]]
    assert "EXORG-1" in found
    assert headers["Cache-Control"] == "private, no-store"
    (record,) = disclosures.records(data_dir)
    assert record["credential"] == cred and record["purpose"] == CRIME
    assert record["object"] == f"search entities?fn=dara ashdown results={len(found)} page=1"
    assert "Dara" not in json.dumps(record["fields"])
    assert "search by fn" in record["fields"] and "Contact Name" in record["fields"]


async def test_a_search_grant_is_logged_with_no_result_too(
    authorized: Client, data_dir: Path
) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    status, _, body = await fetch(authorized, "/entities?fn=Nobody%20Here", headers=bearer(token))
    assert status == 200 and orjson.loads(body)["entitySearchResults"] == []
    (record,) = disclosures.records(data_dir)
    assert record["object"] == "search entities?fn=nobody here results=0 page=1"
    assert record["fields"] == ["search by fn"]


async def test_an_authorized_tier_without_a_search_grant_matches_only_public_values(
    authorized: Client, data_dir: Path
) -> None:
    # The registrar tier may see every field for domainNameControl, but may not search
    # registrant data: it finds nothing the public would not, and nothing is recorded.
    _, token = issue(data_dir, "registrar", ("domainNameControl",))
    for path in ("/entities?fn=Dara%20Ashdown", "/entities?handle=EXORG-1"):
        status, _, body = await fetch(authorized, path, headers=bearer(token))
        assert status == 200 and orjson.loads(body)["entitySearchResults"] == []
    assert list(disclosures.records(data_dir)) == []


async def test_at_risk_data_is_found_only_by_the_highest_tier(
    authorized: Client, data_dir: Path
) -> None:
    _, le = issue(data_dir, LE, (CRIME,))
    _, staff = issue(data_dir, STAFF, ("legalActions",))
    path = "/entities?fn=Sami%20Calder"
    assert (
        orjson.loads((await fetch(authorized, path, headers=bearer(le)))[2])["entitySearchResults"]
        == []
    )
    found = orjson.loads((await fetch(authorized, path, headers=bearer(staff)))[2])
    assert [r["handle"] for r in found["entitySearchResults"]] == ["JOURNO-1"]


# --- reverse search ---------------------------------------------------------------------------

REVERSE = "/domains/reverse_search/entity"


async def test_reverse_search_is_refused_to_the_public_with_a_reason(anonymous: Client) -> None:
    status, _, body = await fetch(anonymous, f"{REVERSE}?handle=EXORG-1")
    doc = orjson.loads(body)
    assert status == 403 and doc["errorCode"] == 403
    assert "authorized requesters" in doc["description"][0]
    assert b"example.org" not in body and b"Dara" not in body


async def test_reverse_search_is_refused_without_a_grant(
    authorized: Client, data_dir: Path
) -> None:
    _, token = issue(data_dir, "registrar", ("domainNameControl",))
    status, _, body = await fetch(authorized, f"{REVERSE}?fn=Dara%20Ashdown", headers=bearer(token))
    assert status == 403
    assert "do not allow reverse search by fn" in orjson.loads(body)["description"][0]
    assert list(disclosures.records(data_dir)) == []


@pytest.mark.parametrize(
    ("params", "domains"),
    [
        ("handle=EXORG-1", ["example.org"]),
        ("handle=exorg-1&role=registrant", ["example.org"]),
        ("email=exorg-1@mail.example", ["example.org"]),
        ("handle=EXORG-1&role=technical", []),
        ("handle=JOURNO-1", []),  # at risk: only the highest tier may see the handle
        ("fn=Sami%20Calder", []),
    ],
)
async def test_reverse_search_allowed_and_logged(
    authorized: Client, data_dir: Path, params: str, domains: list[str]
) -> None:
    cred, token = issue(data_dir, LE, (CRIME,))
    status, _, body = await fetch(authorized, f"{REVERSE}?{params}", headers=bearer(token))
    doc = orjson.loads(body)
    assert status == 200, doc
    assert [r["ldhName"] for r in doc["domainSearchResults"]] == domains
    assert "reverse_search" in doc["rdapConformance"]
    (record,) = disclosures.records(data_dir)
    assert record["credential"] == cred
    assert record["object"].startswith("search domains/reverse_search/entity?")
    assert record["object"].endswith(f"results={len(domains)} page=1")
    prop = params.split("=", 1)[0]
    assert f"search by {prop}" in record["fields"]


async def test_reverse_search_by_name_and_role(authorized: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    path = f"{REVERSE}?fn=Dara%20Ashdown&role=registrant&count=true"
    _, _, body = await fetch(authorized, path, headers=bearer(token))
    doc = orjson.loads(body)
    found = [r["ldhName"] for r in doc["domainSearchResults"]]
    assert "example.org" in found and found == sorted(found)
    for result in doc["domainSearchResults"]:
        registrant = next(e for e in result["entities"] if e["roles"] == ["registrant"])
        fn = next(p[3] for p in registrant["vcardArray"][1] if p[0] == "fn")
        assert fn == "Dara Ashdown"  # every domain found shows the name it was found by


async def test_reverse_search_by_the_highest_tier_finds_the_at_risk(
    authorized: Client, data_dir: Path
) -> None:
    _, token = issue(data_dir, STAFF, ("legalActions",))
    status, _, body = await fetch(authorized, f"{REVERSE}?handle=JOURNO-1", headers=bearer(token))
    assert status == 200
    assert [r["ldhName"] for r in orjson.loads(body)["domainSearchResults"]] == ["journalist.org"]


async def test_reverse_search_fails_closed(authorized: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    (data_dir / disclosures.LOG).mkdir()  # the log cannot be written
    status, headers, body = await fetch(
        authorized, f"{REVERSE}?handle=EXORG-1", headers=bearer(token)
    )
    assert status == 503 and headers["Retry-After"]
    assert b"example.org" not in body and b"Dara" not in body
    # A registrant-data search with no result is refused too: the query itself is recorded.
    status, _, body = await fetch(authorized, "/entities?fn=Nobody", headers=bearer(token))
    assert status == 503


async def test_search_cursor_of_an_authorized_requester_is_refused_to_the_public(
    connect: Callable[..., Awaitable[Client]], data_dir: Path
) -> None:
    authorized = await connect(
        build(AuthSettings(data_dir=data_dir), default_policy()), page_size=1
    )
    _, token = issue(data_dir, STAFF, ("legalActions",))
    _, le = issue(data_dir, LE, (CRIME,))
    _, _, body = await fetch(authorized, f"{REVERSE}?email=dara*", headers=bearer(token))
    doc = orjson.loads(body)
    href = doc["paging_metadata"]["links"][0]["href"]
    path = href.removeprefix(BASE.rstrip("/"))
    assert (await fetch(authorized, path, headers=bearer(token)))[0] == 200
    # The public is refused reverse search outright; another tier gets 400 for the cursor.
    assert (await fetch(authorized, path))[0] == 403
    status, _, body = await fetch(authorized, path, headers=bearer(le))
    assert status == 400 and orjson.loads(body)["errorCode"] == 400


async def test_a_search_result_showing_withheld_data_is_a_disclosure(
    authorized: Client, data_dir: Path
) -> None:
    # Domains are public, but the registrar sees its customers' contact data in them: the
    # search answer is recorded as the lookups would be, before it is sent.
    cred, token = issue(data_dir, "registrar", ("domainNameControl",))
    status, headers, body = await fetch(
        authorized, "/domains?name=example.*", headers=bearer(token)
    )
    assert status == 200 and headers["Cache-Control"] == "private, no-store"
    assert b"Dara Ashdown" in body
    (record,) = disclosures.records(data_dir)
    assert record["credential"] == cred
    assert record["object"] == "search domains?name=example.* results=2 page=1"
    assert "Registrant Name" in record["fields"] and "search by name" not in record["fields"]
    # The id field set shows no contact data: nothing more is recorded.
    await fetch(authorized, "/domains?name=example.*&fieldSet=id", headers=bearer(token))
    assert len(list(disclosures.records(data_dir))) == 1


async def test_reverse_search_by_an_address_without_a_postal_code(tmp_path: Path) -> None:
    from rdap import search as rsearch
    from redaction.policy import Requester
    from registry.model import PostalInfo
    from replica.store import open_store
    from tests.conftest import make_contact, make_record, write_replica

    person = make_contact(
        handle="NOPC-1",
        postal=(PostalInfo("int", "Rey Sample", street=("9 Quiet Row",), city="Sampleton"),),
    )
    path = write_replica(tmp_path / "r.sqlite", [make_record(person, name="nopc.org")])
    store = await open_store(path, pool_size=1)
    try:
        searcher = Searcher(store, default_policy(), SearchSettings(time_budget=60.0))
        staff = Requester(STAFF, "legalActions")
        for text, found in (("9 Quiet Row, Sampleton", ["nopc.org"]), ("9 Quiet*", ["nopc.org"])):
            parsed = rsearch.parse(["domains", "reverse_search", "entity"], [("addr", text)])
            page = await searcher.search(parsed.request, staff)
            assert [h.record.domain.name for h in page.hits] == found  # type: ignore[union-attr]
        # The public never: 403 before anything is read.
        anon = rsearch.parse(["domains", "reverse_search", "entity"], [("addr", "9 Quiet*")])
        with pytest.raises(Forbidden) as info:
            await searcher.search(anon.request, Requester.anonymous())
        assert info.value.status == 403
    finally:
        await store.close()
