"""Every `redacted` entry of every showcase answer resolves, with a real RFC 9535 JSONPath
library, to what its method promises (RFC 9537 §4): on the document actually sent, and on
the same answer given to the registry's own staff, which shows what was withheld — so a
mistyped path that matches nothing anywhere fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonpath_rfc9535 as jsonpath
import orjson
import pytest
from aiohttp.test_utils import TestClient

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap import render
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction import engine
from redaction.fields import REGISTERED_NAMES
from redaction.policy import Requester, default_policy
from registry.model import ContactRole, Tld, TldKind
from replica.store import SqliteStore
from tests.conftest import make_contact, make_record
from tests.integration.conftest import BASE, SHOWCASE

Client = TestClient[Any, Any]
PATHS = [f"/domain/{n}" for n in SHOWCASE] + ["/entity/EXCOOP-1"]


async def fetch(client: Client, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    async with client.get(path, headers=headers or {}) as resp:
        assert resp.status == 200
        doc: dict[str, Any] = orjson.loads(await resp.read())
        return doc


@pytest.fixture
async def staff(
    store: SqliteStore, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> tuple[Client, dict[str, str]]:
    """The RDAP app with authorized access, and a registry-staff bearer header (all fields)."""
    data_dir = tmp_path / "access"
    disclosures.set_up(data_dir)  # starts the chain: the anchor vouches for an empty log
    cred, token = credentials.issue(
        "registry-staff", "Registry Ops", ("domainNameControl",), dt.datetime.now(dt.UTC)
    )
    CredentialStore(data_dir).add(cred)
    access = build(AuthSettings(data_dir=data_dir), default_policy())
    app = make_app(Lookup(store, default_policy()), RdapConfig(base_url=BASE, port43=None), access)
    return await aiohttp_client(app), {"Authorization": f"Bearer {token}"}


def values(path: str, doc: dict[str, Any]) -> list[Any]:
    return [node.value for node in jsonpath.find(path, doc)]


STAFF = Requester("registry-staff", "domainNameControl")
ROLES = (ContactRole.REGISTRANT, ContactRole.ADMIN, ContactRole.TECH, ContactRole.BILLING)


def _label(entry: dict[str, Any]) -> str:
    return str(entry["name"].get("type") or entry["name"].get("description"))


def _path(entry: dict[str, Any]) -> str:
    return str(entry.get("postPath") or entry["prePath"])


def _everything_withheld() -> Any:
    """The default policy with nothing published: every field of every contact is declared."""
    base = default_policy()
    return dataclasses.replace(
        base,
        default=dataclasses.replace(
            base.default, publish_natural=frozenset(), publish_legal=frozenset()
        ),
    )


def template_answers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(public, staff) answers for contacts that hold every field: a ccTLD domain with all
    four roles (nothing withheld whole), and a contact rendered as a top-level entity."""
    full_contact = make_contact()
    record = make_record(full_contact, name="sample.cx")
    record = dataclasses.replace(
        record,
        tld=Tld("cx", TldKind.CCTLD, "cx", "CX"),
        contacts=tuple((role, full_contact) for role in ROLES),
    )
    policy = _everything_withheld()
    ctx = render.RenderContext(base_url=BASE, request_url=BASE + "domain/sample.cx")
    public, staff = (
        render.domain(engine.redact_domain(record, who, policy), ctx)
        for who in (Requester.anonymous(), STAFF)
    )
    anonymous_view, staff_view = (
        engine.view_contact(full_contact, None, policy.default, policy, who)
        for who in (Requester.anonymous(), STAFF)
    )
    return [
        (public, staff),
        (
            render.contact(anonymous_view, record.info, ctx),
            render.contact(staff_view, record.info, ctx),
        ),
    ]


def canonical_paths() -> dict[str, str]:
    """Label -> the path the renderer declares it with (each proven, by
    test_every_path_template_selects_its_field, to select the field where it has a value)."""
    return {_label(e): _path(e) for public, _ in template_answers() for e in public["redacted"]}


CANONICAL = canonical_paths()


@pytest.mark.parametrize("path", PATHS)
async def test_each_redaction_matches_its_method(
    rdap: Client, staff: tuple[Client, dict[str, str]], path: str
) -> None:
    # Mutation that fails this: a typo in any path template of rdap/render.py _redaction
    # (e.g. "@.roles[0]" -> "@.role[0]", or 'org' -> 'orgs').
    doc = await fetch(rdap, path)
    full = await fetch(staff[0], path, staff[1])
    assert "redacted" not in full  # the registry's staff see every field
    entries = doc.get("redacted", [])
    # Every showcase answer withholds something from the public under the default policy
    # (consent.org publishes only name and email, verified organisations no person's name).
    assert entries
    names = [e["name"].get("type") or e["name"].get("description") for e in entries]
    assert len(names) == len(set(names)), "one entry per withheld field"
    for entry in entries:
        assert entry["pathLang"] == "jsonpath"
        assert entry["reason"]["description"]
        label = entry["name"].get("type")
        if label is not None:
            assert label in REGISTERED_NAMES
        method = entry["method"]
        if method == "removal":
            assert "postPath" not in entry
            assert values(entry["prePath"], doc) == [], entry
            # ... and it names something real: what the staff answer shows there, or, for a
            # field the contact holds no value for (declared all the same: docs/policy.md),
            # the renderer's own template for that label.
            assert values(entry["prePath"], full) or CANONICAL[_label(entry)] == _path(entry)
        elif method == "emptyValue":
            got = values(entry["postPath"], doc)
            assert got and all(v == "" for v in got), entry
            # The slot exists in the staff answer too (empty where the contact has no value).
            assert values(entry["postPath"], full), entry
        elif method == "replacementValue":
            assert values(entry["prePath"], doc) == [], entry
            assert values(entry["prePath"], full) or CANONICAL[_label(entry)] == _path(entry)
            replaced = values(entry["replacementPath"], doc)
            assert replaced and all(
                v[0] == "contact-uri" and v[3].startswith("http") for v in replaced
            )
        else:
            pytest.fail(f"unexpected method {method}")


@pytest.mark.parametrize("path", PATHS)
async def test_no_vcard_says_redacted_for_privacy(rdap: Client, path: str) -> None:
    doc = await fetch(rdap, path)
    assert b"redacted for privacy" not in orjson.dumps(doc).lower()


async def test_present_fields_have_no_entry(rdap: Client) -> None:
    doc = await fetch(rdap, "/domain/consent.org")
    names = {e["name"].get("type") for e in doc["redacted"]}
    assert "Registrant Name" not in names and "Registrant Email" not in names
    (registrant,) = [e for e in doc["entities"] if e["roles"] == ["registrant"]]
    props = {p[0]: p[3] for p in registrant["vcardArray"][1]}
    assert props["fn"] == "Lena Birchley" and props["email"] == "lena.birchley@mail.example"


async def test_random_gtld_domain_with_admin_contact(rdap: Client, store: Any) -> None:
    import sqlite3

    conn = sqlite3.connect(store.path)
    (name,) = conn.execute(
        "SELECT d.name FROM domain d JOIN domain_contact c ON c.domain = d.name "
        "JOIN contact k ON k.id = c.contact "
        "WHERE c.role = 'administrative' AND d.tld = 'org' AND k.kind = 'natural' LIMIT 1"
    ).fetchone()
    doc = await fetch(rdap, f"/domain/{name}")
    assert not [e for e in doc["entities"] if e.get("roles") == ["administrative"]]
    wanted = "Administrative Contact"
    (entry,) = [e for e in doc["redacted"] if e["name"].get("description") == wanted]
    assert entry["method"] == "removal" and values(entry["prePath"], doc) == []


def test_every_path_template_selects_its_field() -> None:
    """GIVEN contacts that hold every field (a ccTLD domain with all four roles, and a contact
    answered as an entity) and a policy that publishes nothing WHEN rendered for the public
    and for the registry's staff THEN each `redacted` entry of the public answer selects, in
    the staff answer, the withheld value."""
    answers = template_answers()
    domain_entries = answers[0][0]["redacted"]
    assert len(domain_entries) == 4 * 13  # every field, in four roles
    assert len(answers[1][0]["redacted"]) >= 12  # every field of the entity (its handle aside)
    for public, staff in answers:
        assert "redacted" not in staff
        for entry in public["redacted"]:
            assert values(_path(entry), staff), entry
