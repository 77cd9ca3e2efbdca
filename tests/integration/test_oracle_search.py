"""The privacy oracle over RDAP searches (docs/search.md): the generated registry of
tests/oracle/world.py in a real SQLite replica, served by the real RDAP app with its real
searcher, credentials and disclosure log; every search answer compared with the reference
model of docs/policy.md (tests/oracle/model.py), never with the engine's own decisions.

For every requester (the public; tiers with full, partial and no search grants; a purpose
the tier has no grants for):
- each domain in domain search and reverse search results shows exactly what the model says
  its lookup shows, and the page holds no value every result on it withholds;
- an entity search (`fn=`, `handle=`) finds exactly the contacts the model says it may match
  (a candidate only where the lookup by handle answers, matching only on a value that answer
  shows, a value seen only by authorization only under a search grant), and each shows
  exactly the fields of its lookup by handle;
- reverse search answers 403 wherever the model's policy does not grant it, and finds exactly
  the domains of the contacts the model says it may match.

The searcher runs with a window larger than the registry, so a prefix search examines every
contact and its result set can be compared with the model's whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from core.search import SearchSettings
from core.searcher import Searcher
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction import policy as product_policy
from registry.model import Contact, PersonKind
from replica.store import open_store
from tests.integration.test_oracle_frontends import (
    BASE,
    PRODUCT,
    REFERENCE,
    Asking,
    all_tokens_absent,
    check_domain,
    issue,
    replica,
    the_world,
)
from tests.oracle import model, observe, world

__all__ = ["replica", "the_world"]  # fixtures

Client = TestClient[Any, Any]
#: A window larger than the registry (a prefix search examines every contact), small pages
#: (every answer is followed through its cursors), patterns as short as one character.
SETTINGS = SearchSettings(
    secret="oracle search key, not a real one",
    page_size=7,
    entity_window=10_000,
    min_literal=1,
    time_budget=120.0,
)
#: The registrar every generated domain is sponsored by (a public entity search result).
REGISTRAR_HANDLE = "9999"


@dataclass
class Service:
    client: Client
    askers: list[Asking]


@pytest.fixture
async def service(
    replica: Path, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Service]:
    store = await open_store(replica, pool_size=2)
    data_dir = tmp_path / "access"
    askers = issue(data_dir)
    app = make_app(
        Lookup(store, PRODUCT),
        RdapConfig(base_url=BASE, port43=None),
        build(AuthSettings(data_dir=data_dir), PRODUCT),
        searcher=Searcher(store, PRODUCT, SETTINGS),
    )
    try:
        yield Service(await aiohttp_client(app), askers)
    finally:
        await store.close()


@dataclass
class Answer:
    status: int
    docs: list[dict[str, Any]]  # every page, in order
    bodies: list[bytes]

    def results(self, member: str) -> list[dict[str, Any]]:
        return [r for doc in self.docs for r in doc[member]]


async def search(service: Service, path: str, who: Asking) -> Answer:
    """Every page of one search, following the `next` links."""
    url = path + ("&" + who.query[1:] if who.query else "")
    docs: list[dict[str, Any]] = []
    bodies: list[bytes] = []
    while True:
        async with service.client.get(url, headers=who.headers) as resp:
            status, body = resp.status, await resp.read()
        bodies.append(body)
        if status != 200:
            return Answer(status, docs, bodies)
        doc = orjson.loads(body)
        docs.append(doc)
        links = doc.get("paging_metadata", {}).get("links", [])
        following = [lk["href"] for lk in links if lk.get("rel") == "next"]
        if not following:
            return Answer(200, docs, bodies)
        assert len(docs) < 100, "paging does not end"
        url = following[0].removeprefix(BASE.rstrip("/"))


class Expect:
    """The model's answers for one world, computed once per (contact, requester)."""

    def __init__(self, w: world.World, policy: model.PolicyModel = REFERENCE) -> None:
        self.w = w
        self.policy = policy
        self.refs = world.references(w)
        self.by_name = {rec.domain.name: rec for rec in w.records}
        self._bound: dict[tuple[str, model.Asker], tuple[frozenset[str], bool]] = {}
        self._public: dict[str, frozenset[str]] = {}

    def bound(self, handle: str, asker: model.Asker) -> tuple[frozenset[str], bool]:
        key = (handle, asker)
        if key not in self._bound:
            self._bound[key] = world.by_handle(self.w, handle, self.policy, asker)
        return self._bound[key]

    def public(self, handle: str) -> frozenset[str]:
        if handle not in self._public:
            self._public[handle] = world.public_answers(self.w, handle, self.policy)
        return self._public[handle]

    def matchable(self, handle: str, prop: str, asker: model.Asker, *, reverse: bool) -> bool:
        may = model.may_search(self.policy, asker, prop, reverse=reverse)
        return model.search_matchable(
            prop,
            observe.person(self.w.contacts[handle]).present,
            self.bound(handle, asker),
            self.public(handle),
            may,
        )

    def entities(self, prop: str, pattern: str, asker: model.Asker) -> set[str]:
        """Handles of the contacts an entity search may find."""
        return {
            h
            for h, k in self.w.contacts.items()
            if world.pattern_matches(pattern, world.search_value(k, prop))
            and self.matchable(h, prop, asker, reverse=False)
        }

    def reverse(self, prop: str, pattern: str, role: str | None, asker: model.Asker) -> set[str]:
        """Names of the domains a reverse search may find."""
        return {
            rec.domain.name
            for h, k in self.w.contacts.items()
            if world.pattern_matches(pattern, world.search_value(k, prop))
            and self.matchable(h, prop, asker, reverse=True)
            for rec, r in self.refs[h]
            if role is None or r == role
        }


@pytest.fixture(scope="module")
def expect(the_world: world.World) -> Expect:
    return Expect(the_world)


def unechoed(body: bytes, echo: str | None) -> str:
    """The body without the echoes of what the requester searched for (the request URL its
    notices and links repeat, as typed and in canonical form): the requester's own input,
    not data of the registry."""
    text = body.decode()
    if echo:
        for typed in (echo, world.fold(echo)):
            for form in (quote(typed, safe="*:,-._~"), quote(typed), typed):
                text = text.replace(form, "\x00")
    return text


def check_page_leaks(
    body: bytes, seen: dict[str, frozenset[str]], w: world.World, echo: str | None = None
) -> list[Any]:
    """No value on the page that every appearance of its contact there withholds (contacts
    that do not appear at all: none of their values)."""
    text = unechoed(body, echo)
    problems: list[tuple[Any, ...]] = []
    for handle, contact in w.contacts.items():
        withheld = observe.person(contact).present - seen.get(handle, frozenset())
        problems += [(handle, f) for f, _ in observe.leaks(text, contact, withheld)]
    return problems


def check_domain_results(
    answer: Answer, who: Asking, expect: Expect, echo: str | None = None
) -> list[str]:
    """Each domain result is the model's lookup answer; returns the names found."""
    names = []
    for doc, body in zip(answer.docs, answer.bodies, strict=True):
        seen: dict[str, frozenset[str]] = {}
        for result in doc["domainSearchResults"]:
            record = expect.by_name[result["ldhName"]]
            decisions = world.expected(record, expect.policy, who.asker)
            check_domain(record, decisions, result)
            for role, contact in world.roles_of(record).items():
                seen[contact.handle] = seen.get(contact.handle, frozenset()) | (
                    decisions[role].shown
                )
            names.append(record.domain.name)
        assert check_page_leaks(body, seen, expect.w, echo) == [], who.asker
    return names


# --- domain searches -------------------------------------------------------------------------


async def test_domain_search_results_are_the_models_lookups(
    service: Service, the_world: world.World, expect: Expect
) -> None:
    """GIVEN every requester WHEN it searches domains (by nameserver: every domain; by name
    prefix; in every field set) THEN every result shows exactly what the model says that
    domain's lookup shows it, and the page holds no value the model withholds.

    Mutation that fails this: core/searcher.py Searcher._resolve redacting for
    `Requester.anonymous()` instead of the requester."""
    every = sorted(expect.by_name)
    for who in service.askers:
        answer = await search(service, "/domains?nsLdhName=ns1.oracle-dns.example", who)
        assert answer.status == 200
        assert sorted(check_domain_results(answer, who, expect)) == every
        answer = await search(service, "/domains?name=rnd*", who)
        found = check_domain_results(answer, who, expect)
        assert sorted(found) == [n for n in every if n.startswith("rnd")]
        for field_set in ("id", "brief"):
            answer = await search(service, f"/domains?name=rnd*&fieldSet={field_set}", who)
            assert answer.status == 200 and answer.results("domainSearchResults")
            for body in answer.bodies:
                assert all_tokens_absent(body.decode(), the_world.contacts) == [], field_set


async def test_nameserver_searches_hold_no_contact_data(
    service: Service, the_world: world.World
) -> None:
    for who in service.askers:
        for path in ("/nameservers?name=ns1*", "/nameservers?ip=192.0.2.53"):
            answer = await search(service, path, who)
            assert answer.status == 200 and answer.results("nameserverSearchResults")
            for body in answer.bodies:
                assert all_tokens_absent(body.decode(), the_world.contacts) == [], path


# --- entity searches -------------------------------------------------------------------------


def entity_problems(
    answer: Answer, who: Asking, expect: Expect, want: set[str], echo: str | None = None
) -> list[tuple[Any, ...]]:
    """Differences between an entity search answer and the model."""
    problems: list[tuple[Any, ...]] = []
    if answer.status != 200:
        return [("status", answer.status)]
    found = set()
    for doc, body in zip(answer.docs, answer.bodies, strict=True):
        seen: dict[str, frozenset[str]] = {}
        for result in doc["entitySearchResults"]:
            handle = result["handle"]
            if handle == REGISTRAR_HANDLE:
                assert all_tokens_absent(orjson.dumps(result).decode(), expect.w.contacts) == []
                continue
            contact: Contact = expect.w.contacts[handle]
            bound, hidden = expect.bound(handle, who.asker)
            shown = observe.rdap_shown(result, contact)
            want_shown = bound & observe.person(contact).present
            if hidden or shown != want_shown:
                problems.append(("shown", handle, hidden, sorted(shown ^ want_shown)))
            seen[handle] = bound
            found.add(handle)
        problems += [("leak", *p) for p in check_page_leaks(body, seen, expect.w, echo)]
    if found != want:
        problems.append(("found", sorted(found - want), "missing", sorted(want - found)))
    return problems


#: Prefixes that cover every generated value (names and addresses start "Zq", handles "ZH",
#: emails "zq"), and the loc names alone.
PREFIXES = {"fn": ("Zq*", "zqلوك*"), "handle": ("ZH*", "zh1*")}


async def entity_prefix_problems(
    service: Service, who: Asking, expect: Expect
) -> list[tuple[Any, ...]]:
    problems: list[tuple[Any, ...]] = []
    for prop, patterns in PREFIXES.items():
        for pattern in patterns:
            answer = await search(service, f"/entities?{prop}={quote(pattern)}", who)
            want = expect.entities(prop, pattern, who.asker)
            problems += [
                (who.asker, prop, pattern, *p) for p in entity_problems(answer, who, expect, want)
            ]
    return problems


async def test_entity_searches_match_only_what_the_model_shows(
    service: Service, expect: Expect
) -> None:
    """GIVEN every requester WHEN it searches entities by a prefix every contact's name (or
    handle) has THEN it finds exactly the contacts the model says the search may match, each
    showing exactly its lookup by handle's fields, and no withheld value is on the page (the
    public asks again last: an authorized answer is never served to it from the cache).

    Mutations that fail this, in core/searcher.py Searcher._contact_hit: the
    `not all(view.shows(f) ...)` guard removed (withheld names match); the `may_search`
    guard replaced by `if False:` (authorized-only values match without a search grant)."""
    problems: list[tuple[Any, ...]] = []
    for who in [*service.askers, service.askers[0]]:
        problems += await entity_prefix_problems(service, who, expect)
    assert problems == []


async def test_entity_search_for_each_value_matches_only_what_the_model_shows(
    service: Service, the_world: world.World, expect: Expect
) -> None:
    """GIVEN every contact's every name (int and loc) and handle WHEN the public, a tier
    without search grants and the highest tier search for it exactly THEN the contact is
    found exactly where the model says (a name of the block the answers do not show never
    matches)."""
    askers = [
        who
        for who in service.askers
        if who.asker.tier in (None, "registry-staff")
        or (who.asker.tier == "registrar" and who.asker.purpose == "domainNameControl")
    ]
    assert len(askers) == 3
    problems: list[tuple[Any, ...]] = []
    # Every contact with both blocks (the one answers do not show must not match), and a
    # fifth of the others (each search examines the whole registry: keep the test short).
    chosen = [
        k for i, k in enumerate(the_world.contacts.values()) if len(k.postal) > 1 or i % 5 == 0
    ]
    for contact in chosen:
        handle = contact.handle
        values = [("fn", p.name) for p in contact.postal] + [("handle", handle.lower())]
        for prop, value in values:
            for who in askers:
                answer = await search(service, f"/entities?{prop}={quote(value)}", who)
                want = expect.entities(prop, value, who.asker)
                assert want <= {handle}
                problems += [
                    (who.asker, prop, value, *p)
                    for p in entity_problems(answer, who, expect, want, echo=value)
                ]
    assert problems == []


async def test_entity_search_by_email_is_not_offered(
    service: Service, the_world: world.World
) -> None:
    # docs/search.md: entity searches take fn and handle; email is a reverse search property.
    email = next(iter(the_world.contacts.values())).email
    for who in service.askers:
        answer = await search(service, f"/entities?email={quote(email)}", who)
        assert answer.status == 400
        assert all_tokens_absent(unechoed(answer.bodies[0], email), the_world.contacts) == []


# --- reverse search --------------------------------------------------------------------------

REVERSE = "/domains/reverse_search/entity"
REVERSE_PATTERNS = {"handle": "ZH*", "fn": "Zq*", "email": "zq*", "addr": "Zq*"}


async def reverse_problems(
    service: Service, who: Asking, expect: Expect, roles: tuple[str | None, ...]
) -> list[tuple[Any, ...]]:
    problems: list[tuple[Any, ...]] = []
    for prop, pattern in REVERSE_PATTERNS.items():
        allowed = model.may_search(expect.policy, who.asker, prop, reverse=True)
        for role in roles:
            path = f"{REVERSE}?{prop}={quote(pattern)}"
            if role is not None:
                path += f"&role={role}"
            answer = await search(service, path, who)
            if not allowed:
                body = answer.bodies[0].decode()
                if answer.status != 403 or all_tokens_absent(body, expect.w.contacts):
                    problems.append((who.asker, prop, role, answer.status))
                continue
            if answer.status != 200:
                problems.append((who.asker, prop, role, answer.status))
                continue
            found = check_domain_results(answer, who, expect)
            want = expect.reverse(prop, pattern, role, who.asker)
            if set(found) != want or len(found) != len(want):
                problems.append(
                    (who.asker, prop, role, sorted(set(found) - want), sorted(want - set(found)))
                )
    return problems


async def test_reverse_search_is_allowed_only_where_the_model_grants_it(
    service: Service, expect: Expect
) -> None:
    """GIVEN every requester and every reverse search property, with and without a role
    WHEN it reverse-searches by a prefix every contact's value has THEN it is refused (403,
    no contact data) wherever the model's policy does not grant it, and otherwise finds
    exactly the domains of the contacts the model says may match, each the model's lookup.

    Mutations that fail this: core/searcher.py Searcher.search refusing only the public
    (`if request.reverse and requester.is_anonymous:`); the `not all(view.shows(f) ...)`
    guard of Searcher._contact_hit removed."""
    problems: list[tuple[Any, ...]] = []
    for who in service.askers:
        problems += await reverse_problems(service, who, expect, (None, *model.ROLES))
    assert problems == []


async def test_reverse_search_for_each_value(
    service: Service, the_world: world.World, expect: Expect
) -> None:
    """GIVEN every contact's email, handle and address WHEN the highest tier reverse-searches
    each exactly THEN it finds exactly the contact's domains the model says."""
    (staff,) = [who for who in service.askers if who.asker.tier == "registry-staff"]
    problems: list[tuple[Any, ...]] = []
    for contact in the_world.contacts.values():
        for prop in ("email", "handle", "addr"):
            value = world.search_value(contact, prop)
            if value is None:
                continue
            answer = await search(service, f"{REVERSE}?{prop}={quote(value)}", staff)
            found = set(check_domain_results(answer, staff, expect, echo=value))
            want = expect.reverse(prop, value, None, staff.asker)
            if found != want:
                problems.append((contact.handle, prop, sorted(found ^ want)))
    assert problems == []


# --- random worlds and policies --------------------------------------------------------------


def askers_for(tables: dict[str, Any], c: world.Seeded) -> list[model.Asker]:
    """The public, and each tier of the policy with two purposes (often one it has no grants
    for)."""
    out = [model.PUBLIC]
    for tier in world.tier_names(tables):
        purposes = {c.choice(world.PURPOSES[:4]), c.choice(world.PURPOSES)}
        out += [model.Asker(tier, p) for p in sorted(purposes)]
    return out


def credentials_for(data_dir: Path, askers: list[model.Asker]) -> list[Asking]:
    disclosures.set_up(data_dir)
    now = dt.datetime.now(dt.UTC)
    out = []
    for asker in askers:
        if asker.tier is None or asker.purpose is None:
            out.append(Asking(asker, {}, ""))
            continue
        cred, token = credentials.issue(asker.tier, "Oracle Org", (asker.purpose,), now)
        CredentialStore(data_dir).add(cred)
        out.append(Asking(asker, {"Authorization": f"Bearer {token}"}, ""))
    return out


@pytest.mark.parametrize("seed", [3, 5, 8])
async def test_searches_over_random_worlds_and_policies(
    seed: int, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    """GIVEN a random registry and a random policy (sections, tiers with partial grants and
    random `search` / `reverse_search` lists, or the built-in tiers) WHEN each of its
    requesters runs the prefix entity searches, the reverse searches and a domain search over
    every domain THEN every answer is the model's."""
    c = world.Seeded(seed)
    tables = world.policy_tables(c)
    w = world.build_world(seed, n_random=15)
    path = tmp_path / "replica.sqlite"
    world.write(w, path)
    product = product_policy.from_mapping(tables, "random policy")
    expect = Expect(w, model.from_mapping(tables))
    store = await open_store(path, pool_size=2)
    try:
        data_dir = tmp_path / "access"
        askers = credentials_for(data_dir, askers_for(tables, c))
        app = make_app(
            Lookup(store, product),
            RdapConfig(base_url=BASE, port43=None),
            build(AuthSettings(data_dir=data_dir), product),
            searcher=Searcher(store, product, SETTINGS),
        )
        service = Service(await aiohttp_client(app), askers)
        problems: list[tuple[Any, ...]] = []
        for who in askers:
            problems += await entity_prefix_problems(service, who, expect)
            problems += await reverse_problems(service, who, expect, (None, "technical"))
            answer = await search(service, "/domains?nsLdhName=ns1.oracle-dns.example", who)
            assert sorted(check_domain_results(answer, who, expect)) == sorted(expect.by_name)
        assert problems == [], tables
    finally:
        await store.close()


async def test_a_name_the_public_never_sees_needs_a_search_grant(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    """GIVEN a natural person who consented to publish their name but is only ever the
    administrative contact of a .org domain (the public's answer withholds that contact
    whole: the public never sees the name) WHEN a registrar, which sees every field for
    domainNameControl but has no search grant, searches entities by that name THEN the model
    says nothing matches (docs/search.md: a value seen only by authorization matches only
    under a search grant); law enforcement, which holds the grant, finds it; and the
    registrar's lookup by handle records the name, state/province and country it was shown.

    Failed before the stores' References told the engine which domains hold a contact only
    as an ICANN-profile admin or billing contact (DomainContext.side_only): the name counted
    as public there. Mutation that fails it: replica/store.py reference_contexts setting
    `side_only=False`."""
    c = world.Seeded(1)
    tokens = world.Tokens()
    natural: dict[str, Any] = {
        "kind": PersonKind.NATURAL,
        "at_risk": False,
        "disclose_no": frozenset(),
    }
    admin = world.contact(c, tokens, **natural, disclose_yes=frozenset({"name"}))
    registrant = world.contact(c, tokens, **natural, disclose_yes=frozenset())
    org = world.TLDS[0]
    rec = world.record(
        c, tokens, "consenting-admin.org", org, {"registrant": registrant, "administrative": admin}
    )
    rec = replace(rec, domain=replace(rec.domain, statuses=("ok",), rgp_statuses=()))
    w = world.World([rec], {k.handle: k for k in (registrant, admin)}, [])
    path = tmp_path / "replica.sqlite"
    world.write(w, path)
    product = product_policy.default_policy()
    expect = Expect(w, model.PolicyModel())
    store = await open_store(path, pool_size=1)
    try:
        data_dir = tmp_path / "access"
        askers = credentials_for(
            data_dir,
            [
                model.PUBLIC,
                model.Asker("law-enforcement", "criminalInvestigationAndDNSAbuse"),
                model.Asker("registrar", "domainNameControl"),
            ],
        )
        app = make_app(
            Lookup(store, product),
            RdapConfig(base_url=BASE, port43=None),
            build(AuthSettings(data_dir=data_dir), product),
            searcher=Searcher(store, product, SETTINGS),
        )
        service = Service(await aiohttp_client(app), askers)
        name = admin.postal[0].name
        for who in askers:
            answer = await search(service, f"/entities?fn={quote(name)}", who)
            want = expect.entities("fn", name, who.asker)
            assert want == ({admin.handle} if who.asker.tier == "law-enforcement" else set())
            assert entity_problems(answer, who, expect, want, echo=name) == [], who.asker
        registrar = askers[-1]
        before = len(list(disclosures.records(data_dir)))
        answer = await search(service, f"/entity/{admin.handle}", registrar)
        assert answer.status == 200
        (record,) = list(disclosures.records(data_dir))[before:]
        assert {"Contact Name", "Contact State/Province", "Contact Country"} <= set(
            record["fields"]
        )
    finally:
        await store.close()


def test_the_world_holds_the_search_cases(the_world: world.World, expect: Expect) -> None:
    # The tests above prove something only if the model's answers differ between requesters
    # and properties: contacts a search grant finds and the public does not, contacts the
    # public finds, contacts nobody but the highest tier finds.
    public = expect.entities("fn", "Zq*", model.PUBLIC)
    staff = expect.entities("fn", "Zq*", model.Asker("registry-staff", "dnsTransparency"))
    registrar = expect.entities("fn", "Zq*", model.Asker("registrar", "domainNameControl"))
    le = expect.entities(
        "fn", "Zq*", model.Asker("law-enforcement", "regulatoryAndContractEnforcement")
    )
    assert public and public < registrar < staff and public < le < staff
    assert expect.entities("handle", "ZH*", model.PUBLIC)
    assert any(
        len(p.postal) == 1 and p.postal[0].type == "loc" for p in the_world.contacts.values()
    )
    assert expect.entities("fn", "zqلوك*", model.PUBLIC)
