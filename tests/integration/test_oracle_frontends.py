"""The privacy oracle, end to end: a generated registry in a real SQLite replica, served by the
real RDAP app (with real credentials and disclosure log) and the real WHOIS server, every
answer compared with the reference model of docs/policy.md (tests/oracle/model.py) — never
with the engine's own decisions.

Requesters: the public, and six credentials (tiers with partial and full grants, one with
two purposes that names its purpose with `?purpose=`). Surfaces: domain answers (RDAP for
every requester, WHOIS for the public, the country included), nameserver and registrar
answers, error bodies (404, 400, 401, 403 and the fail-closed 503), the HTTP answer cache
across requesters, and `/entity/HANDLE` under the rule of issue 11 item 1 (docs/policy.md,
"Contacts looked up by handle").

Every front-end test runs twice: rendering every lookup, and with the replica's stored
answers (`rdds answers`) serving anonymous domain lookups. RDAP is served as `rdds serve`
serves it (`rdap.server.serve`), so cache hits and stored answers written from the requests'
bytes (`rdap.wire`) face the model as well. Mutations: the answers builder rendering for a
full-grant tier instead of the anonymous requester fails the stored runs; `rdap.wire`
reading a head with `Authorization` (the public's cached answer to a credential) fails the
cache and domain tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.server import bind, bound_port, make_app, serve
from rdap.settings import RdapConfig
from rdap.state import CACHE
from rdds import answers as rdds_answers
from rdds import config as rdds_config
from redaction import policy as product_policy
from registry.model import Contact
from replica.store import SqliteStore, open_store
from tests.oracle import model, observe, world
from web.settings import WebSettings
from whois43 import server as whois_server
from whois43.settings import WhoisSettings

Client = TestClient[Any, Any]
BASE = "https://rdap.registry.example/"
SEED = 11

POLICY = """
[default]
publish_natural = ["sp", "cc"]
email_contact_form = "https://registry.example/contact?domain={domain}&role={role}"

[tld.gs]                      # publishes less than the default
publish_natural = ["cc"]
pending_delete = "normal"

[tld.cx]                      # the deposit's data collection policy publishes (world.TLDS)
disclose_default = "replica"

[tld.coop]
publish_legal_verified = ["handle", "org", "cc"]

[tiers.researcher]
rank = 5
search = ["fn"]               # granted, but the tier sees no name: it matches public ones only
reverse_search = ["addr"]
[tiers.researcher.purposes]
academicPublicInterestDNSResearch = ["sp", "cc", "org"]

[tiers.registrar]
rank = 10
[tiers.registrar.purposes]
domainNameControl = ["*"]
technicalIssueResolution = ["handle", "name", "voice", "email"]

[tiers.law-enforcement]
rank = 20
search = ["fn", "handle"]
reverse_search = ["handle", "email"]
[tiers.law-enforcement.purposes]
criminalInvestigationAndDNSAbuse = ["*"]
regulatoryAndContractEnforcement = ["handle", "name", "org", "email", "voice"]

[tiers.registry-staff]
rank = 30
search = ["*"]
reverse_search = ["*"]
[tiers.registry-staff.purposes]
"*" = ["*"]
"""

#: (tier, purposes on the credential, purpose named with ?purpose=).
CREDENTIALS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("researcher", ("academicPublicInterestDNSResearch",), None),
    ("registrar", ("technicalIssueResolution",), None),
    ("registrar", ("domainNameControl",), None),
    ("law-enforcement", ("regulatoryAndContractEnforcement",), None),
    (
        "law-enforcement",
        ("criminalInvestigationAndDNSAbuse", "regulatoryAndContractEnforcement"),
        "criminalInvestigationAndDNSAbuse",
    ),
    # A purpose this tier has no grants for: it sees what the public sees, and its search
    # grants do not apply.
    ("law-enforcement", ("legalActions",), None),
    ("registry-staff", ("dnsTransparency",), None),  # the highest tier: last
)


@dataclass(frozen=True)
class Asking:
    """One requester: what the model calls it, and how to send it."""

    asker: model.Asker
    headers: dict[str, str]
    query: str  # "" or "?purpose=..."

    @property
    def anonymous(self) -> bool:
        return self.asker.tier is None


@pytest.fixture(scope="module")
def the_world() -> world.World:
    return world.build_world(SEED)


@pytest.fixture(scope="module")
def replica(the_world: world.World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oracle") / "replica.sqlite"
    world.write(the_world, path)
    return path


REFERENCE = model.parse(POLICY)
PRODUCT = product_policy.parse(POLICY, "oracle policy")
PORT43 = "whois.registry.example"
#: The serving settings the stored answers are made under (`rdds answers`): this policy on
#: this base URL. The front-ends are run twice: rendering every lookup, and answering
#: anonymous domain lookups from stored answers.
SETTINGS = dataclasses.replace(
    rdds_config.parse(f'[rdap]\nbase_url = "{BASE}"\nport43 = "{PORT43}"\n{POLICY}', "oracle"),
    web=WebSettings(enabled=False),
)
ANSWERS = ("live", "stored")


@pytest.fixture(scope="module")
def stored_replica(replica: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oracle-stored") / "replica.sqlite"
    shutil.copyfile(replica, path)
    result = rdds_answers.build(path, SETTINGS)
    assert result.rendered > 0 and result.skipped == 0
    return path


def lookup_for(request: pytest.FixtureRequest, store: SqliteStore) -> Lookup:
    if request.param == "live":
        return Lookup(store, PRODUCT)
    assert SETTINGS.policy == PRODUCT
    return Lookup(
        store,
        PRODUCT,
        answers_digest=rdds_answers.digest(SETTINGS),
        answers_origin=BASE.rstrip("/"),
    )


def replica_for(request: pytest.FixtureRequest) -> Path:
    name = "replica" if request.param == "live" else "stored_replica"
    path: Path = request.getfixturevalue(name)
    return path


def issue(data_dir: Path) -> list[Asking]:
    disclosures.set_up(data_dir)  # starts the chain: the anchor vouches for an empty log
    out = [Asking(model.PUBLIC, {}, "")]
    now = dt.datetime.now(dt.UTC)
    for tier, purposes, named in CREDENTIALS:
        cred, token = credentials.issue(tier, "Oracle Org", purposes, now)
        CredentialStore(data_dir).add(cred)
        purpose = named or purposes[0]
        out.append(
            Asking(
                model.Asker(tier, purpose),
                {"Authorization": f"Bearer {token}"},
                f"?purpose={named}" if named else "",
            )
        )
    return out


@dataclass
class Service:
    client: aiohttp.ClientSession
    app: web.Application
    askers: list[Asking]
    store: SqliteStore
    data_dir: Path

    async def get(self, path: str, who: Asking) -> tuple[int, dict[str, str], bytes]:
        async with self.client.get(path + who.query, headers=who.headers) as resp:
            return resp.status, dict(resp.headers), await resp.read()


@pytest.fixture(params=ANSWERS)
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """The RDAP app served as `rdds serve` serves it (`rdap.server.serve`, on loopback): its
    connection handler answers cache hits and stored answers from the requests' bytes, so
    those answers face the model too."""
    store = await open_store(replica_for(request), pool_size=2)
    data_dir = tmp_path / "access"
    askers = issue(data_dir)
    access = build(AuthSettings(data_dir=data_dir), PRODUCT)
    lookup = lookup_for(request, store)
    assert lookup.precomputed_ready() == (request.param == "stored")
    app = make_app(lookup, RdapConfig(base_url=BASE, port43=PORT43), access)
    sockets = bind("127.0.0.1", 0)
    runner = await serve(app, sockets)
    client = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{bound_port(sockets)}")
    try:
        yield Service(client, app, askers, store, data_dir)
    finally:
        await client.close()
        await runner.cleanup()
        await store.close()


def all_tokens_absent(body: str, contacts: dict[str, Contact]) -> list[tuple[str, str, str]]:
    """(handle, field, value) of any contact value that appears in `body`."""
    return [
        (handle, f, v)
        for handle, contact in contacts.items()
        for f, v in observe.leaks(body, contact, model.FIELDS)
    ]


def check_domain(record: Any, decisions: dict[str, model.Decision], doc: dict[str, Any]) -> None:
    body = orjson.dumps(doc).decode()
    roles = world.roles_of(record)
    for role, contact in roles.items():
        want = decisions[role]
        entities = observe.rdap_entities(doc, role)
        if want.omitted:
            assert entities == [], (record.domain.name, role)
            continue
        (entity,) = entities
        got = observe.rdap_shown(entity, contact)
        assert got == want.shown, (record.domain.name, role, sorted(got ^ want.shown))
    for contact in {k.handle: k for k in roles.values()}.values():
        seen = frozenset().union(*(decisions[r].shown for r, k in roles.items() if k is contact))
        withheld = observe.person(contact).present - seen
        assert observe.leaks(body, contact, withheld) == [], record.domain.name


# --- domain answers ------------------------------------------------------------------------


async def test_rdap_domain_answers_match_the_model(
    service: Service, the_world: world.World
) -> None:
    """GIVEN the generated registry and every requester WHEN each domain is looked up THEN each
    role shows exactly the model's fields, withheld-whole roles are absent, and no withheld
    value appears anywhere in the body.

    Mutation that fails this: core/lookup.py Lookup.domain redacting for
    `Requester.anonymous()` instead of the requester (authorized grants lost)."""
    for who in service.askers:
        for record in the_world.records:
            status, headers, body = await service.get(f"/domain/{record.domain.name}", who)
            assert status == 200, (who.asker, record.domain.name, body[:200])
            decisions = world.expected(record, REFERENCE, who.asker)
            check_domain(record, decisions, orjson.loads(body))
            if not who.anonymous:
                assert headers["Cache-Control"] == "private, no-store"
    disclosed = len(list(disclosures.records(service.data_dir)))
    assert disclosed > len(the_world.records)  # authorized answers really disclosed things


def disclosed_labels(
    record: Any, mine: dict[str, model.Decision], public: dict[str, model.Decision]
) -> set[str]:
    """docs/policy.md rule 6: the fields an authorized answer shows that the public's answer
    withholds (a contact the public's answer withholds whole: every field shown)."""
    out = set()
    for role in world.roles_of(record):
        if mine[role].omitted:
            continue
        seen = frozenset() if public[role].omitted else public[role].shown
        out |= {observe.label(role, f) for f in mine[role].shown - seen}
    return out


async def test_disclosure_records_name_what_the_model_says_was_disclosed(
    service: Service, the_world: world.World
) -> None:
    """GIVEN every authorized requester WHEN it looks up each domain THEN the disclosure
    record written for the answer names exactly the fields the model says it saw and the
    public's answer withholds (no record when there are none).

    Failed before redaction/engine.py redact_domain counted a gTLD admin or billing contact
    that the public's answer withholds whole: the registrar's record left out that contact's
    State/Province and Country. Mutation that fails it: the `Field.HANDLE in v.disclosed`
    branch of redact_domain removed."""
    problems = []
    for who in service.askers[1:]:
        for record in the_world.records:
            before = len(list(disclosures.records(service.data_dir)))
            status, _, _ = await service.get(f"/domain/{record.domain.name}", who)
            assert status == 200
            new = list(disclosures.records(service.data_dir))[before:]
            want = disclosed_labels(
                record,
                world.expected(record, REFERENCE, who.asker),
                world.expected(record, REFERENCE, model.PUBLIC),
            )
            got = set(new[0]["fields"]) if new else set()
            if len(new) > 1 or got != want:
                problems.append((who.asker, record.domain.name, sorted(got ^ want)))
    assert problems == []


async def ask_whois(port: int, line: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.read(), 10)).decode()
    finally:
        writer.close()


@pytest.fixture(params=ANSWERS)
async def whois(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    store = await open_store(replica_for(request), pool_size=2)
    settings = WhoisSettings(port=0, rate_per_second=1000.0, rate_burst=1000)
    lookup = lookup_for(request, store)
    assert lookup.precomputed_ready() == (request.param == "stored")
    server = await whois_server.start(lookup, settings, "127.0.0.1")
    try:
        yield server.port
    finally:
        await server.close()
        await store.close()


async def test_whois_domain_answers_match_the_model(whois: int, the_world: world.World) -> None:
    """GIVEN the generated registry WHEN each domain is asked on port 43 THEN each role's block
    shows exactly the model's fields for the public (the Country line included) and no
    withheld value appears in the text.

    Mutation that fails this: whois43/render.py _contact printing a withheld field's stored
    value instead of REDACTED FOR PRIVACY."""
    for record in the_world.records:
        text = await ask_whois(whois, record.domain.name)
        decisions = world.expected(record, REFERENCE, model.PUBLIC)
        roles = world.roles_of(record)
        for role, contact in roles.items():
            got = observe.whois_shown(text, role, contact)
            assert got == decisions[role].shown, (record.domain.name, role)
        for contact in {k.handle: k for k in roles.values()}.values():
            seen = frozenset().union(
                *(decisions[r].shown for r, k in roles.items() if k is contact)
            )
            withheld = observe.person(contact).present - seen
            assert observe.leaks(text, contact, withheld) == [], record.domain.name


# --- answers that hold no contact ----------------------------------------------------------


async def test_nameserver_and_registrar_answers_hold_no_contact_data(
    service: Service, whois: int, the_world: world.World
) -> None:
    paths = [f"/nameserver/{h.name}" for h in the_world.hosts] + ["/entity/9999"]
    for who in service.askers:
        for path in paths:
            status, _, body = await service.get(path, who)
            assert status == 200, path
            assert all_tokens_absent(body.decode(), the_world.contacts) == [], path
    for line in ("nameserver ns1.company.org", "nameserver 192.0.2.53", "registrar 9999"):
        text = await ask_whois(whois, line)
        assert "Oracle Registrar Ltd" in text or "ns1.company.org" in text
        assert all_tokens_absent(text, the_world.contacts) == [], line


async def test_error_bodies_hold_no_contact_data(
    service: Service,
    whois: int,
    the_world: world.World,
    replica: Path,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    """Every error answer: 404, 400, 401, 403, and the fail-closed 503 of an authorized
    answer whose disclosure cannot be recorded (the log path is a directory)."""
    anonymous, staff = service.askers[0], service.askers[-1]
    bodies: list[tuple[int, bytes]] = []
    for path in ("/domain/nosuch.org", "/domain/bad..name", "/entity/NO-SUCH-1", "/ip/192.0.2.1"):
        status, _, body = await service.get(path, anonymous)
        bodies.append((status, body))
    name = the_world.records[0].domain.name
    bad_token = Asking(staff.asker, {"Authorization": "Bearer rdds_not_a_token"}, "")
    bodies.append((await service.get(f"/domain/{name}", bad_token))[::2])
    wrong_purpose = Asking(staff.asker, staff.headers, "?purpose=legalActions")
    bodies.append((await service.get(f"/domain/{name}", wrong_purpose))[::2])

    broken = tmp_path / "broken"
    askers = issue(broken)
    (broken / disclosures.LOG).mkdir()
    app = make_app(
        Lookup(service.store, PRODUCT),
        RdapConfig(base_url=BASE, port43=None),
        build(AuthSettings(data_dir=broken), PRODUCT),
    )
    client = await aiohttp_client(app)
    for record in the_world.records:
        async with client.get(f"/domain/{record.domain.name}", headers=askers[-1].headers) as r:
            body = await r.read()
            if r.status == 200:
                # Nothing to record means nothing withheld was shown: the public's answer.
                public = world.expected(record, REFERENCE, model.PUBLIC)
                check_domain(record, public, orjson.loads(body))
            else:
                bodies.append((r.status, body))
    statuses = [status for status, _ in bodies]
    assert {404, 400, 401, 403, 501, 503} == set(statuses)
    assert statuses.count(503) > len(the_world.records) // 2
    for status, body in bodies:
        assert orjson.loads(body)["errorCode"] == status
        assert all_tokens_absent(body.decode(), the_world.contacts) == [], status
    for line in ("nosuch.org", "bad..name", "-x foo"):
        text = await ask_whois(whois, line)
        assert all_tokens_absent(text, the_world.contacts) == [], line


# --- the answer cache across requesters ------------------------------------------------------


async def test_cache_never_crosses_requesters(service: Service, the_world: world.World) -> None:
    """GIVEN one path asked in turn by the public and by each authorized requester, twice
    WHEN the public's answer is cached THEN it is never served to an authorized requester,
    no authorized answer is ever served to the public, and each answer is the model's.

    Mutations that fail this, in rdap/handler.py: authorized requests reading the public's
    cache entry (`if not authorization:` -> `if True:` before `cache.get`); authorized
    answers stored too (`if not authorization: cache.put(...)` -> `cache.put(...)`)."""
    cache = service.app[CACHE]
    for record in the_world.records[:12]:
        path = f"/domain/{record.domain.name}"
        public_bodies = set()
        for _ in range(2):
            for who in service.askers:
                status, headers, body = await service.get(path, who)
                assert status == 200
                check_domain(
                    record, world.expected(record, REFERENCE, who.asker), orjson.loads(body)
                )
                if who.anonymous:
                    public_bodies.add(body)
                    assert headers["Cache-Control"].startswith("public")
                else:
                    assert headers["Cache-Control"] == "private, no-store"
        assert len(public_bodies) == 1
        # The public's answer is in the cache (keyed without a purpose), and nothing else for
        # this path is: authorized requests neither read nor fill it.
        held = cache.keys()
        keys = [k for k in held if k[1] == path]
        assert keys == [(keys[0][0], path)]


# --- /entity/HANDLE: issue 11 item 1 -------------------------------------------------------


def entity_expectation(
    w: world.World, handle: str, asker: model.Asker
) -> tuple[frozenset[str], bool]:
    """The issue 11 rule: fields the entity answer may show, and whether it must be a 404."""
    return world.by_handle(w, handle, REFERENCE, asker)


def _strip_values(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _strip_values(v) for k, v in doc.items() if k != "value"}
    if isinstance(doc, list):
        return [_strip_values(v) for v in doc]
    return doc


async def test_entity_never_shows_what_a_domain_answer_withholds(
    service: Service, the_world: world.World
) -> None:
    """GIVEN every contact and every requester WHEN the contact is looked up by handle
    THEN it shows no field that an answer for any domain referencing it withholds from the
    same requester (and its withheld values appear nowhere in the body).

    Failed on the Lookup.contact of before issue 11 (default section, no domain context);
    mutation that fails it: redaction/engine.py view_contact_by_handle keeping only the last
    context's fields (`allowed &= ...` -> `allowed = ...`)."""
    problems = []
    for who in service.askers:
        for handle, contact in the_world.contacts.items():
            bound, hidden = entity_expectation(the_world, handle, who.asker)
            if hidden:
                continue  # the 404 rule, below
            status, _, body = await service.get(f"/entity/{handle}", who)
            if status != 200:
                problems.append((who.asker, handle, status))
                continue
            shown = observe.rdap_shown(orjson.loads(body), contact)
            withheld = observe.person(contact).present - bound
            if not shown <= bound or observe.leaks(body.decode(), contact, withheld):
                problems.append((who.asker, handle, sorted(shown - bound)))
    assert problems == []


async def test_entity_with_a_withheld_handle_is_not_confirmed(
    service: Service, the_world: world.World
) -> None:
    """GIVEN a contact whose handle a domain answer withholds from the requester WHEN it is
    looked up by handle THEN the answer is the 404 of a handle that does not exist.

    Mutation that fails it: view_contact_by_handle answering although the handle is
    withheld (its `return None` guard disabled)."""
    problems = []
    for who in service.askers:
        _, _, unknown = await service.get("/entity/ZH0-OR", who)
        for handle in the_world.contacts:
            _, hidden = entity_expectation(the_world, handle, who.asker)
            if not hidden:
                continue
            status, _, body = await service.get(f"/entity/{handle}", who)
            same = _strip_values(orjson.loads(body)) == _strip_values(orjson.loads(unknown))
            if status != 404 or not same:
                problems.append((who.asker, handle, status))
    assert problems == []


def test_the_world_holds_the_cases_the_rule_is_about(the_world: world.World) -> None:
    # The entity tests above prove something only if the registry holds these cases.
    refs = world.references(the_world)
    shared_tlds = {h: {rec.tld.name for rec, _ in r} for h, r in refs.items()}
    assert any(len(t) > 1 for t in shared_tlds.values())  # a contact in several TLDs
    atrisk = [r for r in the_world.records if r.registrant and r.registrant.at_risk]
    assert any(
        not k.at_risk
        for r in atrisk
        for role, k in world.roles_of(r).items()
        if role != "registrant"
    )
    assert any("pendingDelete" in r.domain.statuses for r in the_world.records)
    assert any(not r for r in refs.values())  # an unreferenced contact
    assert any(len(p.postal) > 1 for p in the_world.contacts.values())  # int and loc
    kinds = {r.tld.kind.value for r in the_world.records}
    assert kinds == {"gtld", "sponsored", "cctld"}
    roles = {role for r in the_world.records for role in world.roles_of(r)}
    assert roles == set(model.ROLES)
