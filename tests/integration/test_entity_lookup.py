"""RDAP /entity/HANDLE on a real replica file against the domain answers referencing the
contact (issue 11, item 1): GIVEN a replica built from the factories, WHEN the contact is
asked for by handle, THEN the answer shows nothing any of its domains' answers withholds
from the same requester, and a withheld handle gets the same 404 as an unknown one."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.fields import Field
from redaction.policy import Requester, default_policy
from registry.errors import NotFound
from registry.model import ContactRole, DomainRecord, PersonKind, Tld, TldKind
from replica.store import CONTACT_SQL, REFERENCES_SQL, SqliteStore, open_store
from tests.conftest import make_contact, make_record, write_replica

Client = TestClient[Any, Any]
BASE = "https://rdap.registry.example/"
ORG = Tld("org", TldKind.GTLD, "org", "ORG")
CX = Tld("cx", TldKind.CCTLD, "cx", "CX")
F = Field

JOURNO = make_contact(handle="JRN-1", registrar="R9999", roid="CJRN1-ORG", at_risk=True)
ADMIN = make_contact(
    handle="ADM-1", registrar="R9999", roid="CADM1-ORG"
)  # natural person, not marked at risk
LEGAL = make_contact(
    handle="ORG-1", registrar="R9999", roid="CORG1-ORG", kind=PersonKind.LEGAL, verified=True
)
PENDING = make_contact(
    handle="PND-1", registrar="R9999", roid="CPND1-ORG", kind=PersonKind.LEGAL, verified=True
)
ROLE = make_contact(
    handle="ROLE-1", registrar="R9999", roid="CROLE1-ORG", kind=PersonKind.LEGAL, verified=True
)
ORPHAN = make_contact(
    handle="ORPHAN-1", registrar="R9999", roid="CORPH1-ORG", kind=PersonKind.LEGAL, verified=True
)


def with_role(record: DomainRecord, role: ContactRole, contact: Any) -> DomainRecord:
    return replace(record, contacts=(*record.contacts, (role, contact)))


def _record(name: str, registrant: Any, tld: Tld = ORG, **kw: Any) -> DomainRecord:
    record = make_record(registrant, tld=tld, name=name, **kw)
    return replace(record, domain=replace(record.domain, roid=f"D-{name}"))


RECORDS = [
    with_role(_record("risky.org", JOURNO), ContactRole.ADMIN, ADMIN),
    _record("plain.org", LEGAL),
    _record("plain.cx", LEGAL, tld=CX),
    _record("gone.org", PENDING, statuses=("pendingDelete",)),
    *(with_role(_record(f"r{i}.org", LEGAL), ContactRole.TECH, ROLE) for i in range(5)),
]
#: The cx section publishes a verified organisation's handle and country only.
POLICY = replace(
    default_policy(),
    sections={
        "cx": replace(
            default_policy().default, name="cx", publish_legal=frozenset({F.HANDLE, F.CC})
        )
    },
)
LAW = ("law-enforcement", "criminalInvestigationAndDNSAbuse")
REGISTRAR = ("registrar", "domainNameControl")
STAFF = ("registry-staff", "dnsTransparency")


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_replica(tmp_path_factory.mktemp("entity") / "r.sqlite", RECORDS, [ORPHAN])


@pytest.fixture
async def store(replica: Path) -> AsyncIterator[SqliteStore]:
    s = await open_store(replica, pool_size=1)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def client(
    store: SqliteStore, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Client:
    access = build(AuthSettings(data_dir=tmp_path / "data"), POLICY)
    app = make_app(Lookup(store, POLICY), RdapConfig(base_url=BASE, port43=None), access)
    client: Client = await aiohttp_client(app)
    return client


@pytest.fixture
def token(tmp_path: Path) -> Callable[[str, str], dict[str, str]]:
    def issue(tier: str, purpose: str) -> dict[str, str]:
        return _issue(tmp_path / "data", tier, purpose)

    return issue


Token = Callable[[str, str], dict[str, str]]


def _issue(data_dir: Path, tier: str, purpose: str) -> dict[str, str]:
    credentials.ensure_dir(data_dir)
    cred, secret = credentials.issue(tier, "Example Org", (purpose,), dt.datetime.now(dt.UTC))
    CredentialStore(data_dir).add(cred)
    return {"Authorization": f"Bearer {secret}"}


async def fetch(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    async with client.get(path, headers=headers or {}) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def vcard(entity: dict[str, Any]) -> dict[str, Any]:
    return {p[0]: p for p in entity["vcardArray"][1]}


# --- the issue's reproductions over HTTP ---------------------------------------------------


@pytest.mark.parametrize("who", [None, REGISTRAR, LAW])
async def test_at_risk_registrants_admin_is_not_confirmed(
    client: Client, token: Token, who: tuple[str, str] | None
) -> None:
    headers = token(*who) if who else None
    status, _, body = await fetch(client, "/domain/risky.org", headers)
    assert status == 200 and b"ADM-1" not in body and b"Quinn" not in body
    status, _, body = await fetch(client, "/entity/ADM-1", headers)
    assert status == 404
    assert body == (await fetch(client, "/entity/ADM-9", headers))[2].replace(b"ADM-9", b"ADM-1")


async def test_at_risk_registrants_admin_for_the_highest_tier(client: Client, token: Token) -> None:
    status, _, body = await fetch(client, "/entity/ADM-1", token(*STAFF))
    assert status == 200
    doc = orjson.loads(body)
    assert doc["handle"] == "ADM-1" and vcard(doc)["fn"][3] == "Quinn Testperson"


async def test_tld_section_publishing_less_than_the_default(client: Client) -> None:
    status, _, body = await fetch(client, "/entity/ORG-1")
    assert status == 200
    doc = orjson.loads(body)
    card = vcard(doc)
    # plain.cx publishes only the handle and the country: so does the answer by handle.
    assert "org" not in card and card["adr"][1] == {"cc": "GB"}
    assert card["adr"][3][2:6] == ["", "", "", ""]
    assert "tel" not in card
    _, _, cx = await fetch(client, "/domain/plain.cx")
    assert b"Testing Widgets" not in cx and b"Testing Widgets" not in body


async def test_pending_delete_domains_contact(client: Client, token: Token) -> None:
    _, _, body = await fetch(client, "/domain/gone.org")
    assert b"PND-1" not in body and b'"cc"' not in body
    status, _, _ = await fetch(client, "/entity/PND-1")
    assert status == 404
    status, _, body = await fetch(client, "/entity/PND-1", token(*LAW))
    assert status == 200 and b"Quinn Testperson" in body


async def test_answers_keep_the_stored_handle_and_record_it(
    client: Client, token: Token, tmp_path: Path
) -> None:
    # Asked in lower case (as some clients ask everything): the stored case is answered and
    # recorded in the disclosure log.
    status, _, body = await fetch(client, "/entity/role-1", token(*LAW))
    assert status == 200 and orjson.loads(body)["handle"] == "ROLE-1"
    [record] = list(disclosures.records(tmp_path / "data"))
    assert record["object"] == "entity/ROLE-1" and "Contact Name" in record["fields"]


async def test_unreferenced_legal_person(client: Client) -> None:
    status, _, body = await fetch(client, "/entity/ORPHAN-1")
    assert status == 200
    # Decided under every served section at once: cx's handle and country only.
    card = vcard(orjson.loads(body))
    assert "org" not in card and card["adr"][1] == {"cc": "GB"}


# --- the store's side: contexts, the cap, the indexes --------------------------------------


async def test_contexts_of_the_referencing_domains(store: SqliteStore) -> None:
    record = await store.contact("ORG-1")
    assert record is not None and record.references.complete
    assert {(c.section, c.pending_delete) for c in record.references.contexts} == {
        ("org", False),
        ("cx", False),
    }
    assert record.registrar_url == "https://www.testing-registrar.example"
    admin = await store.contact("ADM-1")
    assert admin is not None
    assert [c.registrant_at_risk for c in admin.references.contexts] == [True]
    orphan = await store.contact("ORPHAN-1")
    assert orphan is not None and orphan.references.contexts == frozenset()


async def test_reference_cap(store: SqliteStore) -> None:
    # ROLE-1 is the technical contact of five domains.
    assert (await store.contact("ROLE-1", reference_cap=5)).references.complete  # type: ignore[union-attr]
    capped = await store.contact("ROLE-1", reference_cap=4)
    assert capped is not None and not capped.references.complete
    assert capped.references.contexts == frozenset()  # past the cap nothing more is read
    # Past the cap the answer is decided as if one unread domain were at risk.
    lookup = Lookup(store, POLICY, reference_cap=4)
    with pytest.raises(NotFound):
        await lookup.contact("ROLE-1", Requester(*LAW))


TABLES = {"domain", "domain_contact", "contact", "registrar", "d", "r", "c", "g"}


def test_lookup_by_handle_uses_indexes_only(replica: Path) -> None:
    conn = sqlite3.connect(replica)
    try:
        for sql, args in ((CONTACT_SQL, ("ROLE-1",)), (REFERENCES_SQL, ("ROLE-1", 1001))):
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            # Scans of the CTEs and subqueries are of the capped rows; no table is scanned.
            scans = [p for p in plan if p.startswith("SCAN") and p.split()[1] in TABLES]
            assert scans == [], plan
            assert any("domain_registrant" in p for p in plan) or sql is CONTACT_SQL
            assert any("domain_contact_contact" in p for p in plan) or sql is CONTACT_SQL
    finally:
        conn.close()


async def test_every_contact_against_its_domains(store: SqliteStore) -> None:
    lookup = Lookup(store, POLICY)
    requesters = [Requester.anonymous(), Requester(*REGISTRAR), Requester(*LAW), Requester(*STAFF)]
    for record in RECORDS:
        for requester in requesters:
            rd = await lookup.domain(_name(record), requester)
            for view in rd.contacts:
                try:
                    found = await lookup.contact(view.contact.handle, requester)
                except NotFound:
                    continue
                assert view.shows(F.HANDLE)
                assert {f for f in Field if found.view.shows(f)} <= {
                    f for f in Field if view.shows(f)
                }


def _name(record: DomainRecord) -> Any:
    from registry import names

    return names.from_text(record.domain.name)
